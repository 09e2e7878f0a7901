from __future__ import annotations

import enum
from collections.abc import Mapping
from datetime import datetime
from typing import TYPE_CHECKING, Any

from sqlalchemy import JSON, Float, ForeignKey, Index, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from lms.db import UTCDateTime, utcnow
from lms.extensions import db


class QuizRole(enum.StrEnum):
    PRACTICE = "practice"
    PRE_TEST = "pre_test"
    POST_TEST = "post_test"
    FINAL = "final"  # passing it is part of completing the course


class ReviewWhen(enum.StrEnum):
    NEVER = "never"
    IMMEDIATELY = "immediately"
    AFTER_CLOSE = "after_close"  # the quiz's closing date has passed, or the trainee has no attempt left


class AttemptStatus(enum.StrEnum):
    IN_PROGRESS = "in_progress"
    SUBMITTED = "submitted"
    EXPIRED = "expired"  # the time ran out; graded on the answers saved in time


FINISHED_STATUSES = (AttemptStatus.SUBMITTED, AttemptStatus.EXPIRED)


class QuestionBank(db.Model):  # type: ignore[name-defined]
    __tablename__ = "question_bank"
    __table_args__ = (UniqueConstraint("course_id", "slug"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    course_id: Mapped[int] = mapped_column(ForeignKey("course.id", ondelete="CASCADE"), index=True)
    slug: Mapped[str] = mapped_column(String(80))
    title: Mapped[str] = mapped_column(String(200))
    is_active: Mapped[bool] = mapped_column(default=True)


class Question(db.Model):  # type: ignore[name-defined]
    """A question as last loaded from the files. Attempts never read it for display: they froze a copy."""

    __tablename__ = "question"
    __table_args__ = (UniqueConstraint("course_id", "key"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    course_id: Mapped[int] = mapped_column(ForeignKey("course.id", ondelete="CASCADE"), index=True)
    bank_id: Mapped[int | None] = mapped_column(ForeignKey("question_bank.id"), index=True)
    key: Mapped[str] = mapped_column(String(80))  # the stable `id` written in the file
    type: Mapped[str] = mapped_column(String(30))
    tags: Mapped[list[str]] = mapped_column(JSON, default=list)
    points: Mapped[float] = mapped_column(Float, default=1.0)
    spec: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    version: Mapped[int] = mapped_column(default=1)
    is_active: Mapped[bool] = mapped_column(default=True)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


class QuizTexts:
    """A quiz's texts in its course's languages, and whether it has a pass mark: shared by the Quiz row and
    its published snapshot (lms.quizzes.queries.PublishedQuiz), so both answer the same way (as
    lms.courses.models.CourseTexts)."""

    if TYPE_CHECKING:  # provided by the class this is mixed into (a mapped column or a dataclass field)
        translations: Mapping[str, Mapping[str, str]]
        pass_mark: int

    @property
    def has_pass_mark(self) -> bool:
        """False for a pass mark of 0 (a pre- or post-test that shows a starting point): every attempt
        "passes" it, so the pages show the score without a verdict."""
        return self.pass_mark > 0

    def text(self, field: str, language: str) -> str:
        translated = self.translations.get(language, {}).get(field)
        return translated if translated else str(getattr(self, field))


class Quiz(QuizTexts, db.Model):  # type: ignore[name-defined]
    __tablename__ = "quiz"
    __table_args__ = (UniqueConstraint("course_id", "slug"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    course_id: Mapped[int] = mapped_column(ForeignKey("course.id", ondelete="CASCADE"), index=True)
    slug: Mapped[str] = mapped_column(String(80))
    title: Mapped[str] = mapped_column(String(200))
    description: Mapped[str] = mapped_column(Text, default="")
    # {"ru": {"title": ..., "description": ...}}
    translations: Mapped[dict[str, dict[str, str]]] = mapped_column(JSON, default=dict)
    role: Mapped[str] = mapped_column(String(12), default=QuizRole.PRACTICE)
    position: Mapped[int] = mapped_column(default=0)
    pass_mark: Mapped[int] = mapped_column(default=70)  # percent
    attempts_allowed: Mapped[int | None]  # None: unlimited
    time_limit_minutes: Mapped[int | None]
    grading_method: Mapped[str] = mapped_column(String(10), default="highest")
    shuffle_questions: Mapped[bool] = mapped_column(default=False)
    shuffle_choices: Mapped[bool] = mapped_column(default=False)
    # {"answers": ReviewWhen, "correct_answers": ReviewWhen, "feedback": ReviewWhen}
    review: Mapped[dict[str, str]] = mapped_column(JSON, default=dict)
    closes_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    is_published: Mapped[bool] = mapped_column(default=True)

    slots: Mapped[list[QuizSlot]] = relationship(
        back_populates="quiz", order_by="QuizSlot.position", cascade="all, delete-orphan"
    )


class QuizSlot(db.Model):  # type: ignore[name-defined]
    """One line of a quiz: a fixed question, or `draw_count` questions drawn from a bank (maybe by tag)."""

    __tablename__ = "quiz_slot"

    id: Mapped[int] = mapped_column(primary_key=True)
    quiz_id: Mapped[int] = mapped_column(ForeignKey("quiz.id", ondelete="CASCADE"), index=True)
    position: Mapped[int] = mapped_column(default=0)
    question_id: Mapped[int | None] = mapped_column(ForeignKey("question.id"))
    bank_id: Mapped[int | None] = mapped_column(ForeignKey("question_bank.id"))
    tag: Mapped[str | None] = mapped_column(String(60))
    draw_count: Mapped[int] = mapped_column(default=1)

    quiz: Mapped[Quiz] = relationship(back_populates="slots")


class QuizAttempt(db.Model):  # type: ignore[name-defined]
    """Belongs to an enrolment: a later run of the course starts with fresh attempts."""

    __tablename__ = "quiz_attempt"
    __table_args__ = (
        # Two concurrent starts cannot both take number N.
        UniqueConstraint("enrolment_id", "quiz_id", "number"),
        Index("ix_quiz_attempt_quiz_status", "quiz_id", "status"),
        # Reports and dashboards: best score per enrolment and quiz, read from the index alone.
        Index("ix_quiz_attempt_enrolment_scores", "enrolment_id", "quiz_id", "status", "percent"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    enrolment_id: Mapped[int] = mapped_column(ForeignKey("enrolment.id", ondelete="CASCADE"), index=True)
    quiz_id: Mapped[int] = mapped_column(ForeignKey("quiz.id", ondelete="CASCADE"))
    number: Mapped[int]
    status: Mapped[str] = mapped_column(String(12), default=AttemptStatus.IN_PROGRESS)
    language: Mapped[str] = mapped_column(String(5), default="en")
    started_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    deadline_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    saved_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    submitted_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    score: Mapped[float | None] = mapped_column(Float)
    max_score: Mapped[float] = mapped_column(Float, default=0.0)
    percent: Mapped[float | None] = mapped_column(Float)
    passed: Mapped[bool | None]

    quiz: Mapped[Quiz] = relationship()
    questions: Mapped[list[AttemptQuestion]] = relationship(
        back_populates="attempt", order_by="AttemptQuestion.position", cascade="all, delete-orphan"
    )

    @property
    def is_finished(self) -> bool:
        return self.status in FINISHED_STATUSES


class AttemptQuestion(db.Model):  # type: ignore[name-defined]
    """A question as this attempt drew it: frozen text, choices, order and points (see grading.py)."""

    __tablename__ = "attempt_question"
    __table_args__ = (
        UniqueConstraint("attempt_id", "position"),
        # A quiz start asks which of the candidate questions this enrolment has seen (lms.quizzes.draw):
        # by attempt and question together, PostgreSQL reads a few entries per attempt. With only the
        # two single indexes it ANDed the attempt's entries with every attempt's entries of those
        # questions (a bitmap of the whole quiz's history): 75 ms a start on L (issue 22).
        Index("ix_attempt_question_attempt_question", "attempt_id", "question_id"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    attempt_id: Mapped[int] = mapped_column(ForeignKey("quiz_attempt.id", ondelete="CASCADE"))
    position: Mapped[int]
    question_id: Mapped[int] = mapped_column(ForeignKey("question.id"), index=True)
    question_version: Mapped[int] = mapped_column(default=1)
    frozen: Mapped[dict[str, Any]] = mapped_column(JSON)
    points: Mapped[float] = mapped_column(Float, default=1.0)
    answer: Mapped[Any | None] = mapped_column(JSON)
    score: Mapped[float | None] = mapped_column(Float)
    fraction: Mapped[float | None] = mapped_column(Float)

    attempt: Mapped[QuizAttempt] = relationship(back_populates="questions")


class RegradeRecord(db.Model):  # type: ignore[name-defined]
    """Kept for every attempt a regrade touched, changed or not, with the scores before and after."""

    __tablename__ = "quiz_regrade"

    id: Mapped[int] = mapped_column(primary_key=True)
    attempt_id: Mapped[int] = mapped_column(ForeignKey("quiz_attempt.id", ondelete="CASCADE"), index=True)
    question_id: Mapped[int] = mapped_column(ForeignKey("question.id"))
    regraded_by_id: Mapped[int | None] = mapped_column(ForeignKey("user.id"))
    regraded_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    old_score: Mapped[float] = mapped_column(Float)
    new_score: Mapped[float] = mapped_column(Float)
    old_percent: Mapped[float] = mapped_column(Float)
    new_percent: Mapped[float] = mapped_column(Float)
    note: Mapped[str] = mapped_column(String(200), default="")
