"""The statements an attempt is written with, built once (a statement object keeps its cache key): a
cohort starts, saves and submits at the same moment (issue 22). Used by lms.quizzes.services."""

from __future__ import annotations

from functools import cache

from sqlalchemy import Insert, TextClause, Update, bindparam, insert, text, update

from lms.quizzes.models import AttemptQuestion, AttemptStatus, QuizAttempt

FINISHED_COLUMNS = ("status", "submitted_at", "score", "max_score", "percent", "passed")
ITEM_COLUMNS = ("answer", "score", "fraction")


ATTEMPT_COLUMNS = (
    "enrolment_id",
    "quiz_id",
    "number",
    "status",
    "language",
    "started_at",
    "deadline_at",
    "saved_at",
    "submitted_at",
    "score",
    "max_score",
    "percent",
    "passed",
)


@cache
def insert_attempt() -> TextClause:
    """``INSERT ... ON CONFLICT (enrolment_id, quiz_id, number) DO NOTHING RETURNING id``, the same for
    SQLite and PostgreSQL, as text with the columns' types (their conversions apply as before): the
    dialects' ``on_conflict_do_nothing`` constructs have no cache key, so SQLAlchemy compiled that
    statement again on every start, about a tenth of the start's CPU (issue 22). A second start with the
    same number inserts nothing and returns no row."""
    table = QuizAttempt.__table__
    statement = text(
        "INSERT INTO quiz_attempt (enrolment_id, quiz_id, number, status, language, started_at, deadline_at,"
        " saved_at, submitted_at, score, max_score, percent, passed)"
        " VALUES (:enrolment_id, :quiz_id, :number, :status, :language, :started_at, :deadline_at,"
        " :saved_at, :submitted_at, :score, :max_score, :percent, :passed)"
        " ON CONFLICT (enrolment_id, quiz_id, number) DO NOTHING RETURNING id"
    )
    return statement.bindparams(*(bindparam(name, type_=table.c[name].type) for name in ATTEMPT_COLUMNS))


@cache
def insert_items() -> Insert:
    return insert(AttemptQuestion.__table__)


@cache
def save_attempt() -> Update:
    """The save's mark, only on an attempt still in progress."""
    table = QuizAttempt.__table__
    return (
        update(table)
        .where(table.c.id == bindparam("attempt_id"), table.c.status == AttemptStatus.IN_PROGRESS)
        .values(saved_at=bindparam("now", type_=table.c.saved_at.type))
    )


@cache
def write_answers() -> Update:
    table = AttemptQuestion.__table__
    return (
        update(table)
        .where(table.c.id == bindparam("item_id"))
        .values(answer=bindparam("new_answer", type_=table.c.answer.type))
    )


@cache
def claim() -> Update:
    table = QuizAttempt.__table__
    return (
        update(table)
        .where(table.c.id == bindparam("attempt_id"), table.c.status == AttemptStatus.IN_PROGRESS)
        .values(
            status=AttemptStatus.SUBMITTED, submitted_at=bindparam("now", type_=table.c.submitted_at.type)
        )
    )


@cache
def finish_attempt() -> Update:
    table = QuizAttempt.__table__
    return (
        update(table)
        .where(table.c.id == bindparam("attempt_id"), table.c.status == AttemptStatus.IN_PROGRESS)
        .values({name: bindparam(f"new_{name}", type_=table.c[name].type) for name in FINISHED_COLUMNS})
    )


@cache
def write_items() -> Update:
    table = AttemptQuestion.__table__
    return (
        update(table)
        .where(table.c.id == bindparam("item_id"))
        .values({name: bindparam(f"new_{name}", type_=table.c[name].type) for name in ITEM_COLUMNS})
    )
