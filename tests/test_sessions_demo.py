"""The demo's runs with sessions (lms/demo/sessions_demo.py): after `make run` a workshop that took place
(partial attendance, certificates issued through completion), a weekly online class, a blended run."""

from __future__ import annotations

from flask import Flask
from sqlalchemy import select

from lms.auth.services import find_user_by_email
from lms.certificates.models import Certificate
from lms.db import utcnow
from lms.demo.sessions_demo import (
    BLENDED,
    CHISINAU_BLENDED,
    KYIV_IN_PERSON,
    SPRING_ONLINE,
    SUMMER_ONLINE,
    WEEKLY,
    WORKSHOP,
    load_demo_sessions,
)
from lms.enrolment.models import CourseRun, Enrolment
from lms.extensions import db
from lms.sessions import queries
from tests.a11y_support import load_academy


def run_titled(title: str) -> CourseRun:
    run = db.session.scalar(select(CourseRun).where(CourseRun.title == title))
    assert run is not None, title
    return run


def test_the_demo_has_a_workshop_a_weekly_class_and_a_blended_run(app: Flask) -> None:
    load_academy()
    workshop = run_titled(WORKSHOP)
    sessions = queries.run_sessions(workshop.id)
    assert len(sessions) == 6 and {s.timezone for s in sessions} == {"Europe/Chisinau"}
    assert all(s.ends_at < utcnow() for s in sessions) and workshop.session_minutes == 6 * 210
    places = list(db.session.scalars(select(Enrolment).where(Enrolment.run_id == workshop.id)))
    completed = [e for e in places if e.status == "completed"]
    assert 4 <= len(completed) < len(places)  # partial attendance: two missed too much
    assert any(e.attended_minutes < 6 * 210 for e in completed)
    certificates = list(db.session.scalars(select(Certificate).where(Certificate.run_id == workshop.id)))
    assert len(certificates) == len(completed)
    assert all(c.attended_minutes is not None and c.attended_minutes >= 1008 for c in certificates)
    assert all(e.enrolled_at < sessions[0].starts_at for e in places)
    weekly = queries.run_sessions(run_titled(WEEKLY).id)
    assert len(weekly) == 8 and all(s.meeting_url for s in weekly)
    assert any(s.ends_at < utcnow() for s in weekly) and any(s.starts_at > utcnow() for s in weekly)
    blended = run_titled(BLENDED)
    assert [s.timezone for s in queries.run_sessions(blended.id)] == ["Asia/Tbilisi"]
    olena = find_user_by_email("trainee@academy.test")
    assert olena is not None
    line = queries.next_session_for(olena.id)
    assert line is not None and line.run.title == WEEKLY
    # The older demo runs (services.py, cohort.py) have sessions where their modality has sittings.
    kyiv = queries.run_sessions(run_titled(KYIV_IN_PERSON).id)
    assert len(kyiv) == 3 and {s.format for s in kyiv} == {"in_person"}
    night = next(s for s in kyiv if s.title.startswith("Night"))
    assert night.minutes == 240  # 21:00-01:00 in Kyiv: one session across midnight
    assert {s.format for s in queries.run_sessions(run_titled(CHISINAU_BLENDED).id)} == {
        "in_person",
        "hybrid",
    }
    assert len(queries.run_sessions(run_titled(SPRING_ONLINE).id)) == 4
    summer = run_titled(SUMMER_ONLINE)
    assert len(queries.run_sessions(summer.id)) == 4 and summer.session_minutes == 240
    attended = list(
        db.session.scalars(select(Enrolment.attended_minutes).where(Enrolment.run_id == summer.id))
    )
    assert any(minutes > 0 for minutes in attended)
    for modality in ("in_person", "blended", "online_scheduled"):  # every modality with sittings shows them
        runs = db.session.scalars(select(CourseRun).where(CourseRun.modality == modality)).all()
        assert runs and all(r.session_minutes > 0 for r in runs if not r.is_default), modality
    assert load_demo_sessions() == 0  # idempotent
