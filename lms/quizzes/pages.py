"""What the trainee's quiz pages read, as few plain statements (issue 22).

The attempt page and the review read the attempt, its quiz, the place's status, the course's snapshot key
and the frozen questions with their answers in one statement: no question is an ORM object, and the
course's texts come from the per-process snapshot (lms.courses.published). The quiz page reads the quiz
with the course's key in one statement and the attempts' table as plain rows.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime
from functools import cache
from typing import Any

from sqlalchemy import Select, bindparam, select
from sqlalchemy.orm.attributes import set_committed_value

from lms.courses.models import Course
from lms.courses.published import CourseKey, PublishedCourse, key_columns, snapshot_of
from lms.extensions import db
from lms.quizzes.models import FINISHED_STATUSES, AttemptQuestion, AttemptStatus, Quiz, QuizAttempt


@dataclass(frozen=True)
class AttemptItem:
    """A question of an attempt as it was frozen, with the trainee's answer and its grade, as read."""

    position: int
    frozen: Mapping[str, Any]
    points: float
    answer: Any
    score: float | None
    fraction: float | None


@dataclass(frozen=True)
class AttemptPage:
    attempt: QuizAttempt  # attempt.quiz is set (no statement)
    enrolment_status: str
    course: PublishedCourse
    items: list[AttemptItem]


def attempt_page(statement: Select[Any], **values: object) -> AttemptPage | None:
    """The attempt with all its pages show, from one statement made with ``attempt_page_select`` (the
    caller adds who may see it: the place's owner); None when it found nothing."""
    rows = db.session.execute(statement, values).all()
    if not rows:
        return None
    attempt, quiz, status = rows[0][0], rows[0][1], rows[0][2]
    set_committed_value(attempt, "quiz", quiz)  # kept with the attempt (the session holds rows weakly)
    course = snapshot_of(CourseKey(*rows[0][3:7]))
    items = [AttemptItem(*row[7:]) for row in rows if row[7] is not None]
    return AttemptPage(attempt, status, course, items)


def attempt_page_select(place: Any, on_place: Any, place_status: Any) -> Select[Any]:
    """The attempt's statement, joined to its place (``place``, ``on_place``; its ``place_status`` read):
    quizzes sit below the enrolment feature, whose page says whose place it must be."""
    return (
        select(
            QuizAttempt,
            Quiz,
            place_status,
            *key_columns(),
            AttemptQuestion.position,
            AttemptQuestion.frozen,
            AttemptQuestion.points,
            AttemptQuestion.answer,
            AttemptQuestion.score,
            AttemptQuestion.fraction,
        )
        .select_from(QuizAttempt)
        .join(place, on_place)
        .join(Quiz, QuizAttempt.quiz_id == Quiz.id)
        .join(Course, Quiz.course_id == Course.id)
        .outerjoin(AttemptQuestion, AttemptQuestion.attempt_id == QuizAttempt.id)
        .where(QuizAttempt.id == bindparam("attempt_id"))
        .order_by(AttemptQuestion.position)
    )


def published_quiz_page(slug: str, quiz_slug: str) -> tuple[PublishedCourse, Quiz] | None:
    """A published quiz of a published course by their slugs, the course from its snapshot: one statement."""
    row = db.session.execute(_published_quiz_page(), {"slug": slug, "quiz_slug": quiz_slug}).first()
    return None if row is None else (snapshot_of(CourseKey(*row[1:])), row[0])


@cache
def _published_quiz_page() -> Select[Any]:
    return (
        select(Quiz, *key_columns())
        .join(Course, Quiz.course_id == Course.id)
        .where(
            Course.slug == bindparam("slug"),
            Course.is_published.is_(True),
            Quiz.slug == bindparam("quiz_slug"),
            Quiz.is_published.is_(True),
        )
    )


@dataclass(frozen=True)
class AttemptRow:
    """A line of the quiz page's table of attempts (and what the standing above it needs)."""

    id: int
    number: int
    status: str
    started_at: datetime | None
    deadline_at: datetime | None
    percent: float | None
    passed: bool | None

    @property
    def is_finished(self) -> bool:
        return self.status in FINISHED_STATUSES


def attempt_rows(enrolment_id: int, quiz_id: int) -> list[AttemptRow]:
    rows = db.session.execute(_attempt_rows(), {"enrolment_id": enrolment_id, "quiz_id": quiz_id})
    return [AttemptRow(*row) for row in rows]


def running_row(rows: list[AttemptRow]) -> AttemptRow | None:
    return next((row for row in rows if row.status == AttemptStatus.IN_PROGRESS), None)


@cache
def _attempt_rows() -> Select[Any]:
    return (
        select(
            QuizAttempt.id,
            QuizAttempt.number,
            QuizAttempt.status,
            QuizAttempt.started_at,
            QuizAttempt.deadline_at,
            QuizAttempt.percent,
            QuizAttempt.passed,
        )
        .where(
            QuizAttempt.enrolment_id == bindparam("enrolment_id"), QuizAttempt.quiz_id == bindparam("quiz_id")
        )
        .order_by(QuizAttempt.number)
    )
