from __future__ import annotations

import enum
from datetime import date, datetime
from typing import Any

from sqlalchemy import (
    JSON,
    ColumnElement,
    ForeignKey,
    Index,
    LargeBinary,
    String,
    Text,
    UniqueConstraint,
    literal_column,
)
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


class CertificateIssuance(enum.StrEnum):
    """When a run's certificates are issued; the run form offers it, lms.certificates applies it."""

    AUTOMATIC = "automatic"  # as soon as a trainee completes the run
    APPROVAL = "approval"  # an admin issues it from the "completed, not issued" list


class EnrolmentStatus(enum.StrEnum):
    NOMINATED = "nominated"  # a focal point asked for a place; waits for an admin
    REQUESTED = "requested"  # the trainee asked for a place; waits for an admin
    WAITING = "waiting"  # cleared to join but no seat (or quota) left; promoted in order
    ENROLLED = "enrolled"  # holds a seat (approval leads here)
    REJECTED = "rejected"
    WITHDRAWN = "withdrawn"
    COMPLETED = "completed"  # still holds its seat: it counts as trained


# Statuses that are still "live" in a run: a person may hold at most one of them per run.
PENDING_STATUSES = (EnrolmentStatus.NOMINATED, EnrolmentStatus.REQUESTED, EnrolmentStatus.WAITING)
SEAT_STATUSES = (EnrolmentStatus.ENROLLED, EnrolmentStatus.COMPLETED)
ACTIVE_STATUSES = (EnrolmentStatus.ENROLLED, EnrolmentStatus.COMPLETED)  # places that count as studying


def status_in(column: Any, statuses: tuple[EnrolmentStatus, ...]) -> ColumnElement[bool]:
    """``column IN ('enrolled', 'completed')`` with the statuses written into the SQL, not bound: a bound
    list is an "expanding" parameter, which SQLAlchemy rewrites into the statement's text at every
    execution (~16% of the lesson page's place read, issue 22). The values are this module's constants."""
    return column.in_([literal_column(f"'{status.value}'") for status in statuses])


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
    # CertificateIssuance: "automatic" (on completion) or "approval" (an admin issues); read by
    # lms.certificates.
    certificate_issuance: Mapped[str] = mapped_column(String(12), default=CertificateIssuance.AUTOMATIC)
    # Eligibility: everyone, or only the countries and authorities listed in run_eligible_*.
    open_to_all: Mapped[bool] = mapped_column(default=True)
    start_reminder_sent_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    # For synchronisation (GET /api/v1/runs?updated_since=): any change of the run's row moves it.
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, onupdate=utcnow, index=True)
    # Runs with sessions (lms.sessions, issue 20). Completion rule: the course's lessons (unless a pure
    # workshop turns them off), at least min_attendance_percent of the planned session time, and the final
    # assessment when the course has one. session_minutes is the sum of the run's sessions (not cancelled),
    # kept by lms.sessions so that completion reads it without knowing sessions.
    completion_requires_lessons: Mapped[bool] = mapped_column(default=True)
    min_attendance_percent: Mapped[int | None]
    session_minutes: Mapped[int] = mapped_column(default=0)
    # When the last of its sessions not cancelled ends (None without one), kept by lms.sessions with
    # session_minutes: the dashboard asks for a "next session" only of runs whose sessions are not all over.
    sessions_end_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    # International events: visa invitation letters; passport data and needs are erased this many days
    # after the run ends (lms.sessions, a periodic job).
    is_international: Mapped[bool] = mapped_column(default=False)
    personal_data_retention_days: Mapped[int] = mapped_column(default=30)

    course: Mapped[Course] = relationship()


class Enrolment(db.Model):  # type: ignore[name-defined]
    __tablename__ = "enrolment"
    __table_args__ = (
        Index("ix_enrolment_user_status", "user_id", "status"),
        # Reports (lms/reports/indicator_queries.py): the indicator report reads places by status and
        # enrolment date from this index alone (covering: it never touches the table), however large it grows.
        Index(
            "ix_enrolment_report",
            "status",
            "enrolled_at",
            "run_id",
            "user_id",
            "authority_id",
            "completed_at",
        ),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    run_id: Mapped[int] = mapped_column(ForeignKey("course_run.id"), index=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("user.id"))
    status: Mapped[str] = mapped_column(String(12), default=EnrolmentStatus.ENROLLED)
    language: Mapped[str | None] = mapped_column(String(5))
    enrolled_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    completed_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    last_activity_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    # The authority whose quota the place counts against, fixed when the enrolment is created
    # (a later move to another agency does not rewrite history).
    authority_id: Mapped[int | None] = mapped_column(ForeignKey("authority.id"), index=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    nominated_by_id: Mapped[int | None] = mapped_column(ForeignKey("user.id"))
    justification: Mapped[str | None] = mapped_column(Text)
    # Order on the run's waiting list (1 = next); None when not waiting.
    waiting_position: Mapped[int | None]
    # Minutes of the run's sessions attended (lms.sessions keeps it from the register; completion reads it).
    attended_minutes: Mapped[int] = mapped_column(default=0)

    run: Mapped[CourseRun] = relationship()
    user: Mapped[User] = relationship(foreign_keys=[user_id])

    @property
    def is_active(self) -> bool:
        """A place that counts as studying (ACTIVE_STATUSES): quizzes may be taken on it."""
        return self.status in ACTIVE_STATUSES


class RunAuthorityQuota(db.Model):  # type: ignore[name-defined]
    """At most `seats` places of a run for the staff of one authority."""

    __tablename__ = "run_authority_quota"
    __table_args__ = (UniqueConstraint("run_id", "authority_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    run_id: Mapped[int] = mapped_column(ForeignKey("course_run.id", ondelete="CASCADE"), index=True)
    authority_id: Mapped[int] = mapped_column(ForeignKey("authority.id"))
    seats: Mapped[int]


class RunEligibleCountry(db.Model):  # type: ignore[name-defined]
    __tablename__ = "run_eligible_country"

    run_id: Mapped[int] = mapped_column(ForeignKey("course_run.id", ondelete="CASCADE"), primary_key=True)
    country_code: Mapped[str] = mapped_column(ForeignKey("country.code"), primary_key=True)


class RunEligibleAuthority(db.Model):  # type: ignore[name-defined]
    __tablename__ = "run_eligible_authority"

    run_id: Mapped[int] = mapped_column(ForeignKey("course_run.id", ondelete="CASCADE"), primary_key=True)
    authority_id: Mapped[int] = mapped_column(ForeignKey("authority.id"), primary_key=True)


class EnrolmentEvent(db.Model):  # type: ignore[name-defined]
    """Every change of an enrolment's state: who, when, why. Append-only."""

    __tablename__ = "enrolment_event"

    id: Mapped[int] = mapped_column(primary_key=True)
    enrolment_id: Mapped[int] = mapped_column(ForeignKey("enrolment.id", ondelete="CASCADE"), index=True)
    action: Mapped[str] = mapped_column(String(20))  # nominated, requested, approved, promoted...
    from_status: Mapped[str | None] = mapped_column(String(12))
    to_status: Mapped[str] = mapped_column(String(12))
    actor_id: Mapped[int | None] = mapped_column(ForeignKey("user.id"))
    reason: Mapped[str | None] = mapped_column(Text)
    at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


class LessonCompletion(db.Model):  # type: ignore[name-defined]
    """Belongs to an enrolment, so a later run of the same course starts a fresh record."""

    __tablename__ = "lesson_completion"
    __table_args__ = (UniqueConstraint("enrolment_id", "lesson_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    enrolment_id: Mapped[int] = mapped_column(ForeignKey("enrolment.id", ondelete="CASCADE"))
    lesson_id: Mapped[int] = mapped_column(ForeignKey("lesson.id"), index=True)
    completed_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    lesson: Mapped[Lesson] = relationship()


class ImportStatus(enum.StrEnum):
    QUEUED = "queued"  # waiting for the job worker
    CHECKING = "checking"  # reading the file and matching people: no lock held
    WRITING = "writing"  # the one short writing transaction
    DONE = "done"  # written, or (dry run) checked
    FAILED = "failed"  # problems in the file, or the job stopped: nothing was written


class EnrolmentImport(db.Model):  # type: ignore[name-defined]
    """A CSV import too large for one request (lms.enrolment.bulk_import): the file waits here for the
    job, which records its progress and result here; the person who started it follows them on
    /runs/<run>/imports/<id>. The file is dropped once the job has finished with it."""

    __tablename__ = "enrolment_import"

    id: Mapped[int] = mapped_column(primary_key=True)
    run_id: Mapped[int] = mapped_column(ForeignKey("course_run.id", ondelete="CASCADE"), index=True)
    actor_id: Mapped[int] = mapped_column(ForeignKey("user.id"), index=True)
    mode: Mapped[str] = mapped_column(String(10))  # lms.enrolment.import_snapshot.ImportMode
    dry_run: Mapped[bool] = mapped_column(default=True)
    justification: Mapped[str] = mapped_column(Text)
    # The page language of whoever started it: the job writes its problem messages in it.
    language: Mapped[str] = mapped_column(String(5), default="en")
    file_name: Mapped[str | None] = mapped_column(String(255))
    data: Mapped[bytes | None] = mapped_column(LargeBinary)
    status: Mapped[str] = mapped_column(String(10), default=ImportStatus.QUEUED)
    rows_total: Mapped[int] = mapped_column(default=0)
    rows_checked: Mapped[int] = mapped_column(default=0)
    # When done: counts of accounts (new/updated/unchanged) and of places by status.
    summary: Mapped[dict[str, Any] | None] = mapped_column(JSON)
    # [[row, message], ...], the first ones only (problem_count says how many there were).
    problems: Mapped[list[Any] | None] = mapped_column(JSON)
    problem_count: Mapped[int] = mapped_column(default=0)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    finished_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
