"""A trainer's report of one quiz: attempts with their trainees, the score distribution, item statistics and
regrades. It lives in reports, above both quizzes and enrolment: an attempt's trainee is found through the
enrolment, which quizzes (below enrolment) cannot read."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import case, func, select

from lms.auth.models import User
from lms.courses.models import Course
from lms.enrolment.models import Enrolment
from lms.extensions import db
from lms.quizzes.analysis import BUCKETS, ItemRow, ItemStatistics, item_statistics
from lms.quizzes.models import (
    FINISHED_STATUSES,
    AttemptQuestion,
    Question,
    Quiz,
    QuizAttempt,
    RegradeRecord,
)


@dataclass(frozen=True)
class AttemptRow:
    attempt_id: int
    trainee: str
    email: str
    number: int
    status: str
    started_at: datetime
    submitted_at: datetime | None
    percent: float | None
    passed: bool | None


@dataclass(frozen=True)
class ItemReportRow:
    question_id: int
    key: str
    type: str
    prompt: str
    version: int
    statistics: ItemStatistics | None


@dataclass(frozen=True)
class RegradeRow:
    question_key: str
    attempt_id: int
    trainee: str
    regraded_at: datetime
    old_percent: float
    new_percent: float
    note: str


@dataclass(frozen=True)
class QuizReport:
    quiz: Quiz
    course: Course
    attempts: list[AttemptRow]
    distribution: list[tuple[str, int]]  # ("0-9", n), ..., ("90-100", n)
    items: list[ItemReportRow]
    regrades: list[RegradeRow]


def _bucket_expression() -> Any:  # a SQLAlchemy Case expression
    # CASE rather than floor()/cast so that SQLite and PostgreSQL bucket identically.
    whens = [(QuizAttempt.percent >= 10 * b, b) for b in range(BUCKETS - 1, 0, -1)]
    return case(*whens, else_=0)


def quiz_report(quiz: Quiz) -> QuizReport:
    """Five queries whatever the number of attempts and questions."""
    course = db.session.get(Course, quiz.course_id)
    assert course is not None  # noqa: S101  # the quiz's foreign key guarantees it
    finished = QuizAttempt.status.in_(FINISHED_STATUSES)
    attempt_rows = db.session.execute(
        select(QuizAttempt, User)
        .join(Enrolment, QuizAttempt.enrolment_id == Enrolment.id)
        .join(User, Enrolment.user_id == User.id)
        .where(QuizAttempt.quiz_id == quiz.id)
        .order_by(QuizAttempt.started_at.desc(), QuizAttempt.id.desc())
    ).all()
    attempts = [
        AttemptRow(
            attempt_id=a.id,
            trainee=u.full_name,
            email=u.email,
            number=a.number,
            status=a.status,
            started_at=a.started_at,
            submitted_at=a.submitted_at,
            percent=a.percent,
            passed=a.passed,
        )
        for a, u in attempt_rows
    ]
    bucket = _bucket_expression().label("bucket")
    counts: dict[int, int] = {
        int(b): int(n)
        for b, n in db.session.execute(
            select(bucket, func.count(QuizAttempt.id))
            .where(QuizAttempt.quiz_id == quiz.id, finished)
            .group_by(bucket)
        )
    }
    distribution = [
        (f"{10 * b}–{10 * b + 9 if b < BUCKETS - 1 else 100}", int(counts.get(b, 0))) for b in range(BUCKETS)
    ]
    item_rows = db.session.execute(
        select(
            AttemptQuestion.question_id, AttemptQuestion.fraction, AttemptQuestion.score, QuizAttempt.score
        )
        .join(QuizAttempt, AttemptQuestion.attempt_id == QuizAttempt.id)
        .where(QuizAttempt.quiz_id == quiz.id, finished)
    )
    stats = item_statistics(
        ItemRow(question_id=qid, fraction=frac or 0.0, score=score or 0.0, attempt_score=total or 0.0)
        for qid, frac, score, total in item_rows
    )
    slot_question_ids = {s.question_id for s in quiz.slots if s.question_id}
    bank_ids = {s.bank_id for s in quiz.slots if s.bank_id}
    questions = db.session.scalars(
        select(Question)
        .where(Question.id.in_(set(stats) | slot_question_ids) | Question.bank_id.in_(bank_ids))
        .order_by(Question.key)
    ).all()
    items = [
        ItemReportRow(
            question_id=q.id,
            key=q.key,
            type=q.type,
            prompt=_prompt_of(q, course.language),
            version=q.version,
            statistics=stats.get(q.id),
        )
        for q in questions
    ]
    regrade_rows = db.session.execute(
        select(RegradeRecord, Question.key, User)
        .join(Question, RegradeRecord.question_id == Question.id)
        .join(QuizAttempt, RegradeRecord.attempt_id == QuizAttempt.id)
        .join(Enrolment, QuizAttempt.enrolment_id == Enrolment.id)
        .join(User, Enrolment.user_id == User.id)
        .where(QuizAttempt.quiz_id == quiz.id)
        .order_by(RegradeRecord.regraded_at.desc(), RegradeRecord.id.desc())
        .limit(200)
    ).all()
    regrades = [
        RegradeRow(key, r.attempt_id, u.full_name, r.regraded_at, r.old_percent, r.new_percent, r.note)
        for r, key, u in regrade_rows
    ]
    return QuizReport(quiz, course, attempts, distribution, items, regrades)


def _prompt_of(question: Question, language: str) -> str:
    value = question.spec.get("prompt") or question.spec.get("text") or ""
    if isinstance(value, dict):
        value = value.get(language) or next(iter(value.values()), "")
    text = str(value)
    return text if len(text) <= 140 else text[:139] + "…"
