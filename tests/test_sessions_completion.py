"""The completion rule of runs with sessions: lessons (unless turned off), a minimum share of the planned
session time attended, the final assessment; automatic certificates state the hours attended."""

from __future__ import annotations

from collections.abc import Callable
from datetime import date, timedelta
from typing import Any

import pytest
from flask import Flask
from sqlalchemy import select

from lms.auth.models import Role, User
from lms.certificates.models import Certificate
from lms.courses.models import Lesson
from lms.enrolment import completion
from lms.enrolment.models import CourseRun, Enrolment
from lms.enrolment.progress import CompletionRule, compute_progress
from lms.extensions import db
from lms.sessions.attendance import record_attendance
from lms.sessions.services import cancel_session, schedule_session
from tests.enrolment_support import UserClient, make_course
from tests.sessions_support import in_person, place, workshop_run

DAY = date(2026, 11, 23)  # a workshop that took place: attendance is recorded after it


# --- The arithmetic (pure) --------------------------------------------------------------------------------


def rule(**fields: Any) -> CompletionRule:
    return CompletionRule(**fields)


def test_attendance_is_part_of_the_rule() -> None:
    lessons = [1, 2]
    required = rule(attendance_required_percent=80, attended_minutes=600, planned_minutes=840)
    assert not compute_progress(lessons, {1, 2}, rule=required).complete  # 71%
    met = rule(attendance_required_percent=80, attended_minutes=672, planned_minutes=840)  # exactly 80%
    assert compute_progress(lessons, {1, 2}, rule=met).complete
    assert not compute_progress(lessons, {1}, rule=met).complete  # lessons still required
    no_lessons = rule(lessons_required=False, attendance_required_percent=80, attended_minutes=672,
                      planned_minutes=840)  # fmt: skip
    assert compute_progress(lessons, set(), rule=no_lessons).complete
    assert compute_progress([], set(), rule=no_lessons).complete  # a pure workshop: no published lessons
    assert not compute_progress([], set(), rule=rule(lessons_required=False)).complete  # asks for nothing
    assert not compute_progress(
        [], set(), rule=rule(lessons_required=False, attendance_required_percent=80)
    ).complete  # nothing planned yet is not attendance
    assert compute_progress([1], {1}, rule=rule(attendance_required_percent=0)).complete
    progress = compute_progress([], set(), assessment_required=True, assessment_passed=False, rule=no_lessons)
    assert not progress.complete and progress.attendance_met
    assert compute_progress(
        [], set(), assessment_required=True, assessment_passed=True, rule=no_lessons
    ).complete
    assert compute_progress([1], {1}).complete  # without a rule: the lessons, as before


# --- Through the register ---------------------------------------------------------------------------------


@pytest.fixture
def workshop(app: Flask) -> CourseRun:
    """A three-day workshop (lessons not required, 80% of session time), two sessions of 3 h each day."""
    run = workshop_run(make_course("workshop", lessons=0), DAY, days=3, completion_requires_lessons=False,
                       min_attendance_percent=80)  # fmt: skip
    return run


def sessions_of(run: CourseRun) -> list[Any]:
    made = []
    for offset in range(3):
        day = DAY + timedelta(days=offset)
        made.append(schedule_session(run, in_person(day, 9, 12), actor_id=None))
        made.append(schedule_session(run, in_person(day, 13, 16, title=f"Afternoon {offset}"), actor_id=None))
    return made


def test_attending_enough_completes_and_issues_a_certificate_with_the_hours(
    workshop: CourseRun, make_user: Callable[..., User]
) -> None:
    sessions = sessions_of(workshop)
    assert workshop.session_minutes == 18 * 60
    person = make_user(Role.TRAINEE)
    enrolment = place(person, workshop)
    for session in sessions[:4]:
        record_attendance(session, enrolment, "present", source="roll_call", actor_id=None)
    assert enrolment.attended_minutes == 12 * 60 and enrolment.status == "enrolled"  # 67%
    record_attendance(sessions[4], enrolment, "late", minutes=150, source="roll_call", actor_id=None)
    progress = completion.enrolment_progress(enrolment, workshop.course_id)
    assert progress.attended_minutes == 870 and progress.attendance_met
    # the decision ran when attendance changed: completed and certified
    db.session.refresh(enrolment)
    assert enrolment.status == "completed"
    certificate = db.session.scalar(select(Certificate).where(Certificate.enrolment_id == enrolment.id))
    assert certificate is not None and certificate.attended_minutes == 870
    assert "Session hours attended: 14 h 30." in str(certificate.credential)


def test_too_little_attendance_does_not_complete_until_a_missed_session_is_cancelled(
    workshop: CourseRun, make_user: Callable[..., User]
) -> None:
    sessions = sessions_of(workshop)
    enrolment = place(make_user(Role.TRAINEE), workshop)
    for session in sessions[:4]:
        record_attendance(session, enrolment, "present", source="roll_call", actor_id=None)
    record_attendance(sessions[4], enrolment, "absent", source="roll_call", actor_id=None)
    assert enrolment.status == "enrolled" and enrolment.attended_minutes == 720
    cancel_session(sessions[5], actor_id=None)  # 12 h of 15 h planned = 80%
    assert workshop.session_minutes == 15 * 60
    assert enrolment.status == "completed"


def test_lessons_and_attendance_both_required(app: Flask, make_user: Callable[..., User]) -> None:
    course = make_course("blended", lessons=1)
    run = workshop_run(course, DAY, days=1, min_attendance_percent=50)
    session = schedule_session(run, in_person(DAY, 9, 13), actor_id=None)
    enrolment = place(make_user(Role.TRAINEE), run)
    record_attendance(session, enrolment, "present", source="roll_call", actor_id=None)
    assert enrolment.status == "enrolled"  # the lesson is still to do
    lesson = db.session.scalar(select(Lesson))
    assert lesson is not None
    completion.complete_lesson(enrolment, lesson)
    assert enrolment.status == "completed"


def test_progress_shows_attendance_on_the_dashboard_and_course_page(
    app: Flask, make_user: Callable[..., User]
) -> None:
    course = make_course("blended-page", lessons=1)
    run = workshop_run(course, DAY, days=3, min_attendance_percent=80)
    sessions = sessions_of(run)
    person = make_user(Role.TRAINEE)
    enrolment = place(person, run)
    record_attendance(sessions[0], enrolment, "present", source="roll_call", actor_id=None)
    record_attendance(sessions[1], enrolment, "late", minutes=150, source="roll_call", actor_id=None)
    db.session.commit()
    client = UserClient(app, person)
    for url in ("/dashboard", f"/courses/{course.slug}"):
        page = client.get(url).get_data(as_text=True)
        assert "Attended 5 h 30 of 18 h (80% required)" in page, url
    db.session.rollback()
    assert db.session.get(Enrolment, enrolment.id).status == "enrolled"  # type: ignore[union-attr]


def test_the_verify_page_and_the_pdf_state_the_hours_attended(
    app: Flask, workshop: CourseRun, make_user: Callable[..., User]
) -> None:
    from lms.certificates.issuer import academy_issuer
    from lms.certificates.rendering import _pdf_html

    sessions = sessions_of(workshop)
    enrolment = place(make_user(Role.TRAINEE), workshop)
    for session in sessions[:5]:
        record_attendance(session, enrolment, "present", source="roll_call", actor_id=None)
    certificate = db.session.scalar(select(Certificate).where(Certificate.enrolment_id == enrolment.id))
    assert certificate is not None and certificate.attended_minutes == 15 * 60
    db.session.commit()
    page = app.test_client().get(f"/verify/{certificate.code}").get_data(as_text=True)
    assert "Hours attended" in page and "15 h" in page
    assert "Hours attended: 15 h" in _pdf_html(certificate, academy_issuer(), "en")
