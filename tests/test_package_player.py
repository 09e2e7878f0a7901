"""The package player's server side (issue 25): the runtime data endpoint (access, validation, attempts),
progress through sco_status_changed, the signed file links and the trainer's report. The browser
journeys are in tests/test_package_player_browser.py."""

from __future__ import annotations

import json
from typing import Any

import pytest
from flask import Flask

from lms.auth.models import Role
from lms.enrolment.models import LessonCompletion
from lms.extensions import db
from lms.packages.runtime import cmi, injection
from lms.packages.runtime.models import PackageAttempt
from tests.enrolment_support import UserClient
from tests.package_support import enrol, package_course

PASSED_12 = {
    "cmi.core.lesson_status": "passed",
    "cmi.core.score.raw": "85",
    "cmi.core.lesson_location": "page-3",
    "cmi.suspend_data": "answers=a,b",
    "cmi.core.exit": "suspend",
    "cmi.core.session_time": "00:02:00",
    "cmi.core.student_id": "forged",  # owned by the LMS: dropped, not stored
    "cmi.objectives": {},
}


def body(
    cmi_data: Any, sequence: int = 1, attempt: int = 1, session: str = "session-one", **extra: Any
) -> dict:
    return {"attempt": attempt, "sequence": sequence, "session": session, "cmi": cmi_data, **extra}


def test_a_commit_stores_the_data_and_a_satisfied_item_completes_its_lesson(
    app: Flask, make_user: Any
) -> None:
    setup = package_course()
    trainee = make_user()
    enrolment = enrol(setup.course, trainee)
    client = UserClient(app, trainee)
    response = client.post(setup.commit_url, json=body(PASSED_12))
    assert response.status_code == 200, response.get_data(as_text=True)
    db.session.rollback()
    attempt = db.session.query(PackageAttempt).one()
    assert (attempt.completion_status, attempt.success_status, attempt.score_raw) == (
        "completed",
        "passed",
        85,
    )
    assert attempt.location == "page-3" and attempt.suspend_data == "answers=a,b"
    assert attempt.total_seconds == 120
    assert "cmi.core.student_id" not in attempt.cmi
    completions = db.session.query(LessonCompletion).filter_by(enrolment_id=enrolment.id).all()
    assert [row.lesson_id for row in completions] == [setup.lesson.id]
    # the same commit again (a retry) and an older one change nothing
    assert (
        client.post(setup.commit_url, json=body({**PASSED_12, "cmi.core.score.raw": "10"})).status_code == 200
    )
    db.session.rollback()
    assert db.session.get(PackageAttempt, attempt.id).score_raw == 85


def test_resume_gives_the_saved_location_and_suspend_data(app: Flask, make_user: Any) -> None:
    setup = package_course()
    trainee = make_user()
    enrol(setup.course, trainee)
    client = UserClient(app, trainee)
    client.post(setup.commit_url, json=body({**PASSED_12, "cmi.core.lesson_status": "incomplete"}))
    page = client.get(setup.play_url)
    assert page.status_code == 200
    frame_src = page.get_data(as_text=True).split('data-src="')[1].split('"')[0]
    package_page = client.get(frame_src.replace("&amp;", "&"))
    html = package_page.get_data(as_text=True)
    assert '"cmi.core.lesson_location":"page-3"' in html
    assert '"cmi.core.entry":"resume"' in html
    assert "scorm12.min.js" in html and "package-bridge.js" in html
    assert package_page.headers["Content-Security-Policy"].startswith("sandbox allow-scripts")


def test_a_finished_attempt_is_kept_and_the_next_opening_starts_a_new_one(app: Flask, make_user: Any) -> None:
    setup = package_course()
    trainee = make_user()
    enrol(setup.course, trainee)
    client = UserClient(app, trainee)
    done = {**PASSED_12, "cmi.core.exit": ""}
    assert client.post(setup.commit_url, json=body(done, terminate=True)).status_code == 200
    assert "Attempt 2" in client.get(setup.play_url).get_data(as_text=True)
    # attempt 3 cannot be skipped to; attempt 2 starts with its first commit
    assert client.post(setup.commit_url, json=body(done, attempt=3, session="session-two")).status_code == 409
    assert client.post(setup.commit_url, json=body(done, attempt=2, session="session-two")).status_code == 200
    db.session.rollback()
    assert [a.number for a in db.session.query(PackageAttempt).order_by(PackageAttempt.number)] == [1, 2]


@pytest.mark.parametrize(
    "data",
    [
        {"cmi.core.lesson_status": "mastered"},
        {"cmi.core.score.raw": "150"},
        {"cmi.suspend_data": "x" * 5000},
        {"cmi.evil": "1"},
        {"cmi.core.lesson_location": 7},
        ["not", "an", "object"],
    ],
)
def test_data_outside_the_model_is_refused_and_nothing_is_stored(
    app: Flask, make_user: Any, data: Any
) -> None:
    setup = package_course()
    trainee = make_user()
    enrol(setup.course, trainee)
    response = UserClient(app, trainee).post(setup.commit_url, json=body(data))
    assert response.status_code == 422
    db.session.rollback()
    assert db.session.query(PackageAttempt).count() == 0


def test_malformed_commits_are_refused(app: Flask, make_user: Any) -> None:
    setup = package_course()
    trainee = make_user()
    enrol(setup.course, trainee)
    client = UserClient(app, trainee)
    assert client.post(setup.commit_url, json=body(PASSED_12, attempt="1")).status_code == 422
    assert client.post(setup.commit_url, json=body(PASSED_12, session="x")).status_code == 422
    assert client.post(setup.commit_url, data="not json").status_code == 422


def test_not_enrolled_another_course_and_another_trainee_are_refused(app: Flask, make_user: Any) -> None:
    setup = package_course()
    other = package_course(slug="other-course")
    owner, outsider, elsewhere = make_user(), make_user(), make_user()
    enrol(setup.course, owner)
    enrol(other.course, elsewhere)
    assert UserClient(app, outsider).post(setup.commit_url, json=body(PASSED_12)).status_code == 403
    assert UserClient(app, elsewhere).post(setup.commit_url, json=body(PASSED_12)).status_code == 403
    assert UserClient(app, outsider).get(setup.play_url).status_code == 302  # to the course page: enrol first
    # a lesson id of another course under this course's slug
    wrong = f"/courses/{setup.course.slug}/lessons/{other.lesson.id}/package-data"
    assert UserClient(app, elsewhere).post(wrong, json=body(PASSED_12)).status_code == 404
    db.session.rollback()
    assert db.session.query(PackageAttempt).count() == 0


def test_package_files_need_a_valid_link_and_stay_inside_the_package(app: Flask, make_user: Any) -> None:
    setup = package_course()
    trainee = make_user()
    enrol(setup.course, trainee)
    page = UserClient(app, trainee).get(setup.play_url).get_data(as_text=True)
    frame_src = page.split('data-src="')[1].split('"')[0]
    anonymous = app.test_client()
    assert anonymous.get(frame_src).status_code == 200  # no cookie needed: the link is the permission
    token = frame_src.split("/")[2]
    assert anonymous.get(f"/package-files/{token}/imsmanifest.xml").status_code == 200
    assert anonymous.get(f"/package-files/{token}/../../secret_key").status_code == 404
    assert anonymous.get(f"/package-files/{token}/%2e%2e/%2e%2e/x").status_code == 404
    assert anonymous.get(f"/package-files/{token[:-2]}xx/index.html").status_code == 404
    app.config["PACKAGE_LINK_SECONDS"] = -1
    try:
        assert anonymous.get(frame_src).status_code == 404  # expired
    finally:
        del app.config["PACKAGE_LINK_SECONDS"]


def test_the_trainers_report_shows_status_score_and_interactions(
    app: Flask, make_user: Any, make_trainer: Any
) -> None:
    setup = package_course()
    trainee = make_user(given_name="Leyla")
    enrolment = enrol(setup.course, trainee)
    with_interaction = {
        **PASSED_12,
        "cmi.interactions.0.id": "q-passport",
        "cmi.interactions.0.result": "wrong",
    }
    UserClient(app, trainee).post(setup.commit_url, json=body(with_interaction))
    db.session.rollback()
    trainer = make_trainer(setup.course)
    stranger = make_trainer()
    url = f"/reports/runs/{enrolment.run_id}/packages"
    page = UserClient(app, trainer).get(url).get_data(as_text=True)
    assert "Leyla" in page and "passed" in page and "85" in page and "q-passport" in page
    assert UserClient(app, stranger).get(url).status_code == 403
    assert UserClient(app, make_user(Role.TRAINEE)).get(url).status_code == 403


def test_scorm_2004_commits_are_checked_with_the_2004_model() -> None:
    checked = cmi.check_commit(
        "2004 4th",
        {"cmi.completion_status": "completed", "cmi.success_status": "failed", "cmi.score.scaled": "0.4",
         "cmi.session_time": "PT1H2M3S", "cmi.entry": "resume"},
    )  # fmt: skip
    assert (checked.completion_status, checked.success_status, checked.satisfied) == (
        "completed",
        "failed",
        False,
    )
    assert checked.session_seconds == 3723 and "cmi.entry" not in checked.elements
    with pytest.raises(cmi.CmiRefused):
        cmi.check_commit("2004 4th", {"cmi.core.lesson_status": "passed"})  # a 1.2 element
    with pytest.raises(cmi.CmiRefused):
        cmi.check_commit("2004 3rd", {"cmi.score.scaled": "1.5"})


def test_launch_data_cannot_end_its_block_in_the_page() -> None:
    block = injection.launch_block(
        {"cmi": {"cmi.suspend_data": "</script><script>alert(1)</script>"}}, ["/s.js"]
    )
    assert b"</script><script>alert" not in block
    assert block.count(b"</script>") == 2  # the data block's and the script's own
    page = injection.inject(b"<!DOCTYPE html><HTML><Head lang='x'><title>t</title></head></HTML>", block)
    assert page.startswith(b"<!DOCTYPE html><HTML><Head lang='x'><script type=\"application/json\"")
    assert injection.inject(b"<p>no head</p>", b"<x>") == b"<x><p>no head</p>"


def test_a_trainee_writes_only_their_own_attempt(app: Flask, make_user: Any) -> None:
    setup = package_course()
    first, second = make_user(), make_user()
    first_enrolment, second_enrolment = enrol(setup.course, first), enrol(setup.course, second)
    UserClient(app, first).post(setup.commit_url, json=body(PASSED_12))
    failed = {**PASSED_12, "cmi.core.lesson_status": "failed", "cmi.core.score.raw": "10"}
    UserClient(app, second).post(setup.commit_url, json=body(failed, sequence=9))
    db.session.rollback()
    rows = {row.enrolment_id: row for row in db.session.query(PackageAttempt)}
    assert rows[first_enrolment.id].score_raw == 85 and rows[second_enrolment.id].score_raw == 10
    completed = {row.enrolment_id for row in db.session.query(LessonCompletion)}
    assert completed == {first_enrolment.id}  # a failed item records nothing


def test_the_frames_final_commit_needs_its_signed_link_and_no_cookie(app: Flask, make_user: Any) -> None:
    setup = package_course()
    trainee = make_user()
    enrol(setup.course, trainee)
    page = UserClient(app, trainee).get(setup.play_url).get_data(as_text=True)
    token = page.split('data-src="')[1].split('"')[0].split("/")[2]
    anonymous = app.test_client()
    final = json.dumps(body(PASSED_12, terminate=True))
    assert anonymous.post(f"/package-beacon/{token[:-2]}xx", data=final).status_code == 400
    response = anonymous.post(f"/package-beacon/{token}", data=final, content_type="text/plain")
    assert response.status_code == 204
    # the same commit through the player page afterwards: applied once
    assert (
        UserClient(app, trainee).post(setup.commit_url, json=body(PASSED_12, terminate=True)).status_code
        == 200
    )
    db.session.rollback()
    attempt = db.session.query(PackageAttempt).one()
    assert attempt.finished_at is None and attempt.exit == "suspend" and attempt.score_raw == 85
    assert attempt.total_seconds == 120
