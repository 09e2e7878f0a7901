"""Read side of the reports: set-based SQL (GROUP BY, CTEs) that runs on SQLite and PostgreSQL.

Every page makes a fixed number of queries whatever the data size (tests count them at two sizes), and
every query is served by an index (tests read the query plans). Rows come back as plain dataclasses.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Collection, Iterator, Sequence
from dataclasses import asdict, dataclass, field
from datetime import UTC, date, datetime, time, timedelta
from typing import Any

from sqlalchemy import String, case, cast, func, literal, literal_column, select, union_all
from sqlalchemy.engine import Engine
from sqlalchemy.orm import Session
from sqlalchemy.sql import ColumnElement, Select

from lms.auth.models import User
from lms.courses.models import Course, Lesson, Module
from lms.db import utcnow
from lms.enrolment.models import SEAT_STATUSES, CourseRun, Enrolment, EnrolmentStatus, LessonCompletion
from lms.extensions import db
from lms.ops import cache
from lms.orgs.models import Authority, Country
from lms.quizzes.models import FINISHED_STATUSES, Quiz, QuizAttempt, QuizRole
from lms.reports.indicators import CellTotals, progress_percent
from lms.reports.models import IndicatorFact

PAGE_SIZE = 50

# --- Progress reports: per run (trainers, admins) and per authority (focal points) -------------------


@dataclass(frozen=True)
class ProgressFilters:
    authority_id: int | None = None
    country_code: str | None = None
    status: str | None = None
    stuck_days: int | None = None  # "not started / stuck": enrolled, no activity for this many days
    sort: str = "name"
    descending: bool = False
    page: int = 1


@dataclass(frozen=True)
class ProgressRow:
    enrolment_id: int
    user_id: int
    name: str
    email: str
    country_code: str | None
    authority_name: str | None
    course_title: str
    run_id: int
    run_title: str
    status: str
    lessons_done: int
    lessons_total: int
    last_activity_at: datetime | None
    completed_at: datetime | None
    best_scores: dict[int, float | None] = field(default_factory=dict)  # quiz id -> best finished percent

    @property
    def percent(self) -> int:
        return progress_percent(self.lessons_done, self.lessons_total)

    @property
    def not_started(self) -> bool:
        return self.lessons_done == 0


@dataclass(frozen=True)
class ProgressPage:
    rows: list[ProgressRow]
    total: int
    page: int
    pages: int
    quizzes: list[Quiz]  # the columns of best scores


def _lessons_done() -> ColumnElement[int]:
    """Published lessons this enrolment completed: a correlated count served by the unique
    (enrolment_id, lesson_id) index."""
    return (
        select(func.count(LessonCompletion.id))
        .join(Lesson, Lesson.id == LessonCompletion.lesson_id)
        .join(Module, Module.id == Lesson.module_id)
        .where(
            LessonCompletion.enrolment_id == Enrolment.id,
            Lesson.is_published.is_(True),
            Module.is_published.is_(True),
        )
        .correlate(Enrolment)
        .scalar_subquery()
    )


def _lesson_totals() -> Any:
    return (
        select(Module.course_id.label("course_id"), func.count(Lesson.id).label("total"))
        .join(Lesson, Lesson.module_id == Module.id)
        .where(Module.is_published.is_(True), Lesson.is_published.is_(True))
        .group_by(Module.course_id)
        .subquery("lesson_totals")
    )


SORT_KEYS = ("name", "progress", "last_activity", "completed", "authority", "status", "course")


def _progress_select(
    scope: list[ColumnElement[bool]], filters: ProgressFilters, now: datetime, with_done: bool = False
) -> Select[Any]:
    """The rows of a progress report. Lessons done is computed in SQL only where it must be (sorting by
    progress, or an export); a page otherwise counts them for its own 50 rows (`lessons_done_for`)."""
    done_expression = _lessons_done()
    done = (done_expression if with_done else literal(0)).label("done")
    totals = _lesson_totals()
    total = func.coalesce(totals.c.total, 0)
    query = (
        select(
            Enrolment.id,
            User.id,
            User.given_name,
            User.family_name,
            User.email,
            User.country_code,
            Authority.name,
            Course.title,
            CourseRun.id,
            CourseRun.title,
            Enrolment.status,
            done,
            total.label("total"),
            Enrolment.last_activity_at,
            Enrolment.completed_at,
        )
        .join(User, User.id == Enrolment.user_id)
        .join(CourseRun, CourseRun.id == Enrolment.run_id)
        .join(Course, Course.id == CourseRun.course_id)
        .outerjoin(totals, totals.c.course_id == Course.id)
        .outerjoin(Authority, Authority.id == Enrolment.authority_id)
        .where(*scope, *_filter_conditions(filters, now))
    )
    percent = case((total > 0, (done_expression * 100) / total), else_=0)
    orders: dict[str, list[Any]] = {
        "name": [User.family_name, User.given_name],
        "progress": [percent],
        "last_activity": [Enrolment.last_activity_at],
        "completed": [Enrolment.completed_at],
        "authority": [Authority.name],
        "status": [Enrolment.status],
        "course": [Course.title, CourseRun.title],
    }
    columns = orders.get(filters.sort, orders["name"])
    ordered = [c.desc() if filters.descending else c.asc() for c in columns]
    return query.order_by(*ordered, Enrolment.id)


def _filter_conditions(filters: ProgressFilters, now: datetime) -> list[ColumnElement[bool]]:
    conditions: list[ColumnElement[bool]] = []
    if filters.authority_id is not None:
        conditions.append(Enrolment.authority_id == filters.authority_id)
    if filters.country_code:
        conditions.append(User.country_code == filters.country_code)
    if filters.stuck_days is not None:
        since = now - timedelta(days=filters.stuck_days)
        conditions.append(Enrolment.status == EnrolmentStatus.ENROLLED)
        conditions.append(func.coalesce(Enrolment.last_activity_at, Enrolment.enrolled_at) < since)
    elif filters.status:
        conditions.append(Enrolment.status == filters.status)
    return conditions


def _count(scope: list[ColumnElement[bool]], filters: ProgressFilters, now: datetime) -> int:
    query = select(func.count(Enrolment.id)).where(*scope, *_filter_conditions(filters, now))
    if filters.country_code:
        query = query.join(User, User.id == Enrolment.user_id)
    return int(db.session.scalar(query) or 0)


def lessons_done_for(enrolment_ids: list[int]) -> dict[int, int]:
    """enrolment id -> published lessons completed, for one page of rows, in one grouped query."""
    if not enrolment_ids:
        return {}
    return {
        enrolment_id: count
        for enrolment_id, count in db.session.execute(
            select(LessonCompletion.enrolment_id, func.count(LessonCompletion.id))
            .join(Lesson, Lesson.id == LessonCompletion.lesson_id)
            .join(Module, Module.id == Lesson.module_id)
            .where(
                LessonCompletion.enrolment_id.in_(enrolment_ids),
                Lesson.is_published.is_(True),
                Module.is_published.is_(True),
            )
            .group_by(LessonCompletion.enrolment_id)
        )
    }


def _row(
    values: Sequence[Any], best: dict[int, dict[int, float | None]], done_by_id: dict[int, int] | None = None
) -> ProgressRow:
    (enrolment_id, user_id, given, family, email, country, authority, course_title, run_id, run_title,
     status, done, total, last_activity, completed) = values  # fmt: skip
    if done_by_id is not None:
        done = done_by_id.get(enrolment_id, 0)
    return ProgressRow(
        enrolment_id=enrolment_id,
        user_id=user_id,
        name=f"{family}, {given}",
        email=email,
        country_code=country,
        authority_name=authority,
        course_title=course_title,
        run_id=run_id,
        run_title=run_title,
        status=status,
        lessons_done=int(done or 0),
        lessons_total=int(total or 0),
        last_activity_at=last_activity,
        completed_at=completed,
        best_scores=best.get(enrolment_id, {}),
    )


def best_scores(enrolment_ids: list[int], quiz_ids: list[int]) -> dict[int, dict[int, float | None]]:
    """enrolment id -> quiz id -> best finished percent, in one grouped query."""
    result: dict[int, dict[int, float | None]] = {}
    if not enrolment_ids or not quiz_ids:
        return result
    for enrolment_id, quiz_id, best in db.session.execute(
        select(QuizAttempt.enrolment_id, QuizAttempt.quiz_id, func.max(QuizAttempt.percent))
        .where(
            QuizAttempt.enrolment_id.in_(enrolment_ids),
            QuizAttempt.quiz_id.in_(quiz_ids),
            QuizAttempt.status.in_(FINISHED_STATUSES),
        )
        .group_by(QuizAttempt.enrolment_id, QuizAttempt.quiz_id)
    ):
        result.setdefault(enrolment_id, {})[quiz_id] = None if best is None else round(float(best), 1)
    return result


def _page(
    scope: list[ColumnElement[bool]], filters: ProgressFilters, quizzes: list[Quiz], now: datetime
) -> ProgressPage:
    total = _count(scope, filters, now)
    pages = max(1, -(-total // PAGE_SIZE))
    page = min(max(filters.page, 1), pages)
    values = db.session.execute(
        _progress_select(scope, filters, now).limit(PAGE_SIZE).offset((page - 1) * PAGE_SIZE)
    ).all()
    ids = [v[0] for v in values]
    best = best_scores(ids, [q.id for q in quizzes])
    done = lessons_done_for(ids)
    return ProgressPage([_row(v, best, done) for v in values], total, page, pages, quizzes)


def run_quizzes(course_id: int) -> list[Quiz]:
    return list(
        db.session.scalars(
            select(Quiz)
            .where(Quiz.course_id == course_id, Quiz.is_published.is_(True))
            .order_by(Quiz.position, Quiz.id)
        )
    )


def run_progress(run: CourseRun, filters: ProgressFilters, now: datetime | None = None) -> ProgressPage:
    """A trainer's course report: one row per person with a record in the run."""
    return _page(run_scope(run), filters, run_quizzes(run.course_id), now or utcnow())


def final_quizzes() -> list[Quiz]:
    return list(
        db.session.scalars(select(Quiz).where(Quiz.role == QuizRole.FINAL, Quiz.is_published.is_(True)))
    )


def authority_progress(
    authority_ids: set[int], filters: ProgressFilters, now: datetime | None = None
) -> ProgressPage:
    """A focal point's report: their authorities' enrolments in every run, and nobody else's."""
    if filters.authority_id is not None and filters.authority_id not in authority_ids:
        filters = ProgressFilters(**{**filters.__dict__, "authority_id": None})
    return _page(authority_scope(authority_ids), filters, final_quizzes(), now or utcnow())


def export_progress_rows(
    engine: Engine, scope: list[ColumnElement[bool]], filters: ProgressFilters, now: datetime | None = None
) -> Iterator[ProgressRow]:
    """Every row of a progress report, streamed in chunks (no best scores: one query per chunk would do)."""
    query = _progress_select(scope, filters, now or utcnow(), with_done=True).execution_options(
        yield_per=1000
    )
    with Session(engine) as session:  # its own session: the download outlives the request
        for values in session.execute(query):
            yield _row(values, {})


def run_scope(run: CourseRun) -> list[ColumnElement[bool]]:
    return [Enrolment.run_id == run.id]


def authority_scope(authority_ids: set[int]) -> list[ColumnElement[bool]]:
    return [Enrolment.authority_id.in_(sorted(authority_ids) or [-1])]


@dataclass(frozen=True)
class RunListing:
    run: CourseRun
    course: Course


def runs_page(
    page: int, course_id: int | None = None, course_ids: Collection[int] | None = None
) -> tuple[list[RunListing], int, int]:
    """Runs for the reports index, newest first, a page at a time (600 runs on the bench data); of one
    course, of the given courses (a trainer's), or all."""
    conditions = [] if course_id is None else [CourseRun.course_id == course_id]
    if course_ids is not None:
        conditions.append(CourseRun.course_id.in_(sorted(course_ids) or [-1]))
    total = int(db.session.scalar(select(func.count(CourseRun.id)).where(*conditions)) or 0)
    pages = max(1, -(-total // PAGE_SIZE))
    page = min(max(page, 1), pages)
    rows = db.session.execute(
        select(CourseRun, Course)
        .join(Course, Course.id == CourseRun.course_id)
        .where(*conditions)
        .order_by(CourseRun.starts_on.desc().nulls_last(), CourseRun.id.desc())
        .limit(PAGE_SIZE)
        .offset((page - 1) * PAGE_SIZE)
    ).all()
    return [RunListing(r, c) for r, c in rows], page, pages


def authorities_by_id(ids: set[int] | None = None) -> dict[int, Authority]:
    query = select(Authority).order_by(Authority.name)
    if ids is not None:
        query = query.where(Authority.id.in_(sorted(ids) or [-1]))
    return {a.id: a for a in db.session.scalars(query)}


def countries_by_code(codes: set[str] | None = None) -> dict[str, Country]:
    query = select(Country).order_by(Country.name)
    if codes is not None:
        query = query.where(Country.code.in_(sorted(codes) or [""]))
    return {c.code: c for c in db.session.scalars(query)}


def run_authority_ids(run_id: int) -> set[int]:
    """The authorities that have people in this run: the run report's filter offers these, not all 176."""
    return set(
        db.session.scalars(
            select(Enrolment.authority_id)
            .where(Enrolment.run_id == run_id, Enrolment.authority_id.is_not(None))
            .distinct()
        )
    )


# --- The admin indicator report ------------------------------------------------------------------


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
    first, last = db.session.execute(select(func.min(fact.enrolled_at), func.max(fact.enrolled_at))).one()
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
    """Every indicator for the total, each breakdown and each month, in ONE statement over the fact table
    (lms.reports.models: one row per place, kept true by lms.reports.facts).

    Participants are distinct persons. Country, sex and age band belong to the person, so the places are
    first summed per person (a CTE read in the table's own order), and each of those breakdowns counts
    person rows: no COUNT(DISTINCT) over 200,000 places. The authority belongs to the place (a person may
    have trained with two agencies), so it is summed per (authority, person) first. The parts are glued
    with UNION ALL."""
    fact = IndicatorFact
    conditions = _fact_conditions(filters)

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
    per_person = sums(fact.user_id, *person_keys).group_by(fact.user_id).cte("per_person")
    per_authority = (
        sums(fact.authority_id.label("authority_id"), fact.user_id).group_by(fact.authority_id, fact.user_id)
    ).cte("per_authority")

    def grouped(dimension: str, source: Any, key: Any) -> Select[Any]:
        return select(
            literal(dimension).label("dimension"),
            key.label("key"),
            func.count(),
            func.sum(source.c.enrolments),
            func.sum(source.c.done),
            func.sum(case((source.c.done > 0, 1), else_=0)),
            func.sum(source.c.certificates),
            func.sum(source.c.hours),
            func.sum(source.c.paired),
            func.sum(source.c.pre),
            func.sum(source.c.post),
        ).group_by(key)

    parts = [grouped("total", per_person, cast(literal(""), String))]
    parts += [grouped(name, per_person, per_person.c[name]) for name in PERSON_DIMENSIONS]
    parts.append(grouped("authority", per_authority, cast(per_authority.c.authority_id, String)))
    zero = literal(0)
    parts.append(
        select(literal("month"), fact.completed_month, zero, func.count(), func.count(), *([zero] * 6))
        .where(fact.completed_month.is_not(None), *conditions)
        .group_by(fact.completed_month)
    )
    rows = db.session.execute(union_all(*parts)).all()

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
