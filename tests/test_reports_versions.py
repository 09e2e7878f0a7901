"""The trainings' version (lms/reports/versions.py, issue 22) moves with every write that can change the
whole academy's training figures, and only with those; a date range that keeps every session gives the
figures of no range at all (which is what the version-keyed copy holds)."""

from __future__ import annotations

from datetime import date, timedelta

from flask import Flask
from sqlalchemy import select

from lms.auth.models import User
from lms.enrolment.models import Enrolment
from lms.extensions import db
from lms.reports import versions
from lms.reports.indicator_queries import IndicatorFilters
from lms.reports.training_indicators import _whole_academy, training_tables
from lms.sessions.models import Attendance, TrainingSession
from tests.test_training_indicators import build_world


def version() -> int:
    db.session.flush()
    return versions.current(db.session.connection())


def test_the_version_moves_with_what_the_training_figures_read(app: Flask) -> None:
    build_world()
    start = version()
    place = db.session.scalars(select(Enrolment)).first()
    assert place is not None
    place.last_activity_at = place.enrolled_at  # what every lesson completion writes: not a training figure
    assert version() == start
    person = db.session.get(User, place.user_id)
    assert person is not None
    person.given_name = "Renamed"
    assert version() == start
    person.sex = "undisclosed" if person.sex != "undisclosed" else "female"
    assert version() == start + 1
    place.authority_id = None
    assert version() == start + 2
    line = db.session.scalars(select(Attendance)).first()
    assert line is not None
    line.status = "absent" if line.status != "absent" else "present"
    assert version() == start + 3
    session = db.session.scalars(select(TrainingSession)).first()
    assert session is not None
    session.venue_city = "Elsewhere"
    assert version() == start + 4
    db.session.rollback()  # taken back with the change
    assert version() == start


def test_a_range_that_keeps_every_session_is_the_whole_academy(app: Flask) -> None:
    build_world()
    starts = list(db.session.scalars(select(TrainingSession.starts_at)))
    first, last = min(starts).date(), max(starts).date()
    whole = IndicatorFilters(date_from=first - timedelta(days=2), date_to=last + timedelta(days=2))
    assert _whole_academy(whole) and _whole_academy(IndicatorFilters(date_to=date(2099, 1, 1)))
    assert training_tables(whole) == training_tables(IndicatorFilters())
    assert not _whole_academy(IndicatorFilters(date_from=first + timedelta(days=1)))
    assert not _whole_academy(IndicatorFilters(date_to=last))  # the last day: decided by its local date
    assert not _whole_academy(IndicatorFilters(country_code="MD"))
