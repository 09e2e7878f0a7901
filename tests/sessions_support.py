"""Builders shared by the sessions tests (plain functions over the session, like enrolment_support)."""

from __future__ import annotations

from datetime import date, datetime, timedelta
from typing import Any

from lms.courses.models import Course
from lms.enrolment.models import CourseRun, EnrolmentMethod, Modality
from lms.extensions import db
from lms.sessions.services import SessionData
from tests.enrolment_support import make_run

CHISINAU = "Europe/Chisinau"


def workshop_run(course: Course, starts_on: date, days: int = 3, **fields: Any) -> CourseRun:
    """An in-person run of ``days`` days from ``starts_on``, open enrolment, no seat limit."""
    values: dict[str, Any] = {
        "modality": Modality.IN_PERSON,
        "starts_on": starts_on,
        "ends_on": starts_on + timedelta(days=days - 1),
        "enrolment_opens_on": None,
        "enrolment_closes_on": None,
    }
    values.update(fields)
    run = make_run(course, EnrolmentMethod.OPEN, seats=None, **values)
    db.session.commit()
    return run


def in_person(day: date, start: int = 9, end: int = 12, **fields: Any) -> SessionData:
    values: dict[str, Any] = {
        "title": f"Workshop {day.isoformat()} {start}:00",
        "starts_local": datetime.combine(day, datetime.min.time()).replace(hour=start),
        "ends_local": datetime.combine(day, datetime.min.time()).replace(hour=end),
        "timezone": CHISINAU,
        "format": "in_person",
        "venue_name": "Hotel Codru, conference hall",
        "venue_address": "str. 31 August 1989, 127",
        "venue_city": "Chișinău",
        "meeting_url": None,
    }
    values.update(fields)
    return SessionData(**values)


def online(day: date, start: int = 9, end: int = 11, **fields: Any) -> SessionData:
    values: dict[str, Any] = {
        "format": "online",
        "venue_name": None,
        "venue_city": None,
        "venue_address": None,
        "meeting_url": "https://meet.example.org/border-academy-weekly",
    }
    values.update(fields)
    return in_person(day, start, end, **values)


def place(user: Any, run: CourseRun) -> Any:
    """An enrolled place written directly (a past workshop no longer takes enrolments)."""
    from lms.enrolment.models import Enrolment

    enrolment = Enrolment(run_id=run.id, user_id=user.id, status="enrolled", authority_id=user.authority_id)
    db.session.add(enrolment)
    db.session.flush()
    return enrolment
