"""The sessions pages: managing a run's sessions, the run page, dashboard, trainer and focal point views, and
who is refused (another course's trainer, another trainee, another authority's focal point, anonymous)."""

from __future__ import annotations

import re
from collections.abc import Callable
from datetime import date
from typing import Any

import pytest
from flask import Flask
from sqlalchemy import func, select

from lms.auth.models import Role, User
from lms.authoring.models import CourseTrainer
from lms.courses.models import Course
from lms.enrolment import self_service
from lms.enrolment.models import CourseRun
from lms.extensions import db
from lms.sessions.models import ParticipantDetails, TrainingSession
from lms.sessions.services import schedule_session
from tests.enrolment_support import UserClient, make_course
from tests.sessions_support import CHISINAU, in_person, online, workshop_run

# Far ahead: the run must still take enrolments and the session must still be to come whenever the suite runs.
DAY = date(2038, 6, 7)  # summer: Chisinau +03:00, Tbilisi +04:00
LINK = "https://meet.example.org/border-academy-weekly"


@pytest.fixture
def course(app: Flask) -> Course:
    return make_course()


@pytest.fixture
def run(course: Course) -> CourseRun:
    return workshop_run(course, DAY, days=3)


def form_data(**fields: Any) -> dict[str, Any]:
    values = {
        "title": "Document checks, day one",
        "day": DAY.isoformat(),
        "starts_at": "09:00",
        "ends_at": "12:30",
        "timezone": CHISINAU,
        "format": "in_person",
        "venue_name": "Hotel Codru, conference hall",
        "venue_city": "Chișinău",
        "venue_country": "",
        "agenda": "1. Passports\n2. **Visas**",
    }
    values.update(fields)
    return values


def count_sessions() -> int:
    db.session.rollback()
    return int(db.session.scalar(select(func.count()).select_from(TrainingSession)) or 0)


def test_an_admin_schedules_edits_and_cancels_a_session(
    app: Flask, run: CourseRun, make_user: Callable[..., User]
) -> None:
    admin = UserClient(app, make_user(Role.ADMIN))
    assert (
        admin.get(f"/admin/course-runs/{run.id}").get_data(as_text=True).count(f"/runs/{run.id}/sessions")
        == 1
    )
    assert admin.get(f"/runs/{run.id}/sessions/new").status_code == 200
    response = admin.post(f"/runs/{run.id}/sessions/new", data=form_data())
    assert response.status_code == 302, response.get_data(as_text=True)
    db.session.rollback()
    session = db.session.scalar(select(TrainingSession))
    assert session is not None and session.minutes == 210 and "<strong>Visas</strong>" in session.agenda_html
    page = admin.get(f"/runs/{run.id}/sessions").get_data(as_text=True)
    assert "Document checks, day one" in page and "3 h 30" in page
    edit = admin.get(f"/sessions/{session.id}/edit").get_data(as_text=True)
    assert 'value="09:00"' in edit and 'value="Document checks, day one"' in edit
    assert admin.post(f"/sessions/{session.id}/edit", data=form_data(ends_at="12:00")).status_code == 302
    db.session.rollback()
    assert db.session.get(TrainingSession, session.id).sequence == 1  # type: ignore[union-attr]
    assert "Cancel this session" in admin.get(f"/sessions/{session.id}/cancel").get_data(as_text=True)
    assert admin.post(f"/sessions/{session.id}/cancel", data={"reason": "Venue closed"}).status_code == 302
    db.session.rollback()
    assert db.session.get(TrainingSession, session.id).cancelled_at is not None  # type: ignore[union-attr]
    assert admin.get(f"/sessions/{session.id}/edit").status_code == 404
    assert admin.post(f"/sessions/{session.id}/cancel", data={}).status_code == 404


def test_bad_input_is_refused_with_a_message_and_changes_nothing(
    app: Flask, run: CourseRun, make_user: Callable[..., User]
) -> None:
    schedule_session(run, in_person(DAY), actor_id=None)
    db.session.commit()
    admin = UserClient(app, make_user(Role.ADMIN))
    cases = [
        (form_data(starts_at="10:00"), "overlaps"),
        (form_data(starts_at="14:00", ends_at="13:00"), "end after it starts"),
        (form_data(day="2038-06-01"), "before the run"),
        (form_data(starts_at="14:00", ends_at="15:00", timezone="Mars/Olympus"), "time zone"),
        (form_data(day="2038-02-30"), "Date"),
        (form_data(day="99999-01-01"), "Date"),
        (form_data(starts_at="25:99"), "Starts at"),
        (form_data(starts_at="14:00", ends_at="15:00", format="teleport"), "Format"),
        (form_data(starts_at="14:00", ends_at="15:00", format="online"), "meeting link"),
        (form_data(starts_at="14:00", ends_at="15:00", capacity="-3"), "Capacity"),
        (form_data(starts_at="14:00", ends_at="15:00", trainers="abc"), "Session trainers"),
        (form_data(starts_at="14:00", ends_at="15:00", venue_country="Z" * 300), "Country"),
    ]
    for data, words in cases:
        response = admin.post(f"/runs/{run.id}/sessions/new", data=data)
        assert response.status_code == 422, (words, response.status_code)
        assert words in response.get_data(as_text=True), words
    assert count_sessions() == 1
    for url in ("/runs/999999/sessions", "/runs/999999/sessions/new", "/sessions/999999/edit",
                "/sessions/999999/cancel", "/runs/0/sessions"):  # fmt: skip
        assert admin.get(url).status_code == 404, url
    assert admin.get("/runs/99999999999999999999999/sessions").status_code == 404


def test_only_the_course_trainers_and_admins_manage_sessions(
    app: Flask,
    course: Course,
    run: CourseRun,
    make_user: Callable[..., User],
    make_trainer: Callable[..., User],
) -> None:
    session = schedule_session(run, in_person(DAY), actor_id=None)
    other_course = make_course("other-course")
    own, outsider = make_trainer(course), make_trainer(other_course)
    trainee = make_user(Role.TRAINEE)
    session_id, run_id = session.id, run.id
    db.session.commit()
    urls = (f"/runs/{run_id}/sessions", f"/runs/{run_id}/sessions/new", f"/sessions/{session_id}/edit",
            f"/sessions/{session_id}/cancel")  # fmt: skip
    refused = UserClient(app, outsider)
    for url in urls:
        assert refused.get(url).status_code == 403, url
        if not url.endswith("/sessions"):
            posted = refused.post(url, data=form_data(starts_at="14:00", ends_at="15:00"))
            assert posted.status_code == 403, url
    nobody = UserClient(app, trainee)
    for url in urls:
        assert nobody.get(url).status_code == 403, url
    anonymous = app.test_client()
    for url in urls:
        assert anonymous.get(url).headers["Location"].startswith("/login"), url
    assert count_sessions() == 1
    mine = UserClient(app, own)
    assert mine.get(f"/runs/{run_id}/sessions").status_code == 200
    response = mine.post(f"/runs/{run_id}/sessions/new", data=form_data(starts_at="14:00", ends_at="15:00"))
    assert response.status_code == 302
    assert count_sessions() == 2
    trainer_page = mine.get("/trainer/sessions").get_data(as_text=True)
    assert trainer_page.count("Workshop 2038-06-07") == 1 and "Document checks, day one" in trainer_page
    assert "Workshop" not in UserClient(app, outsider).get("/trainer/sessions").get_data(as_text=True)


def test_a_guest_trainer_sees_their_session_without_a_link_they_may_not_open(
    app: Flask,
    course: Course,
    run: CourseRun,
    make_trainer: Callable[..., User],
) -> None:
    """A session may name a trainer of another course (a guest speaker): "My sessions" lists it, with
    the roll call they may take, but the run's title links to managing its sessions only for its
    course's trainers (the guest got a 403 there, found by a crawl of the demo)."""
    own, guest = make_trainer(course), make_trainer(make_course("other-course"))
    schedule_session(run, in_person(DAY, trainer_ids=frozenset({guest.id})), actor_id=None)
    run_id = run.id
    db.session.commit()
    manage = f'href="/runs/{run_id}/sessions"'
    guest_client = UserClient(app, guest)
    page = guest_client.get("/trainer/sessions").get_data(as_text=True)
    assert "Workshop 2038-06-07" in page and manage not in page and run.title in page
    for href in re.findall(r'href="(/(?:runs|sessions)/[^"]+)"', page):
        assert guest_client.get(href).status_code == 200, href  # the roll call, nothing refused
    assert manage in UserClient(app, own).get("/trainer/sessions").get_data(as_text=True)


def test_the_meeting_link_only_for_participants_and_trainers(
    app: Flask,
    course: Course,
    run: CourseRun,
    make_user: Callable[..., User],
    make_trainer: Callable[..., User],
) -> None:
    session_trainer = make_user(Role.TRAINER)
    schedule_session(run, online(DAY, trainer_ids=frozenset({session_trainer.id})), actor_id=None)
    participant, other_trainee = make_user(Role.TRAINEE), make_user(Role.TRAINEE)
    self_service.self_enrol(participant, run)
    other_trainer = make_trainer(make_course("other-course"))
    db.session.commit()
    run_id = run.id
    for person in (participant, session_trainer, make_trainer(course), make_user(Role.ADMIN)):
        assert LINK in UserClient(app, person).get(f"/runs/{run_id}").get_data(as_text=True), person.email
    for person in (other_trainee, other_trainer):
        page = UserClient(app, person).get(f"/runs/{run_id}").get_data(as_text=True)
        assert "Workshop 2038-06-07" in page and LINK not in page, person.email
    assert "Manage sessions" not in UserClient(app, other_trainer).get(f"/runs/{run_id}").get_data(
        as_text=True
    )
    anonymous = app.test_client().get(f"/runs/{run_id}")
    assert anonymous.status_code == 302 and LINK not in anonymous.get_data(as_text=True)


def test_times_in_the_viewer_zone_with_the_venue_zone_beside(
    app: Flask, run: CourseRun, make_user: Callable[..., User]
) -> None:
    schedule_session(run, in_person(DAY), actor_id=None)  # 09:00-12:00 in Chisinau = 06:00 UTC
    in_tbilisi = make_user(Role.TRAINEE, timezone="Asia/Tbilisi")
    no_zone = make_user(Role.TRAINEE)
    db.session.commit()
    page = UserClient(app, in_tbilisi).get(f"/runs/{run.id}").get_data(as_text=True)
    assert "Jun 7, 2038, 10:00\u202fAM – 1:00\u202fPM" in page and "Asia/Tbilisi" in page  # the viewer's time
    assert "Venue time: Jun 7, 2038, 9:00\u202fAM – 12:00\u202fPM" in page and CHISINAU in page
    page = UserClient(app, no_zone).get(f"/runs/{run.id}").get_data(as_text=True)
    assert "Jun 7, 2038, 6:00\u202fAM – 9:00\u202fAM" in page and "Times are in UTC" in page


def test_dashboard_next_session_and_hybrid_choice(
    app: Flask, run: CourseRun, make_user: Callable[..., User]
) -> None:
    schedule_session(run, in_person(DAY, format="hybrid", meeting_url=LINK), actor_id=None)
    participant = make_user(Role.TRAINEE)
    enrolment = self_service.self_enrol(participant, run)
    db.session.commit()
    client = UserClient(app, participant)
    dashboard = client.get("/dashboard").get_data(as_text=True)
    assert "Next session:" in dashboard and "Workshop 2038-06-07" in dashboard
    assert "How will you attend" in client.get(f"/runs/{run.id}").get_data(as_text=True)
    assert client.post(f"/runs/{run.id}/attendance-mode", data={"mode": "online"}).status_code == 302
    db.session.rollback()
    assert db.session.get(ParticipantDetails, enrolment.id).attendance_mode == "online"  # type: ignore[union-attr]
    assert client.post(f"/runs/{run.id}/attendance-mode", data={"mode": "mars"}).status_code == 400
    assert client.post("/runs/999999/attendance-mode", data={"mode": "online"}).status_code == 404
    stranger = UserClient(app, make_user(Role.TRAINEE))
    assert stranger.post(f"/runs/{run.id}/attendance-mode", data={"mode": "online"}).status_code == 404
    assert "Next session:" not in stranger.get("/dashboard").get_data(as_text=True)


def test_focal_points_see_their_own_staff_sessions_only(
    app: Flask, run: CourseRun, make_user: Callable[..., User], make_authority: Callable[..., Any]
) -> None:
    schedule_session(run, in_person(DAY), actor_id=None)
    home, elsewhere = make_authority(), make_authority()
    officer = make_user(Role.TRAINEE, authority=home, given_name="Ion", family_name="Rusu")
    self_service.self_enrol(officer, run)
    db.session.commit()
    mine = (
        UserClient(app, make_user(Role.FOCAL_POINT, authority=home)).get("/authority").get_data(as_text=True)
    )
    assert "Upcoming sessions of your staff" in mine and "Ion Rusu" in mine
    theirs = UserClient(app, make_user(Role.FOCAL_POINT, authority=elsewhere)).get("/authority")
    assert "Ion Rusu" not in theirs.get_data(as_text=True)


def test_the_run_form_sets_the_completion_rule(
    app: Flask, course: Course, run: CourseRun, make_user: Callable[..., User]
) -> None:
    admin = UserClient(app, make_user(Role.ADMIN))
    data = {
        "course": course.id, "title": "Workshop", "modality": "in_person", "language": "en",
        "starts_on": DAY.isoformat(), "ends_on": "2038-06-09", "enrolment_method": "open",
        "certificate_issuance": "automatic", "open_to_all": "y", "min_attendance_percent": "80",
        "personal_data_retention_days": "45", "is_international": "y",
    }  # fmt: skip
    assert "Minimum attendance of session time" in admin.get(f"/admin/course-runs/{run.id}/edit").get_data(
        as_text=True
    )
    assert admin.post(f"/admin/course-runs/{run.id}/edit", data=data).status_code == 302
    db.session.rollback()
    saved = db.session.get(CourseRun, run.id)
    assert saved is not None
    assert (saved.completion_requires_lessons, saved.min_attendance_percent) == (False, 80)
    assert (saved.is_international, saved.personal_data_retention_days) == (True, 45)
    for bad in ("101", "-1", "abc"):
        response = admin.post(
            f"/admin/course-runs/{run.id}/edit", data={**data, "min_attendance_percent": bad}
        )
        assert response.status_code == 422, bad
    db.session.rollback()
    assert db.session.get(CourseRun, run.id).min_attendance_percent == 80  # type: ignore[union-attr]
    assert db.session.scalar(select(func.count()).select_from(CourseTrainer)) == 0
