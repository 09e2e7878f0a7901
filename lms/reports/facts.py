"""Keeping the indicator fact table (lms.reports.models.IndicatorFact) true, in the writer's transaction.

`fact_rows(scope)` is the one definition of a fact: which places count (enrolled or completed), the
person's country, sex and age band, the course's hours, the certificate in force, the best finished pre-
and post-test. Every copy comes from it: the full rebuild, the migration's first fill (frozen as SQL in
migrations/), and the incremental refresh below.

Refresh is automatic. Two session listeners watch every flush:

- `after_flush` notes what changed a fact: a place created, deleted or moved (status, dates, run, person,
  authority); a person's sex, country or age band; a certificate issued, revoked or replaced; a finished
  quiz attempt; a quiz's role; a course's notional hours; a run's course or modality;
- `after_flush_postexec` deletes the facts in that scope and inserts them again from `fact_rows`, on the
  same connection, so the change and its facts commit (or roll back) together, and a report read later in
  the same transaction already sees them.

Writes that bypass the ORM (bulk UPDATE statements) call `refresh()` themselves (the bench data generator
calls `rebuild()`) or send a signal answered below: the CSV import sends `places_written_in_bulk`, the
account merge `person_merged`, a quiz attempt submitted or closed at its time limit `attempt_finished`.
A lesson completion that does not complete the course touches no fact column, so the busiest write pays
nothing.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import (
    Connection,
    Integer,
    String,
    and_,
    case,
    cast,
    event,
    exists,
    extract,
    func,
    inspect,
    or_,
    select,
)
from sqlalchemy.orm import Session, UOWTransaction
from sqlalchemy.orm.util import identity_key
from sqlalchemy.sql import ColumnElement, Select

from lms.auth.models import User
from lms.auth.signals import person_merged
from lms.certificates.models import Certificate, CertificateStatus
from lms.courses.models import Course
from lms.enrolment.models import SEAT_STATUSES, CourseRun, Enrolment, EnrolmentStatus
from lms.enrolment.signals import places_written_in_bulk
from lms.extensions import db
from lms.quizzes.models import FINISHED_STATUSES, Quiz, QuizAttempt, QuizRole
from lms.quizzes.signals import attempt_finished
from lms.reports import cells, versions
from lms.reports.models import IndicatorFact

CHUNK = 500  # ids per IN list: well under SQLite's and PostgreSQL's parameter limits

FACT = IndicatorFact.__table__
FACT_COLUMNS = [column.name for column in FACT.columns]


def fact_rows(scope: ColumnElement[bool] | None = None) -> Select[Any]:
    """One row per place in `scope` (a condition on Enrolment / CourseRun; None: every place), with the
    columns of IndicatorFact in table order."""
    tests = select(
        QuizAttempt.enrolment_id.label("enrolment_id"),
        func.max(case((Quiz.role == QuizRole.PRE_TEST, QuizAttempt.percent))).label("pre"),
        func.max(case((Quiz.role == QuizRole.POST_TEST, QuizAttempt.percent))).label("post"),
    ).join(Quiz, Quiz.id == QuizAttempt.quiz_id)
    tests = tests.where(
        Quiz.role.in_([QuizRole.PRE_TEST, QuizRole.POST_TEST]), QuizAttempt.status.in_(FINISHED_STATUSES)
    )
    if scope is not None:
        in_scope = select(Enrolment.id).join(CourseRun, CourseRun.id == Enrolment.run_id).where(scope)
        tests = tests.where(QuizAttempt.enrolment_id.in_(in_scope))
    attempts = tests.group_by(QuizAttempt.enrolment_id).subquery("tests")
    completed = Enrolment.status == EnrolmentStatus.COMPLETED
    paired = and_(attempts.c.pre.is_not(None), attempts.c.post.is_not(None))
    in_force = exists().where(
        Certificate.user_id == Enrolment.user_id,
        Certificate.run_id == Enrolment.run_id,
        Certificate.status == CertificateStatus.ACTIVE,
    )
    columns = {
        "user_id": Enrolment.user_id,
        "enrolment_id": Enrolment.id,
        "run_id": Enrolment.run_id,
        "course_id": CourseRun.course_id,
        "modality": CourseRun.modality,
        "enrolled_at": Enrolment.enrolled_at,
        # A completed place always has a month (a bar of the chart), even a row from before completed_at
        # was recorded.
        "completed_month": case(
            (completed, month_key(func.coalesce(Enrolment.completed_at, Enrolment.enrolled_at)))
        ),
        "hours": case((completed, func.coalesce(Course.notional_hours, 0)), else_=0),
        "certificate": case((in_force, 1), else_=0),
        "paired": case((paired, 1), else_=0),
        "pre_percent": case((paired, attempts.c.pre)),
        "post_percent": case((paired, attempts.c.post)),
        "country_code": User.country_code,
        "authority_id": Enrolment.authority_id,
        "sex": User.sex,
        "age_band": User.birth_year_band,
    }
    query = (
        select(*(columns[name].label(name) for name in FACT_COLUMNS))
        .join(User, User.id == Enrolment.user_id)
        .join(CourseRun, CourseRun.id == Enrolment.run_id)
        .join(Course, Course.id == CourseRun.course_id)
        .outerjoin(attempts, attempts.c.enrolment_id == Enrolment.id)
        .where(Enrolment.status.in_(SEAT_STATUSES))
    )
    return query if scope is None else query.where(scope)


def month_key(column: Any) -> ColumnElement[str]:
    """ "YYYYMM" on both databases: extract() compiles to strftime on SQLite and EXTRACT on PostgreSQL."""
    number = extract("year", column) * 100 + extract("month", column)
    return cast(cast(number, Integer), String)


def rebuild(connection: Connection) -> int:
    """Every fact recomputed from the live tables (after bulk loads; `flask lms reports rebuild-facts`)."""
    connection.execute(FACT.delete())
    connection.execute(FACT.insert().from_select(FACT_COLUMNS, fact_rows()))
    cells.rebuild(connection)
    return int(connection.scalar(select(func.count()).select_from(FACT)) or 0)


def differences(connection: Connection) -> set[int]:
    """Enrolment ids whose stored fact differs from (or is missing next to) the live one: empty when the
    table is true. For `flask lms reports check-facts` and the tests."""
    stored = select(*(FACT.c[name] for name in FACT_COLUMNS))
    live = fact_rows()
    missing = live.except_(stored).subquery()
    extra = stored.except_(live).subquery()
    ids = set(connection.scalars(select(missing.c.enrolment_id)))
    return ids | set(connection.scalars(select(extra.c.enrolment_id)))


@dataclass
class Stale:
    """What one flush changed, as the sets of ids whose places must be recomputed."""

    enrolments: set[int] = field(default_factory=set)
    users: set[int] = field(default_factory=set)
    runs: set[int] = field(default_factory=set)
    courses: set[int] = field(default_factory=set)

    def __bool__(self) -> bool:
        return bool(self.enrolments or self.users or self.runs or self.courses)


def _chunks(ids: Iterable[int]) -> Iterator[list[int]]:
    ordered = sorted(ids)
    for start in range(0, len(ordered), CHUNK):
        yield ordered[start : start + CHUNK]


def refresh(
    connection: Connection,
    *,
    enrolments: Iterable[int] = (),
    users: Iterable[int] = (),
    runs: Iterable[int] = (),
    courses: Iterable[int] = (),
) -> None:
    """Recompute the facts of these places, persons' places, runs' places and courses' places.

    Also called by writes that bypass the ORM (the account merge, the CSV import): those may move the
    training figures too, so the trainings' version moves with them (lms.reports.versions)."""
    users, runs = list(users), list(runs)
    if users or runs:
        versions.bump(connection)
    _refresh(connection, enrolments=enrolments, users=users, runs=runs, courses=courses)


def _refresh(
    connection: Connection,
    *,
    enrolments: Iterable[int] = (),
    users: Iterable[int] = (),
    runs: Iterable[int] = (),
    courses: Iterable[int] = (),
) -> None:
    scopes = (
        (FACT.c.enrolment_id, Enrolment.id, list(enrolments)),
        (FACT.c.user_id, Enrolment.user_id, list(users)),
        (FACT.c.run_id, Enrolment.run_id, list(runs)),
        (FACT.c.course_id, CourseRun.course_id, list(courses)),
    )
    # The persons whose places change, by what the facts say and by what the places say now: their
    # contributions to the whole academy's cells before and after (lms.reports.cells).
    persons: set[int] = set()
    for fact_column, live_column, ids in scopes:
        for chunk in _chunks(ids):
            live = live_column.in_(chunk)
            moved = select(Enrolment.id).join(CourseRun, CourseRun.id == Enrolment.run_id).where(live)
            persons.update(
                connection.scalars(
                    select(FACT.c.user_id).where(or_(fact_column.in_(chunk), FACT.c.enrolment_id.in_(moved)))
                )
            )
            persons.update(
                connection.scalars(
                    select(Enrolment.user_id).join(CourseRun, CourseRun.id == Enrolment.run_id).where(live)
                )
            )
    before = cells.contributions(connection, persons)
    for fact_column, live_column, ids in scopes:
        for chunk in _chunks(ids):
            live = live_column.in_(chunk)
            moved = select(Enrolment.id).join(CourseRun, CourseRun.id == Enrolment.run_id).where(live)
            # The stale rows by what the fact says, and by what the place says now (a place moved to
            # another person or run keeps its enrolment id).
            connection.execute(
                FACT.delete().where(or_(fact_column.in_(chunk), FACT.c.enrolment_id.in_(moved)))
            )
            connection.execute(FACT.insert().from_select(FACT_COLUMNS, fact_rows(live)))
    if persons:
        cells.apply(connection, cells.difference(before, cells.contributions(connection, persons)))


# --- The session listeners -----------------------------------------------------------------------------

_INFO_KEY = "lms.reports.facts.stale"

PLACE_COLUMNS = ("status", "completed_at", "enrolled_at", "run_id", "user_id", "authority_id")
PERSON_COLUMNS = ("sex", "country_code", "birth_year_band")
CERTIFICATE_COLUMNS = ("status", "user_id", "run_id")
RUN_COLUMNS = ("course_id", "modality")
ATTEMPT_COLUMNS = ("status", "percent", "enrolment_id", "quiz_id")


def _changed(obj: object, names: Iterable[str]) -> bool:
    attrs = inspect(obj).attrs  # type: ignore[union-attr]  # a mapped instance always has a state
    return any(attrs[name].history.has_changes() for name in names)


def _note(stale: Stale, obj: object, how: str) -> None:
    """how: "new", "dirty" or "deleted"."""
    if isinstance(obj, Enrolment):
        # (Not last_activity_at: every lesson completion sets it, and no fact depends on it.)
        if how != "dirty" or _changed(obj, PLACE_COLUMNS):
            stale.enrolments.add(obj.id)
    elif isinstance(obj, User):
        if how == "deleted" or (how == "dirty" and _changed(obj, PERSON_COLUMNS)):
            stale.users.add(obj.id)
    elif isinstance(obj, Certificate):
        if how != "dirty" or _changed(obj, CERTIFICATE_COLUMNS):
            stale.users.add(obj.user_id)
            stale.users.update(_old_values(obj, "user_id"))
    elif isinstance(obj, QuizAttempt):
        finished = obj.status in FINISHED_STATUSES
        if (
            (how == "new" and finished)
            or how == "deleted"
            or (how == "dirty" and _changed(obj, ATTEMPT_COLUMNS))
        ) and not _outside_the_facts(obj):
            stale.enrolments.add(obj.enrolment_id)
            stale.enrolments.update(_old_values(obj, "enrolment_id"))
    elif isinstance(obj, Quiz):
        if how == "deleted" or (how == "dirty" and _changed(obj, ("role", "course_id"))):
            stale.courses.add(obj.course_id)
    elif isinstance(obj, Course):
        if how == "deleted" or (how == "dirty" and _changed(obj, ("notional_hours",))):
            stale.courses.add(obj.id)
    elif isinstance(obj, CourseRun) and (how == "deleted" or (how == "dirty" and _changed(obj, RUN_COLUMNS))):
        stale.runs.add(obj.id)


def _outside_the_facts(attempt: QuizAttempt) -> bool:
    """An attempt of a quiz known (from the session, no query) to be neither a pre- nor a post-test, still
    of the same quiz: it changes no fact, so a practice or final quiz submission refreshes none (issue 22).
    A quiz not in the session, or a quiz whose role changes in this flush, counts (the Quiz branch)."""
    if _changed(attempt, ("quiz_id",)):
        return False
    session: Session | None = inspect(attempt).session
    quiz = session.identity_map.get(identity_key(Quiz, attempt.quiz_id)) if session is not None else None
    return isinstance(quiz, Quiz) and quiz.role not in (QuizRole.PRE_TEST, QuizRole.POST_TEST)


def _old_values(obj: object, name: str) -> list[int]:
    history = inspect(obj).attrs[name].history  # type: ignore[union-attr]
    return [value for value in history.deleted if isinstance(value, int)]


@event.listens_for(Session, "after_flush")
def _collect(session: Session, context: UOWTransaction) -> None:
    stale: Stale | None = None
    for how, objects in (("new", session.new), ("dirty", session.dirty), ("deleted", session.deleted)):
        for obj in objects:
            if isinstance(obj, WATCHED):
                if stale is None:
                    stale = session.info.setdefault(_INFO_KEY, Stale())
                _note(stale, obj, how)


@event.listens_for(Session, "after_flush_postexec")
def _apply(session: Session, context: UOWTransaction) -> None:
    stale: Stale | None = session.info.pop(_INFO_KEY, None)
    if stale:
        _refresh(
            session.connection(),
            enrolments=stale.enrolments,
            users=stale.users,
            runs=stale.runs,
            courses=stale.courses,
        )


@person_merged.connect
def _refresh_after_merge(kept: User, *, removed: User, **_extra: object) -> None:
    """The account merge (lms.admin.services.merge_people) moves the removed person's rows to the kept
    one with bulk statements: their places' facts (person, sex, country...) are recomputed here."""
    refresh(db.session.connection(), users={kept.id, removed.id})


@places_written_in_bulk.connect
def _refresh_after_bulk_write(
    _sender: object, *, runs: Iterable[int] = (), users: Iterable[int] = (), **_extra: object
) -> None:
    """The CSV import writes places and people with bulk statements (lms.enrolment.bulk_import)."""
    refresh(db.session.connection(), runs=runs, users=users)


@attempt_finished.connect
def _refresh_after_attempt_finished(attempt: QuizAttempt, *, enrolment_id: int, **_extra: object) -> None:
    """A submitted or expired attempt is written with plain statements (lms.quizzes.services, issue 22),
    which no flush shows: a finished pre- or post-test refreshes its place's fact here. A practice or final
    attempt feeds no fact (the quiz came with the attempt: no query)."""
    if attempt.quiz.role in (QuizRole.PRE_TEST, QuizRole.POST_TEST):
        _refresh(db.session.connection(), enrolments=[enrolment_id])


@event.listens_for(Session, "after_rollback")
def _forget(session: Session) -> None:
    session.info.pop(_INFO_KEY, None)


WATCHED = (Enrolment, User, Certificate, QuizAttempt, Quiz, Course, CourseRun)
