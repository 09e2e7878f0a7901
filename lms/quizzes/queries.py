"""Read side of quizzes: outline rows, final-assessment results, trainer reports (fixed query counts)."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Collection, Iterable, Mapping
from dataclasses import dataclass, fields
from functools import cache
from typing import Any, Protocol

from sqlalchemy import Select, bindparam, case, func, select

from lms.courses.models import Course
from lms.courses.published import PublishedCourse
from lms.extensions import db
from lms.quizzes.grading import quiz_grade
from lms.quizzes.models import (
    FINISHED_STATUSES,
    AttemptStatus,
    Question,
    Quiz,
    QuizAttempt,
    QuizTexts,
)

# One attempt as a standing reads it: (number, status, percent); a quiz's rows come in number order.
AttemptRow = tuple[int, str, float | None]


class GradedQuiz(Protocol):
    """What a standing needs of a quiz: a Quiz row or its PublishedQuiz."""

    @property
    def id(self) -> int: ...
    @property
    def course_id(self) -> int: ...
    @property
    def role(self) -> str: ...
    @property
    def pass_mark(self) -> int: ...
    @property
    def grading_method(self) -> str: ...
    def text(self, field: str, language: str) -> str: ...


@dataclass(frozen=True)
class PublishedQuiz(QuizTexts):
    """A published quiz as outlines and the dashboard show it: immutable, kept per process with the
    course's published snapshot (lms.courses.published). Quizzes change only when their course is synced
    or published, which rewrites the course row, so the course's key says when this is out of date."""

    id: int
    course_id: int
    slug: str
    title: str
    role: str
    position: int
    pass_mark: int
    grading_method: str
    translations: Mapping[str, Mapping[str, str]]


def published_quizzes(course: PublishedCourse) -> tuple[PublishedQuiz, ...]:
    """The course's published quizzes in outline order, kept on the course's snapshot: a query only
    for a new snapshot (a publish or sync rewrote the course row)."""
    cached = course.derived.get("quizzes")
    if cached is not None:
        return cached
    rows = db.session.execute(_published_quiz_rows(), {"course_id": course.id})
    quizzes = tuple(PublishedQuiz(**row._mapping) for row in rows)
    course.derived["quizzes"] = quizzes  # two threads may both build it: the same value
    return quizzes


@cache
def _published_quiz_rows() -> Select[Any]:
    columns = [getattr(Quiz, item.name) for item in fields(PublishedQuiz)]
    return (
        select(*columns)
        .where(Quiz.course_id == bindparam("course_id"), Quiz.is_published.is_(True))
        .order_by(Quiz.position)
    )


@dataclass(frozen=True)
class QuizStanding:
    quiz: GradedQuiz
    grade: float | None  # by the quiz's grading method over finished attempts
    passed: bool
    attempts_used: int
    in_progress: bool


@dataclass(frozen=True)
class OutlineQuiz:
    """A course's quiz in its outline, with the enrolment's standing (None when not enrolled)."""

    quiz: PublishedQuiz
    standing: QuizStanding | None


def outline_quizzes(
    course: PublishedCourse, attempts: Mapping[int, list[AttemptRow]] | None
) -> list[OutlineQuiz]:
    """The course's published quizzes with an enrolment's standing from its ``attempts`` (quiz id -> rows
    in number order, read with its completed lessons: lms.enrolment.completion.places_standing); None for
    a visitor without a place. No query of its own (one on a cold snapshot)."""
    quizzes = published_quizzes(course)
    if attempts is None:
        return [OutlineQuiz(quiz, None) for quiz in quizzes]
    return [OutlineQuiz(quiz, _standing(quiz, attempts.get(quiz.id, []))) for quiz in quizzes]


def published_quiz(course_id: int, quiz_slug: str) -> Quiz | None:
    return db.session.scalar(
        select(Quiz).where(Quiz.course_id == course_id, Quiz.slug == quiz_slug, Quiz.is_published.is_(True))
    )


def course_quizzes(course_id: int) -> list[Quiz]:
    return list(
        db.session.scalars(
            select(Quiz)
            .where(Quiz.course_id == course_id, Quiz.is_published.is_(True))
            .order_by(Quiz.position)
        )
    )


def standings(
    quizzes: Iterable[GradedQuiz],
    enrolment_ids: Iterable[int],
    course_of: Mapping[int, int] | None = None,
    attempts: Mapping[tuple[int, int], list[AttemptRow]] | None = None,
) -> dict[tuple[int, int], QuizStanding]:
    """(enrolment id, quiz id) -> standing, for every pair, in one query. With ``course_of`` (enrolment id ->
    its course's id) only the pairs of a place and its own course's quizzes (issue 22: the dashboard's
    places are in different courses, and every other pair was worked out for nothing). With ``attempts``
    ((enrolment id, quiz id) -> rows in number order, read by the caller with other things) no query."""
    quiz_list = list(quizzes)
    ids = list(enrolment_ids)
    by_pair = attempts if attempts is not None else _attempts_by_pair(quiz_list, ids)
    return {
        (enrolment_id, quiz.id): _standing(quiz, by_pair.get((enrolment_id, quiz.id), []))
        for enrolment_id in ids
        for quiz in quiz_list
        if course_of is None or quiz.course_id == course_of[enrolment_id]
    }


def _attempts_by_pair(quizzes: list[GradedQuiz], ids: list[int]) -> dict[tuple[int, int], list[AttemptRow]]:
    read: defaultdict[tuple[int, int], list[AttemptRow]] = defaultdict(list)
    if quizzes and ids:
        rows = db.session.execute(
            _attempts_of_pairs(), {"enrolment_ids": ids, "quiz_ids": [q.id for q in quizzes]}
        )
        for enrolment_id, quiz_id, number, status, percent in rows:
            read[(enrolment_id, quiz_id)].append((number, status, percent))
    return read


@cache
def _attempts_of_pairs() -> Select[Any]:
    # On the table, not the mapped class: a Core statement skips the ORM's per-statement set-up (issue 22).
    attempts = QuizAttempt.__table__.c
    return (
        select(attempts.enrolment_id, attempts.quiz_id, attempts.number, attempts.status, attempts.percent)
        .where(
            attempts.enrolment_id.in_(bindparam("enrolment_ids", expanding=True)),
            attempts.quiz_id.in_(bindparam("quiz_ids", expanding=True)),
        )
        .order_by(attempts.number)
    )


def _standing(quiz: GradedQuiz, attempts: list[AttemptRow]) -> QuizStanding:
    """A standing from one enrolment's attempts at a quiz, (number, status, percent) in number order."""
    finished = [pct or 0.0 for _, status, pct in attempts if status in FINISHED_STATUSES]
    grade = quiz_grade(finished, quiz.grading_method)
    return QuizStanding(
        quiz=quiz,
        grade=None if grade is None else round(grade, 2),
        passed=grade is not None and grade >= quiz.pass_mark,
        attempts_used=len(attempts),
        in_progress=any(status == AttemptStatus.IN_PROGRESS for _, status, _ in attempts),
    )


# --- trainer reports -------------------------------------------------------------------------------------


@dataclass(frozen=True)
class TrainerQuizRow:
    quiz: Quiz
    course: Course
    finished_attempts: int
    average_percent: float | None


def trainer_quiz_list(course_ids: Collection[int] | None = None) -> list[TrainerQuizRow]:
    """Published quizzes with their attempt figures: of the given courses (a trainer's), or all (None)."""
    finished = func.sum(case((QuizAttempt.status.in_(FINISHED_STATUSES), 1), else_=0))
    average = func.avg(case((QuizAttempt.status.in_(FINISHED_STATUSES), QuizAttempt.percent), else_=None))
    scope = [] if course_ids is None else [Quiz.course_id.in_(sorted(course_ids) or [-1])]
    rows = db.session.execute(
        select(Quiz, Course, finished, average)
        .join(Course, Quiz.course_id == Course.id)
        .join(QuizAttempt, QuizAttempt.quiz_id == Quiz.id, isouter=True)
        .where(Quiz.is_published.is_(True), *scope)
        .group_by(Quiz.id, Course.id)
        .order_by(Course.title, Quiz.position)
    ).all()
    return [
        TrainerQuizRow(quiz, course, int(count or 0), None if avg is None else round(float(avg), 1))
        for quiz, course, count, avg in rows
    ]


def course_question_specs(course_id: int) -> list[tuple[str, dict[str, Any]]]:
    """(key, spec) of a course's active questions, for the translation status page."""
    rows = db.session.execute(
        select(Question.key, Question.spec)
        .where(Question.course_id == course_id, Question.is_active.is_(True))
        .order_by(Question.key)
    )
    return [(key, spec) for key, spec in rows]
