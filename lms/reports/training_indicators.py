"""Read side of the training indicators (runs with sessions, issue 20) on the admin indicator report and in
its donor exports: trainings, training days, locations, participants, participant-days and partners.

Three queries, whatever the data size: the sessions (not cancelled) that may start in the period, with
their run's modality (about a hundred on the L data set, thousands in a big academy's year); their
attendance lines that count (present, late, left early), read through the (session_id, enrolment_id)
index; and the persons of those places (sex and country, the enrolment's authority), once each. The day
of a session is its local date in the venue's zone, which SQL cannot compute the same way on SQLite and
PostgreSQL, so it is computed once per session in Python and the sums are made by
lms.reports.training_figures (pure, where the definitions live).
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Sequence
from dataclasses import asdict
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import and_, func, or_, select
from sqlalchemy.sql import ColumnElement

from lms.auth.models import User
from lms.db import utcnow
from lms.enrolment.models import CourseRun, Enrolment
from lms.extensions import db
from lms.ops import cache
from lms.reports import versions
from lms.reports.indicator_queries import CACHE_SECONDS, IndicatorFilters, _dates, _start_of
from lms.reports.training_figures import (
    ATTENDED,
    PersonRow,
    SessionRow,
    TrainingCell,
    TrainingTables,
    aggregate,
)
from lms.sessions.models import Attendance, TrainingSession

# Venue zones are at most 14 hours from UTC: reading one day more on each side of the period is enough
# for the local date (computed in Python) to decide.
MARGIN = timedelta(days=1)


def _session_conditions(filters: IndicatorFilters) -> list[ColumnElement[bool]]:
    widened_from = filters.date_from - MARGIN if filters.date_from else None
    widened_to = filters.date_to + MARGIN if filters.date_to else None
    conditions: list[ColumnElement[bool]] = [TrainingSession.cancelled_at.is_(None)]
    conditions += _dates(TrainingSession.starts_at, widened_from, widened_to)
    run_filters = ((CourseRun.id, filters.run_id), (CourseRun.course_id, filters.course_id),
                   (CourseRun.modality, filters.modality or None))  # fmt: skip
    return conditions + [column == value for column, value in run_filters if value is not None]


def _person_conditions(filters: IndicatorFilters, sex: str | None = None) -> list[ColumnElement[bool]]:
    """The report's person filters: the person's country, the enrolment's authority (as the other
    indicators), and the trainings' own sex filter (SEX_FILTERS: "undisclosed" also takes the persons
    whose sex is not recorded)."""
    conditions: list[ColumnElement[bool]] = []
    if filters.country_code:
        conditions.append(User.country_code == filters.country_code)
    if filters.authority_id is not None:
        conditions.append(Enrolment.authority_id == filters.authority_id)
    if sex == UNDISCLOSED:
        conditions.append(or_(User.sex.is_(None), User.sex.not_in(DISCLOSED)))
    elif sex in DISCLOSED:
        conditions.append(User.sex == sex)
    return conditions


DISCLOSED = ("female", "male")
UNDISCLOSED = "undisclosed"
SEX_FILTERS = (*DISCLOSED, UNDISCLOSED)  # the trainings' sex filter; anything else: all persons


def sex_filter(value: str | None) -> str | None:
    """The trainings' sex filter from a query argument: one of SEX_FILTERS, else None (all)."""
    return value if value in SEX_FILTERS else None


def training_tables(filters: IndicatorFilters, sex: str | None = None) -> TrainingTables:
    """Every training figure for the total and each breakdown, in three queries. ``sex``: only the
    attendance of persons of that sex (SEX_FILTERS), like the country and authority filters."""
    connection = db.session.connection()  # Core rows: no ORM result machinery for 25,000 lines
    sessions = connection.execute(
        select(
            TrainingSession.id,
            TrainingSession.run_id,
            TrainingSession.starts_at,
            TrainingSession.timezone,
            TrainingSession.format,
            TrainingSession.venue_city,
            TrainingSession.venue_country,
            CourseRun.modality,
        )
        .join(CourseRun, CourseRun.id == TrainingSession.run_id)
        .where(*_session_conditions(filters))
    ).all()
    person_filters = _person_conditions(filters, sex_filter(sex))
    lines: Sequence[tuple[int, int]] = ()
    persons: dict[int, PersonRow] = {}
    if sessions:
        # The lines of exactly those sessions through the (session_id, enrolment_id) index (one IN list:
        # the sessions of a period, thousands at most), then the persons of those places once each, in
        # id order. Joining the person to every line instead looked up the large enrolment and user
        # tables 25,000 times at random: 400 ms on L against 27 + 43 ms.
        in_sessions = and_(
            Attendance.session_id.in_([row.id for row in sessions]), Attendance.status.in_(ATTENDED)
        )
        lines = (
            connection.execute(select(Attendance.session_id, Attendance.enrolment_id).where(in_sessions))
            .tuples()
            .all()
        )
        persons = {
            enrolment_id: PersonRow(*person)
            for enrolment_id, *person in connection.execute(
                select(Enrolment.id, Enrolment.user_id, Enrolment.authority_id, User.sex, User.country_code)
                .join(User, User.id == Enrolment.user_id)
                .where(Enrolment.id.in_(select(Attendance.enrolment_id).where(in_sessions)), *person_filters)
            ).all()
        }
    return aggregate(
        [SessionRow(*row) for row in sessions],
        lines,
        persons,
        filters.date_from,
        filters.date_to,
        persons_filtered=bool(person_filters),
    )


def _to_json(tables: TrainingTables, computed_at: datetime) -> str:
    return json.dumps(
        {
            "computed_at": computed_at.isoformat(),
            "total": asdict(tables.total),
            "breakdowns": {d: [[k, asdict(c)] for k, c in cells] for d, cells in tables.breakdowns.items()},
        }
    )


def _from_json(raw: bytes) -> TrainingTables:
    data: dict[str, Any] = json.loads(raw)
    return TrainingTables(
        total=TrainingCell(**data["total"]),
        breakdowns={d: [(k, TrainingCell(**c)) for k, c in cells] for d, cells in data["breakdowns"].items()},
    )


WHOLE_ACADEMY_SECONDS = 24 * 3600  # exact whatever the age (the version): kept while the cache has room


def _whole_academy(filters: IndicatorFilters) -> bool:
    """No filter, or a date range that keeps every session whatever its zone (a day of margin on each
    side: a session near an edge is decided by its local date, so the range is then computed)."""
    if any(value not in (None, "") for value in (filters.course_id, filters.run_id, filters.country_code,
                                                  filters.authority_id, filters.modality)):  # fmt: skip
        return False
    if filters.date_from is None and filters.date_to is None:
        return True
    first, last = db.session.execute(
        select(
            select(func.min(TrainingSession.starts_at)).scalar_subquery(),
            select(func.max(TrainingSession.starts_at)).scalar_subquery(),
        )
    ).one()
    if first is None or last is None:
        return True
    after_start = filters.date_from is None or _start_of(filters.date_from) + MARGIN <= first
    before_end = filters.date_to is None or last < _start_of(filters.date_to)
    return after_start and before_end


def cached_training_tables(
    filters: IndicatorFilters, seconds: int = CACHE_SECONDS, sex: str | None = None
) -> TrainingTables:
    """The training figures, kept in the shared cache for a few minutes per set of filters, like the
    other indicators (lms.reports.indicator_queries.cached_indicator_tables).

    The whole academy's (no filter, or a date range that keeps every session) are kept under the
    trainings' version instead (lms.reports.versions: every write that can change them moves it), so
    they are computed once per change, not once per filter and every few minutes."""
    sex = sex_filter(sex)
    if seconds > 0 and sex is None and _whole_academy(filters):
        key = f"reports:trainings:whole:{versions.current(db.session.connection())}"
        raw = cache.get(key)
        if raw is not None:
            return _from_json(raw)
        tables = training_tables(IndicatorFilters())
        cache.set(key, _to_json(tables, utcnow()), max(seconds, WHOLE_ACADEMY_SECONDS))
        return tables
    described = repr(sorted(asdict(filters).items())) + f"|sex={sex}"
    key = "reports:trainings:" + hashlib.sha256(described.encode()).hexdigest()
    raw = cache.get(key) if seconds > 0 else None
    if raw is not None:
        return _from_json(raw)
    tables = training_tables(filters, sex)
    if seconds > 0:
        cache.set(key, _to_json(tables, utcnow()), seconds)
    return tables
