"""Read side of enrolments: the trainee dashboard."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Callable
from dataclasses import dataclass
from datetime import date, datetime
from functools import cache
from typing import Any, NamedTuple

from sqlalchemy import ColumnElement, Select, bindparam, func, select
from sqlalchemy.orm import aliased

from lms.auth.models import User
from lms.courses.models import Course
from lms.courses.published import CourseKey, PublishedCourse, key_columns, snapshot_of
from lms.courses.queries import ordered_lesson_ids
from lms.enrolment.completion import places_standing
from lms.enrolment.models import (
    ACTIVE_STATUSES,
    SEAT_STATUSES,
    CourseRun,
    Enrolment,
    EnrolmentEvent,
    EnrolmentMethod,
    EnrolmentStatus,
    LessonCompletion,
    RunAuthorityQuota,
    RunEligibleAuthority,
    RunEligibleCountry,
    status_in,
)
from lms.enrolment.progress import CompletionRule, Progress, compute_progress
from lms.enrolment.rules import Eligibility, is_eligible, window_refusal
from lms.extensions import db
from lms.orgs.models import Authority
from lms.quizzes.models import QuizRole
from lms.quizzes.queries import QuizStanding, published_quizzes, standings


class DashboardPlace(NamedTuple):
    """The columns of an enrolment the dashboard, the lesson page and the account data page show, as a
    plain row: building Enrolment and CourseRun objects cost ~0.1 ms of ORM work per dashboard (issue 22)."""

    id: int
    status: str
    language: str | None
    attended_minutes: int
    enrolled_at: datetime
    completed_at: datetime | None


class DashboardRun(NamedTuple):
    """The columns of a place's course run the dashboard needs (deadline, completion rule, next session)."""

    id: int
    course_id: int
    title: str
    ends_on: date | None
    completion_requires_lessons: bool
    min_attendance_percent: int | None
    session_minutes: int
    sessions_end_at: datetime | None


_PLACE_WIDTH, _RUN_WIDTH = len(DashboardPlace._fields), len(DashboardRun._fields)


@dataclass(frozen=True)
class DashboardRow:
    enrolment: DashboardPlace
    run: DashboardRun
    course: PublishedCourse
    progress: Progress
    next_lesson_title: str | None = None  # in the enrolment's language when translated
    quizzes: tuple[QuizStanding, ...] = ()  # every published quiz of the course, in outline order
    run_value: Any = None  # the caller's run_column for this place (dashboard_rows)


# A column a caller adds to each dashboard place: the run's id column -> an expression (it may use the
# statement's bind parameter ``user_id``).
RunColumn = Callable[[ColumnElement[int]], ColumnElement[Any]]


def dashboard_rows(user_id: int, run_column: RunColumn | None = None) -> list[DashboardRow]:
    """The user's enrolments with progress, next lesson and quiz results, in a fixed number of queries.

    Courses come from their outline snapshots (lms.courses.published): lesson order and next-lesson
    titles cost no query of their own. ``run_column`` adds a value per place to the first statement
    (``DashboardRow.run_value``): the dashboard's certificate in force comes from a feature above this one,
    and a statement of its own cost the page ~5 % (issue 22).
    """
    found = db.session.execute(_dashboard_enrolments(run_column), {"user_id": user_id}).all()
    if not found:
        return []
    end = _PLACE_WIDTH + _RUN_WIDTH
    key_end = end + len(key_columns())
    rows = [(DashboardPlace(*row[:_PLACE_WIDTH]), DashboardRun(*row[_PLACE_WIDTH:end])) for row in found]
    enrolment_ids = [enrolment.id for enrolment, _ in rows]
    # The course's key comes with the place: no statement for the courses while their snapshots are current.
    courses = {
        run.course_id: snapshot_of(CourseKey(*row[end:key_end]))
        for (_place, run), row in zip(rows, found, strict=True)
    }
    run_values = [row[key_end] if run_column is not None else None for row in found]
    # Lessons completed and quiz attempts of every place in one statement; every quiz's standing from it.
    done = places_standing(enrolment_ids)
    completed = done.completed
    quizzes = [quiz for course in courses.values() for quiz in published_quizzes(course)]
    course_of = {enrolment.id: run.course_id for enrolment, run in rows}
    table = standings(quizzes, enrolment_ids, course_of, attempts=done.attempts)
    results: list[DashboardRow] = []
    for (enrolment, run), run_value in zip(rows, run_values, strict=True):
        course = courses[run.course_id]
        mine = tuple(table[(enrolment.id, q.id)] for q in quizzes if q.course_id == course.id)
        final = next((s for s in mine if s.quiz.role == QuizRole.FINAL), None)
        progress = compute_progress(
            course.lesson_ids,
            completed[enrolment.id],
            assessment_required=final is not None,
            assessment_passed=final is not None and final.passed,
            rule=CompletionRule.of(run, enrolment),
        )
        next_lesson = course.lesson(progress.next_lesson_id) if progress.next_lesson_id else None
        title = next_lesson.title_in(enrolment.language or course.language) if next_lesson else None
        results.append(DashboardRow(enrolment, run, course, progress, title, mine, run_value))
    return results


class StudyPlace(NamedTuple):
    """A person's active place in a course, as plain rows, with the course row's snapshot key."""

    place: DashboardPlace
    run: DashboardRun
    course: CourseKey


def study_place_by_course_slug(user_id: int, slug: str) -> StudyPlace | None:
    """The person's newest active place in the published course with this slug (as
    ``self_service.active_enrolment`` chooses it), as plain rows with the course's key: every lesson page
    reads this, and building Enrolment and CourseRun objects was half of its place read (issue 22). None
    when the person holds no such place, or there is no such published course."""
    row = db.session.execute(_study_place_by_slug(), {"user_id": user_id, "slug": slug}).first()
    if row is None:
        return None
    end = _PLACE_WIDTH + _RUN_WIDTH
    return StudyPlace(
        DashboardPlace(*row[:_PLACE_WIDTH]), DashboardRun(*row[_PLACE_WIDTH:end]), CourseKey(*row[end:])
    )


@cache
def _study_place_by_slug() -> Select[Any]:
    places, runs, courses = Enrolment.__table__.c, CourseRun.__table__.c, Course.__table__.c
    return (
        select(
            *[places[name] for name in DashboardPlace._fields],
            *[runs[name] for name in DashboardRun._fields],
            *[courses[column.key] for column in key_columns()],
        )
        .select_from(Enrolment.__table__)
        .join(CourseRun.__table__, places.run_id == runs.id)
        .join(Course.__table__, runs.course_id == courses.id)
        .where(
            places.user_id == bindparam("user_id"),
            status_in(places.status, ACTIVE_STATUSES),
            courses.slug == bindparam("slug"),
            courses.is_published.is_(True),
        )
        .order_by(places.enrolled_at.desc(), places.id.desc())
        .limit(1)
    )


# Built once (a statement object keeps its cache key): the dashboard is the trainee's home page.
@cache  # per run_column: a module's function, so a handful of statements, each keeping its cache key
def _dashboard_enrolments(run_column: RunColumn | None) -> Select[Any]:
    # On the tables, not the mapped classes: a Core statement skips the ORM's per-statement set-up (issue 22).
    places, runs, courses = Enrolment.__table__.c, CourseRun.__table__.c, Course.__table__.c
    extra = [run_column(runs.id)] if run_column is not None else []
    return (
        select(
            *[places[name] for name in DashboardPlace._fields],
            *[runs[name] for name in DashboardRun._fields],
            *[courses[column.key] for column in key_columns()],
            *extra,
        )
        .select_from(Enrolment.__table__)
        .join(CourseRun.__table__, places.run_id == runs.id)
        .join(Course.__table__, runs.course_id == courses.id)
        .where(places.user_id == bindparam("user_id"), status_in(places.status, SEAT_STATUSES))
        .order_by(places.last_activity_at.desc(), places.id.desc())
    )


# --- Course runs: what trainees may join, what admins decide, what focal points follow ------------


@dataclass(frozen=True)
class RunSummary:
    run: CourseRun
    course: Course
    seats_used: int
    pending: int
    waiting: int

    @property
    def seats_left(self) -> int | None:
        if self.run.seats_total is None:
            return None
        return max(self.run.seats_total - self.seats_used, 0)


def _status_counts(run_ids: list[int]) -> dict[int, dict[str, int]]:
    counts: dict[int, dict[str, int]] = defaultdict(lambda: defaultdict(int))
    if not run_ids:
        return counts
    for run_id, status, number in db.session.execute(
        select(Enrolment.run_id, Enrolment.status, func.count(Enrolment.id))
        .where(Enrolment.run_id.in_(run_ids))
        .group_by(Enrolment.run_id, Enrolment.status)
    ):
        counts[run_id][status] = number
    return counts


def run_summaries(include_default: bool = False, only_ids: list[int] | None = None) -> list[RunSummary]:
    """Runs with seats used, pending decisions and waiting list length, in two queries."""
    query = (
        select(CourseRun, Course)
        .join(Course, CourseRun.course_id == Course.id)
        .order_by(CourseRun.starts_on.is_(None), CourseRun.starts_on, CourseRun.title)
    )
    if not include_default:
        query = query.where(CourseRun.is_default.is_(False))
    if only_ids is not None:
        query = query.where(CourseRun.id.in_(only_ids))
    rows = db.session.execute(query).all()
    counts = _status_counts([run.id for run, _ in rows])
    return [
        RunSummary(
            run=run,
            course=course,
            seats_used=sum(counts[run.id].get(s, 0) for s in SEAT_STATUSES),
            pending=counts[run.id].get(EnrolmentStatus.NOMINATED, 0)
            + counts[run.id].get(EnrolmentStatus.REQUESTED, 0),
            waiting=counts[run.id].get(EnrolmentStatus.WAITING, 0),
        )
        for run, course in rows
    ]


@dataclass(frozen=True)
class TraineeRun:
    summary: RunSummary
    mine: Enrolment | None  # the trainee's newest enrolment in this run
    window_problem: str | None  # a Refusal value when the window is not open


def runs_for_trainee(user: User, today: date) -> list[TraineeRun]:
    """Published runs the person is eligible for, plus any run they already have a record in."""
    summaries = [s for s in run_summaries() if s.course.is_published]
    run_ids = [s.run.id for s in summaries]
    mine: dict[int, Enrolment] = {}
    if run_ids:
        for enrolment in db.session.scalars(
            select(Enrolment)
            .where(Enrolment.user_id == user.id, Enrolment.run_id.in_(run_ids))
            .order_by(Enrolment.created_at, Enrolment.id)
        ):
            mine[enrolment.run_id] = enrolment
    eligibility = run_eligibilities(run_ids)
    result = []
    for summary in summaries:
        run = summary.run
        eligible = is_eligible(eligibility[run.id], user.country_code, user.authority_id)
        if not eligible and run.id not in mine:
            continue
        problem = window_refusal(today, run.enrolment_opens_on, run.enrolment_closes_on, run.ends_on)
        result.append(TraineeRun(summary, mine.get(run.id), problem.value if problem else None))
    return result


def run_eligibilities(run_ids: list[int]) -> dict[int, Eligibility]:
    countries: dict[int, set[str]] = defaultdict(set)
    authorities: dict[int, set[int]] = defaultdict(set)
    open_to_all: dict[int, bool] = {}
    if run_ids:
        for run_id, flag in db.session.execute(
            select(CourseRun.id, CourseRun.open_to_all).where(CourseRun.id.in_(run_ids))
        ):
            open_to_all[run_id] = flag
        for run_id, code in db.session.execute(
            select(RunEligibleCountry.run_id, RunEligibleCountry.country_code).where(
                RunEligibleCountry.run_id.in_(run_ids)
            )
        ):
            countries[run_id].add(code)
        for run_id, authority_id in db.session.execute(
            select(RunEligibleAuthority.run_id, RunEligibleAuthority.authority_id).where(
                RunEligibleAuthority.run_id.in_(run_ids)
            )
        ):
            authorities[run_id].add(authority_id)
    return {
        run_id: Eligibility(
            open_to_all.get(run_id, True), frozenset(countries[run_id]), frozenset(authorities[run_id])
        )
        for run_id in run_ids
    }


@dataclass(frozen=True)
class EnrolmentLine:
    enrolment: Enrolment
    user: User
    authority: Authority | None
    nominated_by: User | None


def run_enrolments(run_id: int, authority_ids: set[int] | None = None) -> list[EnrolmentLine]:
    """Everyone with a record in a run, with their authority and nominator, in one query."""
    nominator = aliased(User)
    query = (
        select(Enrolment, User, Authority, nominator)
        .join(User, Enrolment.user_id == User.id)
        .outerjoin(Authority, Enrolment.authority_id == Authority.id)
        .outerjoin(nominator, Enrolment.nominated_by_id == nominator.id)
        .where(Enrolment.run_id == run_id)
        .order_by(Enrolment.waiting_position, Enrolment.created_at, Enrolment.id)
    )
    if authority_ids is not None:
        query = query.where(Enrolment.authority_id.in_(authority_ids))
    return [EnrolmentLine(e, u, a, n) for e, u, a, n in db.session.execute(query)]


@dataclass(frozen=True)
class AuthoritySeats:
    authority: Authority
    used: int
    quota: int | None


def seats_by_authority(run_id: int) -> list[AuthoritySeats]:
    used: dict[int | None, int] = {
        authority_id: count
        for authority_id, count in db.session.execute(
            select(Enrolment.authority_id, func.count(Enrolment.id))
            .where(Enrolment.run_id == run_id, Enrolment.status.in_(SEAT_STATUSES))
            .group_by(Enrolment.authority_id)
        )
    }
    quotas: dict[int, int] = {
        authority_id: seats
        for authority_id, seats in db.session.execute(
            select(RunAuthorityQuota.authority_id, RunAuthorityQuota.seats).where(
                RunAuthorityQuota.run_id == run_id
            )
        )
    }
    ids = {i for i in used if i is not None} | set(quotas)
    if not ids:
        return []
    authorities = db.session.scalars(select(Authority).where(Authority.id.in_(ids)).order_by(Authority.name))
    return [AuthoritySeats(a, used.get(a.id, 0), quotas.get(a.id)) for a in authorities]


def run_quotas(run_id: int) -> list[tuple[str, int]]:
    """(authority code, seats) for the edit form."""
    return [
        (code, seats)
        for code, seats in db.session.execute(
            select(Authority.code, RunAuthorityQuota.seats)
            .join(Authority, RunAuthorityQuota.authority_id == Authority.id)
            .where(RunAuthorityQuota.run_id == run_id)
            .order_by(Authority.code)
        )
    ]


def enrolment_events(enrolment_ids: list[int]) -> dict[int, list[tuple[EnrolmentEvent, User | None]]]:
    history: dict[int, list[tuple[EnrolmentEvent, User | None]]] = defaultdict(list)
    if not enrolment_ids:
        return history
    for event, actor in db.session.execute(
        select(EnrolmentEvent, User)
        .outerjoin(User, EnrolmentEvent.actor_id == User.id)
        .where(EnrolmentEvent.enrolment_id.in_(enrolment_ids))
        .order_by(EnrolmentEvent.at, EnrolmentEvent.id)
    ):
        history[event.enrolment_id].append((event, actor))
    return history


@dataclass(frozen=True)
class AuthorityEnrolment:
    enrolment: Enrolment
    user: User
    run: CourseRun
    course: Course
    progress: Progress


def authority_enrolments(authority_ids: set[int]) -> list[AuthorityEnrolment]:
    """A focal point's view: their authorities' nominations and enrolments with progress, nobody else's."""
    if not authority_ids:
        return []
    rows = db.session.execute(
        select(Enrolment, User, CourseRun, Course)
        .join(User, Enrolment.user_id == User.id)
        .join(CourseRun, Enrolment.run_id == CourseRun.id)
        .join(Course, CourseRun.course_id == Course.id)
        .where(Enrolment.authority_id.in_(authority_ids))
        .order_by(Course.title, CourseRun.title, User.family_name, User.given_name)
    ).all()
    completed: dict[int, set[int]] = defaultdict(set)
    ids = [e.id for e, _, _, _ in rows]
    if ids:
        for enrolment_id, lesson_id in db.session.execute(
            select(LessonCompletion.enrolment_id, LessonCompletion.lesson_id).where(
                LessonCompletion.enrolment_id.in_(ids)
            )
        ):
            completed[enrolment_id].add(lesson_id)
    lessons = ordered_lesson_ids({course.id for _, _, _, course in rows})
    return [
        AuthorityEnrolment(
            e, u, r, c, compute_progress(lessons[c.id], completed[e.id], rule=CompletionRule.of(r, e))
        )
        for e, u, r, c in rows
    ]


def authority_staff(authority_ids: set[int], excluding: int | None = None) -> list[User]:
    """Active people of these authorities; `excluding`: the focal point asking (not offered herself)."""
    if not authority_ids:
        return []
    return list(
        db.session.scalars(
            select(User)
            .where(User.authority_id.in_(authority_ids), User.active.is_(True), User.id != (excluding or 0))
            .order_by(User.family_name, User.given_name)
        )
    )


def runs_taking_nominations(today: date) -> list[RunSummary]:
    return [
        s
        for s in run_summaries()
        if s.run.enrolment_method in (EnrolmentMethod.NOMINATION, EnrolmentMethod.REQUEST)
        and s.course.is_published
        and window_refusal(today, s.run.enrolment_opens_on, s.run.enrolment_closes_on, s.run.ends_on) is None
    ]
