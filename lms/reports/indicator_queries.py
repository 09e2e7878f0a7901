"""Read side of the admin indicator report (donor figures): sums per cell by country, authority, sex and
age band, from the indicator fact table; the enrolment-level export; the few minutes' cache.

Like lms.reports.queries: a fixed number of queries whatever the data size, each served by an index
(tests/test_reports_query_plans.py reads the plans).
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterator
from dataclasses import asdict, dataclass
from datetime import UTC, date, datetime, time, timedelta
from typing import Any

from sqlalchemy import String, and_, case, cast, func, literal, literal_column, or_, select, union_all
from sqlalchemy.engine import Engine
from sqlalchemy.orm import Session, aliased
from sqlalchemy.sql import ColumnElement, Select

from lms.auth.models import User
from lms.courses.models import Course
from lms.db import utcnow
from lms.enrolment.models import SEAT_STATUSES, CourseRun, Enrolment
from lms.extensions import db
from lms.ops import cache
from lms.orgs.models import Authority, Country
from lms.reports.indicators import CellTotals
from lms.reports.models import IndicatorBucket, IndicatorCell, IndicatorFact
from lms.reports.queries import authorities_by_id, countries_by_code


@dataclass(frozen=True)
class IndicatorFilters:
    date_from: date | None = None  # enrolments made on or after this day...
    date_to: date | None = None  # ...and on or before this day (the cohort)
    course_id: int | None = None
    run_id: int | None = None
    country_code: str | None = None
    authority_id: int | None = None
    modality: str | None = None


DIMENSIONS = ("country", "authority", "sex", "age_band")
PERSON_DIMENSIONS = ("country", "sex", "age_band")  # attributes of the person, not of the place


@dataclass(frozen=True)
class IndicatorTables:
    total: CellTotals
    breakdowns: dict[str, list[tuple[str | None, CellTotals]]]  # dimension -> (key, sums), by key
    completions_by_month: list[tuple[str, int]]  # ("2026-03", completed enrolments)


def _start_of(day: date) -> datetime:
    return datetime.combine(day, time.min, tzinfo=UTC)


def _indicator_conditions(filters: IndicatorFilters) -> list[ColumnElement[bool]]:
    """The filters on the live tables (the enrolment-level export)."""
    conditions: list[ColumnElement[bool]] = [Enrolment.status.in_(SEAT_STATUSES)]
    conditions += _dates(Enrolment.enrolled_at, filters.date_from, filters.date_to)
    columns = (
        Enrolment.run_id,
        CourseRun.course_id,
        CourseRun.modality,
        User.country_code,
        Enrolment.authority_id,
    )
    return conditions + _equal_to_filters(filters, *columns)


def _fact_conditions(filters: IndicatorFilters) -> list[ColumnElement[bool]]:
    """The same filters on the fact table (the report)."""
    fact = IndicatorFact
    conditions = _date_range(filters.date_from, filters.date_to)
    return conditions + _equal_to_filters(
        filters, fact.run_id, fact.course_id, fact.modality, fact.country_code, fact.authority_id
    )


def _equal_to_filters(filters: IndicatorFilters, *columns: Any) -> list[ColumnElement[bool]]:
    """column == value for the run, course, modality, country and authority filters that are set."""
    values = (filters.run_id, filters.course_id, filters.modality or None, filters.country_code or None,
              filters.authority_id)  # fmt: skip
    return [column == value for column, value in zip(columns, values, strict=True) if value is not None]


def _dates(column: Any, date_from: date | None, date_to: date | None) -> list[ColumnElement[bool]]:
    """Enrolled on or after ``date_from`` and on or before ``date_to`` (whole days, UTC)."""
    conditions = [column >= _start_of(date_from)] if date_from is not None else []
    if date_to is not None:
        conditions.append(column < _start_of(date_to + timedelta(days=1)))
    return conditions


def enrolment_span() -> tuple[datetime | None, datetime | None]:
    """The first and last enrolment date of the facts: two index probes. (One SELECT of both min() and
    max() is not optimised by SQLite: it read the whole index, 0.1 s on L.)"""
    fact = IndicatorFact
    first = select(func.min(fact.enrolled_at)).scalar_subquery()
    last = select(func.max(fact.enrolled_at)).scalar_subquery()
    row = db.session.execute(select(first, last)).one()
    return row[0], row[1]


def _date_range(date_from: date | None, date_to: date | None) -> list[ColumnElement[bool]]:
    """The enrolment-date conditions on the facts, with SQLite told how much of the table they keep.

    Without statistics SQLite takes any two-sided range for a narrow one and reads it through the
    enrolled_at index: for "2020 to today" that is every row looked up and sorted again (1.2 s on L
    instead of 0.45 s). ``likelihood()`` passes the share of facts the range keeps (from the first and
    last enrolment date, two index probes), so a quarter still uses the index and a wide range reads
    the covering indexes in order. PostgreSQL keeps statistics of its own.
    """
    fact = IndicatorFact
    plain = _dates(fact.enrolled_at, date_from, date_to)
    if not plain or db.session.get_bind().dialect.name != "sqlite":
        return plain
    first, last = enrolment_span()
    if first is None or last is None or last <= first:
        return plain
    low = max(_start_of(date_from), first) if date_from is not None else first
    high = min(_start_of(date_to + timedelta(days=1)), last) if date_to is not None else last
    share = min(max((high - low) / (last - first), 0.001), 0.999)
    # The planner multiplies the conditions' likelihoods: the first carries the range's share, the
    # second says "almost always". Constants, as likelihood() requires: floats formatted here.
    hints = [f"{share:.3f}", "0.999"]
    return [func.likelihood(c, literal_column(h)) for c, h in zip(plain, hints, strict=False)]


def indicator_tables(filters: IndicatorFilters) -> IndicatorTables:
    """Every indicator for the total, each breakdown and each month. The whole academy (no filter, or a
    date range that keeps every fact) is read from the stored cells (lms.reports.cells: a few hundred
    rows, whatever the data size); anything narrower is grouped from the facts."""
    if _whole_academy(filters):
        return _tables_of(_stored_cells())
    whole = _whole_months(filters)
    if whole is not None:
        return _tables_of(_bucketed(filters, *whole))
    return grouped_indicator_tables(filters)


def _next_month(day: date) -> date:
    return date(day.year + day.month // 12, day.month % 12 + 1, 1)


def _whole_months(filters: IndicatorFilters) -> tuple[date, date] | None:
    """The months the buckets answer for a date range, as [first day of the first, first day after the
    last), when only dates filter the report; else None (grouped from the facts). A month the range
    covers only in part is taken whole when the days it leaves out are fewer than half the month (they
    are subtracted, `_bucketed`), else left out (the days it keeps are added)."""
    if any(value not in (None, "") for value in (filters.course_id, filters.run_id, filters.country_code,
                                                  filters.authority_id, filters.modality)):  # fmt: skip
        return None
    start, end = date(1900, 1, 1), date(9999, 12, 1)  # no bound: every month (and no edge)
    low, high = filters.date_from, filters.date_to
    if low is not None:
        if low >= end:
            return None
        month = low.replace(day=1)
        start = month if (low - month).days * 2 <= (_next_month(month) - month).days else _next_month(month)
    if high is not None and high < end:
        month = high.replace(day=1)
        left_out = (_next_month(month) - high).days - 1
        end = _next_month(month) if left_out * 2 <= (_next_month(month) - month).days else month
    return (start, end) if start < end else None


def _bucketed(filters: IndicatorFilters, start: date, end: date) -> list[Any]:
    """A date range from the month buckets (lms.reports.models.IndicatorBucket): the months `_whole_months`
    chose summed in one statement; the days at the edges grouped from their facts, added (days of the
    range outside those months) or subtracted (days of those months outside the range), a person of an
    edge counted or taken away only when they have no place in both the range and the months (an index
    probe per person). The same figures as `grouped_indicator_tables` (tests/test_reports_buckets.py)."""
    bucket = IndicatorBucket
    first, after = f"{start.year:04d}{start.month:02d}", f"{end.year:04d}{end.month:02d}"
    months = (bucket.month >= first, bucket.month < after)
    zero = literal(0)
    # Two parts, each grouping only the rows it needs: the sums of the places (the rows since ""), and the
    # persons counted at their first place in these months (the rows since before the first month; ""
    # sorts first).
    additive = select(
        bucket.dimension,
        bucket.key,
        zero,
        func.sum(bucket.enrolments),
        func.sum(bucket.completions),
        zero,
        func.sum(bucket.certificates),
        func.sum(bucket.completed_hours),
        func.sum(bucket.paired),
        func.sum(bucket.pre_sum),
        func.sum(bucket.post_sum),
    ).where(*months, bucket.since == "")
    persons = select(
        bucket.dimension,
        bucket.key,
        func.sum(bucket.participants),
        *([zero] * 2),
        func.sum(bucket.completed_persons),
        *([zero] * 5),
    ).where(*months, bucket.since < first, bucket.dimension != "month")
    parts = (additive.group_by(bucket.dimension, bucket.key), persons.group_by(bucket.dimension, bucket.key))
    rows = db.session.execute(union_all(*parts)).all()
    sums: dict[tuple[str, str | None], list[Any]] = {}
    for dimension, key, *numbers in rows:
        cell = sums.setdefault((dimension, None if key == "" and dimension != "total" else key), [0] * 9)
        for index, number in enumerate(numbers):
            cell[index] += number or 0
    # The range R against the months W: days of R outside W are added, days of W outside R subtracted;
    # a person of those days is counted (or taken away) only when they have no place in R and W both.
    low, high = filters.date_from, filters.date_to
    if high is not None and high >= date(9999, 12, 1):
        high = None
    added: list[tuple[date | None, date | None]] = []
    taken: list[tuple[date | None, date | None]] = []
    if low is not None and low < start:
        added.append((low, start - timedelta(days=1)))
    elif low is not None and start < low:
        taken.append((start, low - timedelta(days=1)))
    if high is not None and end <= high:
        added.append((end, high))
    elif high is not None and high < end - timedelta(days=1):
        taken.append((high + timedelta(days=1), end - timedelta(days=1)))
    both = (
        _start_of(max(start, low) if low is not None else start),
        _start_of(min(end, high + timedelta(days=1)) if high is not None else end),
    )
    for edges, sign in ((added, 1), (taken, -1)):
        if not edges:
            continue
        for dimension, key, *numbers in grouped_indicator_rows(filters, edges, both):
            cell = sums.setdefault((dimension, key), [0] * len(numbers))
            for index, number in enumerate(numbers):
                cell[index] += sign * (number or 0)
    return [(d, k, *numbers) for (d, k), numbers in sums.items() if numbers[1]]


def grouped_indicator_tables(filters: IndicatorFilters) -> IndicatorTables:
    """The indicators grouped in ONE statement over the fact table (lms.reports.models: one row per place,
    kept true by lms.reports.facts). `indicator_tables` reads the stored cells instead when nothing
    narrows the report: the same figures (tests/test_reports_cells.py).

    Participants are distinct persons. Country, sex and age band belong to the person, so the places are
    first summed per person (a CTE read in the table's own order), and each of those breakdowns counts
    person rows: no COUNT(DISTINCT) over 200,000 places. The authority belongs to the place (a person may
    have trained with two agencies), so it is summed per (authority, person) first. The parts are glued
    with UNION ALL."""
    return _tables_of(grouped_indicator_rows(filters))


def grouped_indicator_rows(
    filters: IndicatorFilters,
    edges: list[tuple[date | None, date | None]] | None = None,
    whole: tuple[datetime, datetime] | None = None,
) -> Any:
    """The grouping statement of `grouped_indicator_tables`. With ``edges`` (date ranges) instead of the
    filters' dates, and ``whole`` (the whole months between them, read from the buckets): a person (or a
    person at an authority) is counted only when they have no place (no completed place, for the
    completed persons) in the whole months, so the sum with the buckets counts each person once."""
    fact = IndicatorFact
    if edges is None:
        conditions = _fact_conditions(filters)
    else:
        conditions = [or_(*(and_(*_dates(fact.enrolled_at, low, high)) for low, high in edges))]

    def sums(*keys: Any) -> Select[Any]:
        return select(
            *keys,
            func.count().label("enrolments"),
            func.count(fact.completed_month).label("done"),
            func.sum(fact.certificate).label("certificates"),
            func.sum(fact.hours).label("hours"),
            func.sum(fact.paired).label("paired"),
            func.sum(fact.pre_percent).label("pre"),
            func.sum(fact.post_percent).label("post"),
        ).where(*conditions)

    # The person's country, sex and age band are the same on all their places. SQLite returns such
    # "bare" columns of an aggregate from one of the group's rows (documented; saves a third of the pass),
    # PostgreSQL needs them aggregated.
    bare = db.session.get_bind().dialect.name == "sqlite"
    person = [fact.country_code, fact.sex, fact.age_band]
    person_keys = [
        (c if bare else func.min(c)).label(n) for c, n in zip(person, PERSON_DIMENSIONS, strict=True)
    ]
    flags: list[Any] = []
    authority_flags: list[Any] = []
    if whole is not None:
        # Has this person (this person at this authority) a place in the whole months: 0 none, 1 only
        # places not completed, 2 a completed one. One probe of the primary key (or the authority's
        # covering index) per group.
        other = aliased(IndicatorFact)
        there = [other.user_id == fact.user_id, other.enrolled_at >= whole[0], other.enrolled_at < whole[1]]
        kind = func.max(case((other.completed_month.is_not(None), 2), else_=1))
        flags = [func.coalesce(select(kind).where(*there).scalar_subquery(), 0).label("seen")]
        at_authority = other.authority_id.is_not_distinct_from(fact.authority_id)
        authority_flags = [
            func.coalesce(select(kind).where(*there, at_authority).scalar_subquery(), 0).label("seen")
        ]
    per_person = sums(fact.user_id, *person_keys, *flags).group_by(fact.user_id).cte("per_person")
    per_authority = (
        sums(fact.authority_id.label("authority_id"), fact.user_id, *authority_flags).group_by(
            fact.authority_id, fact.user_id
        )
    ).cte("per_authority")

    def persons(source: Any) -> tuple[Any, Any]:
        """The distinct persons and completed persons of a grouped part (with ``whole``: those not
        counted by the buckets already)."""
        if whole is None:
            return func.count(), func.sum(case((source.c.done > 0, 1), else_=0))
        return (
            func.sum(case((source.c.seen == 0, 1), else_=0)),
            func.sum(case((and_(source.c.done > 0, source.c.seen < 2), 1), else_=0)),
        )

    def grouped(dimension: str, source: Any, *keys: Any) -> Select[Any]:
        participants, completed_persons = persons(source)
        nothing = cast(literal(None), String)
        padded = [cast(key, String) for key in keys] + [nothing] * (len(PERSON_DIMENSIONS) - len(keys))
        return select(
            literal(dimension).label("dimension"),
            *padded,
            participants,
            func.sum(source.c.enrolments),
            func.sum(source.c.done),
            completed_persons,
            func.sum(source.c.certificates),
            func.sum(source.c.hours),
            func.sum(source.c.paired),
            func.sum(source.c.pre),
            func.sum(source.c.post),
        ).group_by(*keys)

    # One pass over the persons, grouped by (country, sex, age band) together: the total and each of the
    # three breakdowns are rolled up from those groups below (a person is in exactly one).
    parts = [grouped("person", per_person, *(per_person.c[name] for name in PERSON_DIMENSIONS))]
    parts.append(grouped("authority", per_authority, per_authority.c.authority_id))
    zero = literal(0)
    parts.append(
        select(
            literal("month"),
            fact.completed_month,
            *([literal(None)] * 2),
            zero,
            func.count(),
            func.count(),
            *([zero] * 6),
        )
        .where(fact.completed_month.is_not(None), *conditions)
        .group_by(fact.completed_month)
    )
    return _rolled_up(db.session.execute(union_all(*parts)).all())


def _rolled_up(rows: Any) -> list[Any]:
    """The rows of `grouped_indicator_rows` as (dimension, key, figures...): the person groups summed into
    the total, each country, sex and age band."""
    cells: dict[tuple[str, str | None], list[Any]] = {}

    def add(dimension: str, key: str | None, numbers: list[Any]) -> None:
        cell = cells.get((dimension, key))
        if cell is None:
            cells[(dimension, key)] = [n or 0 for n in numbers]
        else:
            for index, number in enumerate(numbers):
                cell[index] += number or 0

    for dimension, first, second, third, *numbers in rows:
        if dimension != "person":
            add(dimension, first, numbers)
            continue
        add("total", "", numbers)
        for name, key in zip(PERSON_DIMENSIONS, (first, second, third), strict=True):
            add(name, key, numbers)
    return [(dimension, key, *numbers) for (dimension, key), numbers in cells.items()]


def _whole_academy(filters: IndicatorFilters) -> bool:
    """No filter, or only a date range that keeps every fact: the stored cells are the answer."""
    if any(value not in (None, "") for value in (filters.course_id, filters.run_id, filters.country_code,
                                                  filters.authority_id, filters.modality)):  # fmt: skip
        return False
    if filters.date_from is None and filters.date_to is None:
        return True
    first, last = enrolment_span()
    if first is None or last is None:
        return True  # no fact at all: the cells are empty too
    after_start = filters.date_from is None or _start_of(filters.date_from) <= first
    before_end = filters.date_to is None or last < _start_of(filters.date_to + timedelta(days=1))
    return after_start and before_end


def _stored_cells() -> list[Any]:
    """The stored cells (lms.reports.cells) as the rows of the grouping statement below (each cell's slot
    rows summed)."""
    cell = IndicatorCell
    figures = (cell.participants, cell.enrolments, cell.completions, cell.completed_persons,
               cell.certificates, cell.completed_hours, cell.paired, cell.pre_sum, cell.post_sum)  # fmt: skip
    query = select(cell.dimension, cell.key, *(func.sum(figure) for figure in figures))
    rows = db.session.execute(
        query.group_by(cell.dimension, cell.key).having(func.sum(cell.enrolments) > 0)
    ).all()
    # A cell without a value ("") is the breakdown's "none"; the authority's key is its id as text.
    return [(d, None if k == "" and d != "total" else k, *numbers) for d, k, *numbers in rows]


def _tables_of(rows: Any) -> IndicatorTables:
    total = CellTotals()
    breakdowns: dict[str, list[tuple[str | None, CellTotals]]] = {name: [] for name in DIMENSIONS}
    months: list[tuple[str, int]] = []
    for dimension, key, *numbers in rows:
        cell = CellTotals(
            participants=int(numbers[0] or 0),
            enrolments=int(numbers[1] or 0),
            completions=int(numbers[2] or 0),
            completed_persons=int(numbers[3] or 0),
            certificates=int(numbers[4] or 0),
            completed_hours=int(numbers[5] or 0),
            paired=int(numbers[6] or 0),
            pre_sum=float(numbers[7] or 0),
            post_sum=float(numbers[8] or 0),
        )
        if dimension == "total":
            total = cell
        elif dimension == "month":
            key_text = str(key)
            months.append((f"{key_text[:4]}-{key_text[4:6]}", cell.completions))
        else:
            breakdowns[dimension].append((key, cell))
    for cells in breakdowns.values():
        cells.sort(key=lambda item: (item[0] is None, str(item[0] or "")))
    months.sort()
    return IndicatorTables(total, breakdowns, months)


@dataclass(frozen=True)
class EnrolmentFact:
    enrolment_id: int
    user_id: int
    country_code: str | None
    authority_code: str | None
    sex: str | None
    birth_year_band: str | None
    course_slug: str
    run_id: int
    modality: str
    status: str
    enrolled_at: datetime | None
    completed_at: datetime | None


def export_enrolment_facts(engine: Engine, filters: IndicatorFilters) -> Iterator[EnrolmentFact]:
    """One row per enrolment in scope (pseudonymous: ids, no names), streamed in chunks of 1000 so that
    memory stays flat however many rows the export has."""
    query = (
        select(
            Enrolment.id,
            Enrolment.user_id,
            User.country_code,
            Authority.code,
            User.sex,
            User.birth_year_band,
            Course.slug,
            CourseRun.id,
            CourseRun.modality,
            Enrolment.status,
            Enrolment.enrolled_at,
            Enrolment.completed_at,
        )
        .join(User, User.id == Enrolment.user_id)
        .join(CourseRun, CourseRun.id == Enrolment.run_id)
        .join(Course, Course.id == CourseRun.course_id)
        .outerjoin(Authority, Authority.id == Enrolment.authority_id)
        .where(*_indicator_conditions(filters))
        .order_by(Enrolment.id)
        .execution_options(yield_per=1000)
    )
    with Session(engine) as session:  # its own session: the download outlives the request
        for values in session.execute(query):
            yield EnrolmentFact(*values)


@dataclass(frozen=True)
class FilterChoices:
    courses: list[tuple[int, str]]
    runs: list[tuple[int, str]]
    countries: dict[str, Country]
    authorities: dict[int, Authority]


def filter_choices(course_id: int | None) -> FilterChoices:
    """Lists for the filter form: four small queries (runs only once a course is chosen: 600 on L)."""
    courses = [(i, t) for i, t in db.session.execute(select(Course.id, Course.title).order_by(Course.title))]
    runs: list[tuple[int, str]] = []
    if course_id is not None:
        runs = [
            (i, t)
            for i, t in db.session.execute(
                select(CourseRun.id, CourseRun.title)
                .where(CourseRun.course_id == course_id)
                .order_by(CourseRun.starts_on.desc().nulls_last(), CourseRun.id.desc())
            )
        ]
    return FilterChoices(courses, runs, countries_by_code(), authorities_by_id())


CACHE_SECONDS = 300  # donor figures: five minutes old at most (config REPORTS_CACHE_SECONDS)


def _tables_to_json(tables: IndicatorTables, computed_at: datetime) -> str:
    return json.dumps(
        {
            "computed_at": computed_at.isoformat(),
            "total": asdict(tables.total),
            "breakdowns": {d: [[k, asdict(c)] for k, c in cells] for d, cells in tables.breakdowns.items()},
            "months": tables.completions_by_month,
        }
    )


def _tables_from_json(raw: bytes) -> tuple[IndicatorTables, datetime]:
    data = json.loads(raw)
    tables = IndicatorTables(
        total=CellTotals(**data["total"]),
        breakdowns={d: [(k, CellTotals(**c)) for k, c in cells] for d, cells in data["breakdowns"].items()},
        completions_by_month=[(m, n) for m, n in data["months"]],
    )
    return tables, datetime.fromisoformat(data["computed_at"])


def cached_indicator_tables(
    filters: IndicatorFilters, seconds: int = CACHE_SECONDS
) -> tuple[IndicatorTables, datetime]:
    """The indicator tables, kept in the shared cache (Redis, when configured) for a few minutes per set of
    filters: on the L data set the statement reads 200k enrolments, and donor figures need not be
    fresher than that. Without Redis every call computes (lms.ops.cache has no per-process cache)."""
    key = "reports:indicators:" + hashlib.sha256(repr(sorted(asdict(filters).items())).encode()).hexdigest()
    raw = cache.get(key) if seconds > 0 else None
    if raw is not None:
        return _tables_from_json(raw)
    tables, computed_at = indicator_tables(filters), utcnow()
    if seconds > 0:
        cache.set(key, _tables_to_json(tables, computed_at), seconds)
    return tables, computed_at
