from __future__ import annotations

import enum
from datetime import date, datetime

from sqlalchemy import ForeignKey, Index, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from lms.auth.models import User
from lms.courses.models import Course, Lesson
from lms.db import UTCDateTime, utcnow
from lms.extensions import db


class EnrolmentMethod(enum.StrEnum):
    OPEN = "open"  # self-enrol, instant
    REQUEST = "request"  # self-request, an admin approves
    NOMINATION = "nomination"  # only a focal point's nomination


class Modality(enum.StrEnum):
    SELF_PACED = "self_paced"
    ONLINE_SCHEDULED = "online_scheduled"
    IN_PERSON = "in_person"
    BLENDED = "blended"


class EnrolmentStatus(enum.StrEnum):
    ENROLLED = "enrolled"
    COMPLETED = "completed"
    WITHDRAWN = "withdrawn"


class CourseRun(db.Model):  # type: ignore[name-defined]
    __tablename__ = "course_run"

    id: Mapped[int] = mapped_column(primary_key=True)
    course_id: Mapped[int] = mapped_column(ForeignKey("course.id"), index=True)
    title: Mapped[str] = mapped_column(String(200))
    modality: Mapped[str] = mapped_column(String(20), default=Modality.SELF_PACED)
    language: Mapped[str] = mapped_column(String(5), default="en")
    starts_on: Mapped[date | None]
    ends_on: Mapped[date | None]
    enrolment_opens_on: Mapped[date | None]
    enrolment_closes_on: Mapped[date | None]
    seats_total: Mapped[int | None]
    enrolment_method: Mapped[str] = mapped_column(String(12), default=EnrolmentMethod.OPEN)
    # The always-open self-paced offering a course gets when it is loaded from files.
    is_default: Mapped[bool] = mapped_column(default=False)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    course: Mapped[Course] = relationship()


class Enrolment(db.Model):  # type: ignore[name-defined]
    __tablename__ = "enrolment"
    __table_args__ = (Index("ix_enrolment_user_status", "user_id", "status"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    run_id: Mapped[int] = mapped_column(ForeignKey("course_run.id"), index=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("user.id"))
    status: Mapped[str] = mapped_column(String(12), default=EnrolmentStatus.ENROLLED)
    language: Mapped[str | None] = mapped_column(String(5))
    enrolled_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    completed_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    last_activity_at: Mapped[datetime | None] = mapped_column(UTCDateTime)

    run: Mapped[CourseRun] = relationship()
    user: Mapped[User] = relationship()


class LessonCompletion(db.Model):  # type: ignore[name-defined]
    """Belongs to an enrolment, so a later run of the same course starts a fresh record."""

    __tablename__ = "lesson_completion"
    __table_args__ = (UniqueConstraint("enrolment_id", "lesson_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    enrolment_id: Mapped[int] = mapped_column(ForeignKey("enrolment.id", ondelete="CASCADE"))
    lesson_id: Mapped[int] = mapped_column(ForeignKey("lesson.id"), index=True)
    completed_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    lesson: Mapped[Lesson] = relationship()
