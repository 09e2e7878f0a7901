"""Read side of the progress reports (per run for trainers and admins, per authority for focal points)
and the run listing: set-based SQL (GROUP BY, CTEs) that runs on SQLite and PostgreSQL. The admin
indicator report reads through lms.reports.indicator_queries.

Every page makes a fixed number of queries whatever the data size (tests count them at two sizes), and
every query is served by an index (tests read the query plans). Rows come back as plain dataclasses.
"""

from __future__ import annotations

from collections.abc import Collection, Iterator, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import case, func, literal, select
from sqlalchemy.engine import Engine
from sqlalchemy.orm import Session
from sqlalchemy.sql import ColumnElement, Select

from lms.auth.models import User
from lms.courses.models import Course, Lesson, Module
from lms.db import utcnow
from lms.enrolment.models import CourseRun, Enrolment, EnrolmentStatus, LessonCompletion
from lms.extensions import db
from lms.orgs.models import Authority, Country
from lms.quizzes.models import FINISHED_STATUSES, Quiz, QuizAttempt, QuizRole
from lms.reports.indicators import progress_percent

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
