"""Builders for the attendance tests: a run with participants and a session made with the ORM (times
chosen freely around "now", which the scheduling service's rules would not always allow)."""

from __future__ import annotations

import secrets
from collections.abc import Callable
from datetime import datetime, timedelta
from typing import Any

from lms.auth.models import User
from lms.courses.models import Course
from lms.db import utcnow
from lms.enrolment.models import CourseRun, Enrolment, EnrolmentMethod, EnrolmentStatus
from lms.extensions import db
from lms.sessions.models import SessionTrainer, TrainingSession
from tests.enrolment_support import make_course, make_run


def a_session(
    run: CourseRun,
    *,
    starts_at: datetime | None = None,
    minutes: int = 180,
    trainers: tuple[User, ...] = (),
    **fields: Any,
) -> TrainingSession:
    """A session of ``minutes`` from ``starts_at`` (default: started 5 minutes ago); the run's planned
    minutes and last session end follow, as lms.sessions.services keeps them."""
    starts = starts_at or utcnow().replace(microsecond=0) - timedelta(minutes=5)
    session = TrainingSession(
        run_id=run.id,
        title=fields.pop("title", f"Day {run.id}.{secrets.token_hex(2)}"),
        starts_at=starts,
        ends_at=starts + timedelta(minutes=minutes),
        timezone=fields.pop("timezone", "Europe/Chisinau"),
        venue_name=fields.pop("venue_name", "Hotel Codru"),
        venue_city=fields.pop("venue_city", "Chișinău"),
        uid=f"{secrets.token_hex(8)}@test",
        check_in_secret=secrets.token_hex(32),
        **fields,
    )
    session.trainers = [SessionTrainer(user_id=trainer.id) for trainer in trainers]
    db.session.add(session)
    db.session.flush()
    run.session_minutes = (run.session_minutes or 0) + minutes
    run.sessions_end_at = max(session.ends_at, run.sessions_end_at or session.ends_at)
    db.session.commit()
    return session


def workshop(slug: str = "workshop", **run_fields: Any) -> tuple[Course, CourseRun]:
    course = make_course(slug=slug, lessons=1)
    run = make_run(course, EnrolmentMethod.OPEN, seats=None, **run_fields)
    db.session.commit()
    return course, run


def place(run: CourseRun, user: User, status: str = EnrolmentStatus.ENROLLED) -> Enrolment:
    enrolment = Enrolment(run_id=run.id, user_id=user.id, status=status, authority_id=user.authority_id)
    db.session.add(enrolment)
    db.session.commit()
    return enrolment


def participants(run: CourseRun, make_user: Callable[..., User], count: int) -> list[Enrolment]:
    return [place(run, make_user()) for _ in range(count)]
