"""The enrolment pages for trainees, focal points and admins, through the Flask test client."""

from __future__ import annotations

import io
from collections.abc import Callable
from datetime import timedelta

import pytest
from flask import Flask
from sqlalchemy import select

from lms.auth.models import Role, User
from lms.courses.models import Course
from lms.db import utcnow
from lms.enrolment.models import CourseRun, Enrolment, EnrolmentMethod, EnrolmentStatus
from lms.extensions import db
from lms.orgs.models import Authority
from tests.enrolment_support import UserClient, make_course, make_run

S = EnrolmentStatus


@pytest.fixture
def course(app: Flask) -> Course:
    return make_course()


@pytest.fixture
def ua(make_authority: Callable[..., Authority]) -> Authority:
    return make_authority("UA", code="ua-sbgs", name="State Border Guard Service of Ukraine")


@pytest.fixture
def ge(make_authority: Callable[..., Authority]) -> Authority:
    return make_authority("GE", code="ge-bp", name="Border Police of Georgia")


def as_user(app: Flask, user: User) -> UserClient:
    db.session.rollback()
    return UserClient(app, user)


def statuses(run_id: int) -> dict[int, str]:
    db.session.rollback()
    return {
        e.user_id: e.status for e in db.session.scalars(select(Enrolment).where(Enrolment.run_id == run_id))
    }


def test_trainee_sees_the_runs_they_may_join_requests_and_withdraws(app, course, ua, ge, make_user) -> None:
    trainee = make_user(authority=ua)
    for_ukraine = make_run(course, EnrolmentMethod.REQUEST, countries=("UA",), title="Run for Ukraine")
    make_run(course, EnrolmentMethod.REQUEST, countries=("GE",), title="Run for Georgia")
    make_run(
        course,
        EnrolmentMethod.OPEN,
        title="Closed run",
        enrolment_closes_on=utcnow().date() - timedelta(days=1),
    )
    run_id = for_ukraine.id
    client = as_user(app, trainee)
    page = client.get("/runs").get_data(as_text=True)
    assert "Run for Ukraine" in page and "Closed run" in page and "Run for Georgia" not in page
    assert "Enrolment is closed." in page

    detail = client.get(f"/runs/{run_id}").get_data(as_text=True)
    assert "Request a place" in detail
    response = client.post(f"/runs/{run_id}/request", data={"justification": "I train new recruits"})
    assert response.status_code == 302
    assert statuses(run_id) == {trainee.id: S.REQUESTED}
    detail = client.get(f"/runs/{run_id}").get_data(as_text=True)
    assert "Your request waits for an administrator" in detail and "I train new recruits" in detail

    enrolment_id = db.session.scalar(select(Enrolment.id).where(Enrolment.run_id == run_id))
    client.post(f"/enrolments/{enrolment_id}/withdraw", data={"reason": "Changed post"})
    assert statuses(run_id) == {trainee.id: S.WITHDRAWN}
    assert "Withdrawn" in client.get(f"/runs/{run_id}").get_data(as_text=True)


def test_open_run_enrols_then_waiting_list(app, course, make_user) -> None:
    run = make_run(course, EnrolmentMethod.OPEN, seats=1)
    first, second = make_user(), make_user()
    run_id = run.id
    response = as_user(app, first).post(f"/runs/{run_id}/enrol")
    assert response.status_code == 302 and "/lessons/" in response.headers["Location"]
    client = as_user(app, second)
    response = client.post(f"/runs/{run_id}/enrol", follow_redirects=True)
    assert "number 1 on the waiting list" in response.get_data(as_text=True)
    assert statuses(run_id) == {first.id: S.ENROLLED, second.id: S.WAITING}


def test_nomination_only_run_refuses_self_service(app, course, make_user) -> None:
    run = make_run(course, EnrolmentMethod.NOMINATION)
    run_id = run.id
    client = as_user(app, make_user())
    assert "ask your authority’s focal point" in client.get(f"/runs/{run_id}").get_data(as_text=True)
    client.post(f"/runs/{run_id}/enrol")
    client.post(f"/runs/{run_id}/request")
    assert statuses(run_id) == {}


def test_focal_point_nominates_own_staff_only_and_sees_only_their_authority(
    app, course, ua, ge, make_user
) -> None:
    focal = make_user(Role.FOCAL_POINT, authority=ua)
    colleague = make_user(authority=ua, given_name="Olena")
    stranger = make_user(authority=ge, given_name="Nino")
    other_focal = make_user(Role.FOCAL_POINT, authority=ge)
    run = make_run(course, EnrolmentMethod.NOMINATION)
    run_id = run.id
    client = as_user(app, focal)
    page = client.get(f"/authority/runs/{run_id}/nominate").get_data(as_text=True)
    assert colleague.full_name in page and stranger.full_name not in page

    forged = client.post(
        f"/authority/runs/{run_id}/nominate",
        data={"existing-user_ids": [stranger.id], "existing-justification": "x"},
    )
    assert forged.status_code == 422
    assert statuses(run_id) == {}

    response = client.post(
        f"/authority/runs/{run_id}/nominate",
        data={"existing-user_ids": [colleague.id], "existing-justification": "Front line"},
    )
    assert response.status_code == 302
    response = client.post(
        f"/authority/runs/{run_id}/nominate",
        data={
            "new-given_name": "Taras",
            "new-family_name": "Hnatiuk",
            "new-native_name": "Тарас Гнатюк",
            "new-email": "taras.hnatiuk@dpsu.example.org",
            "new-position": "Sergeant",
            "new-sex": "male",
            "new-birth_year_band": "1990-1999",
            "new-authority": str(ua.id),
            "new-justification": "Newly posted to the Chop crossing",
        },
    )
    assert response.status_code == 302, response.get_data(as_text=True)
    db.session.rollback()
    taras = db.session.scalar(select(User).where(User.email == "taras.hnatiuk@dpsu.example.org"))
    assert taras is not None and taras.authority_id == ua.id and taras.birth_year_band == "1990-1999"
    assert statuses(run_id) == {colleague.id: S.NOMINATED, taras.id: S.NOMINATED}

    from lms.enrolment import nominations  # the other authority nominates its own person

    nominations.nominate(other_focal, db.session.get(CourseRun, run_id), stranger, "Georgian cohort")
    db.session.commit()

    overview = client.get("/authority").get_data(as_text=True)
    assert colleague.full_name in overview and "Тарас Гнатюк" in overview
    assert stranger.full_name not in overview
    export = client.get(f"/runs/{run_id}/export.csv").get_data(as_text=True)
    assert colleague.email in export and stranger.email not in export

    enrolment_of_stranger = db.session.scalar(select(Enrolment.id).where(Enrolment.user_id == stranger.id))
    client.post(f"/enrolments/{enrolment_of_stranger}/withdraw")
    assert statuses(run_id)[stranger.id] == S.NOMINATED
    assert client.get(f"/admin/course-runs/{run_id}").status_code == 403


def test_admin_creates_a_run_decides_in_bulk_and_sees_seats_per_authority(
    app, course, ua, ge, make_user
) -> None:
    admin = make_user(Role.ADMIN)
    client = as_user(app, admin)
    today = utcnow().date()
    response = client.post(
        "/admin/course-runs/new",
        data={
            "course": str(course.id),
            "title": "Risk analysis — Tbilisi, May",
            "modality": "in_person",
            "language": "en",
            "starts_on": (today + timedelta(days=30)).isoformat(),
            "ends_on": (today + timedelta(days=32)).isoformat(),
            "enrolment_opens_on": today.isoformat(),
            "enrolment_closes_on": (today + timedelta(days=10)).isoformat(),
            "seats_total": "2",
            "enrolment_method": "nomination",
            "eligible_countries": ["UA", "GE"],
            "quotas": "ua-sbgs: 1\nge-bp: 1",
        },
    )
    assert response.status_code == 302, response.get_data(as_text=True)
    db.session.rollback()
    run = db.session.scalar(select(CourseRun).where(CourseRun.title == "Risk analysis — Tbilisi, May"))
    assert run is not None and run.open_to_all is False and run.seats_total == 2
    run_id = run.id

    bad = client.post(
        f"/admin/course-runs/{run_id}/edit",
        data={
            "course": str(course.id),
            "title": "x",
            "modality": "in_person",
            "language": "en",
            "enrolment_method": "nomination",
            "quotas": "nonsense",
        },
    )
    assert bad.status_code == 422

    from lms.enrolment import nominations

    focal_ua = make_user(Role.FOCAL_POINT, authority=ua)
    ua1, ua2, ge1 = make_user(authority=ua), make_user(authority=ua), make_user(authority=ge)
    course_run = db.session.get(CourseRun, run_id)
    ids = [nominations.nominate(focal_ua, course_run, p, "needed").id for p in (ua1, ua2)]
    ids.append(nominations.nominate(admin, course_run, ge1, "Georgia").id)
    db.session.commit()

    queue = client.get(f"/admin/course-runs/{run_id}").get_data(as_text=True)
    assert "Queue: nominations and requests (3)" in queue
    response = client.post(
        f"/admin/course-runs/{run_id}/decide",
        data={"enrolment_ids": ids, "approve": "1"},
        follow_redirects=True,
    )
    assert "Enrolled: 2. Waiting list: 1." in response.get_data(as_text=True)
    assert statuses(run_id) == {ua1.id: S.ENROLLED, ua2.id: S.WAITING, ge1.id: S.ENROLLED}
    page = client.get(f"/admin/course-runs/{run_id}").get_data(as_text=True)
    assert (
        "Waiting list (1)" in page
        and "State Border Guard Service of Ukraine" in page
        and "Border Police of Georgia" in page
    )

    no_reason = client.post(
        f"/admin/course-runs/{run_id}/decide",
        data={"enrolment_ids": [ids[0]], "reject": "1"},
        follow_redirects=True,
    )
    assert "Give a reason" in no_reason.get_data(as_text=True)
    client.post(
        f"/admin/course-runs/{run_id}/decide",
        data={"enrolment_ids": [ids[0]], "reject": "1", "reason": "Duplicate of an earlier course"},
    )
    assert statuses(run_id) == {ua1.id: S.REJECTED, ua2.id: S.ENROLLED, ge1.id: S.ENROLLED}
    assert "Course runs" in client.get("/admin/course-runs").get_data(as_text=True)


def test_csv_import_page_dry_run_then_real_run(app, course, ua, make_user) -> None:
    focal = make_user(Role.FOCAL_POINT, authority=ua)
    run = make_run(course, EnrolmentMethod.NOMINATION)
    run_id = run.id
    client = as_user(app, focal)
    csv_bytes = (
        "email;given_name;family_name;native_name;country;authority\r\n"
        "mariia.lysenko@dpsu.example.org;Mariia;Lysenko;Марія Лисенко;UA;ua-sbgs\r\n"
    ).encode("utf-8-sig")

    def upload(button: str, content: bytes = csv_bytes):
        return client.post(
            f"/runs/{run_id}/import",
            data={
                "file": (io.BytesIO(content), "staff.csv"),
                "mode": "nominate",
                "justification": "Spring",
                button: "1",
            },
            content_type="multipart/form-data",
        )

    dry = upload("check")
    assert dry.status_code == 200
    text = dry.get_data(as_text=True)
    assert "Dry run" in text and "Марія Лисенко" not in text and "Mariia Lysenko" in text
    assert statuses(run_id) == {}
    broken = upload("run_import", csv_bytes + b"broken-email;A;B;;UA;ua-sbgs\r\n")
    assert broken.status_code == 422 and "Row 3" in broken.get_data(as_text=True)
    assert statuses(run_id) == {}
    real = upload("run_import")
    assert real.status_code == 200 and "Imported 1 row(s)." in real.get_data(as_text=True)
    assert list(statuses(run_id).values()) == [S.NOMINATED]
    assert 'value="enrol"' not in client.get(f"/runs/{run_id}/import").get_data(as_text=True)  # admins only


def test_roles_reach_only_their_pages(app, course, make_user) -> None:
    run = make_run(course)
    run_id = run.id
    trainee = as_user(app, make_user())
    for url in (
        "/authority",
        f"/authority/runs/{run_id}/nominate",
        "/admin/course-runs",
        f"/runs/{run_id}/import",
    ):
        assert trainee.get(url).status_code == 403, url
    focal = as_user(app, make_user(Role.FOCAL_POINT))
    assert focal.get("/admin/course-runs").status_code == 403
    assert focal.get("/authority").status_code == 200
