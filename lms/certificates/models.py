from __future__ import annotations

import enum
from datetime import date, datetime
from decimal import Decimal
from typing import Any

from sqlalchemy import JSON, ForeignKey, Index, Numeric, String, Text, text
from sqlalchemy.orm import Mapped, mapped_column, relationship

from lms.auth.models import User
from lms.db import UTCDateTime, utcnow
from lms.enrolment.models import CertificateIssuance, CourseRun
from lms.extensions import db


class CertificateStatus(enum.StrEnum):
    ACTIVE = "active"
    SUPERSEDED = "superseded"  # replaced by an explicit re-issue; the newer one is in force
    REVOKED = "revoked"


# A course run's rule, stored in CourseRun.certificate_issuance. It is defined with the run
# (lms.enrolment, whose run form offers it: enrolment cannot import certificates).
IssuanceRule = CertificateIssuance


class IssueMethod(enum.StrEnum):
    AUTOMATIC = "automatic"  # on completion, by the run's rule
    APPROVED = "approved"  # an admin issued it to someone who completed
    MANUAL = "manual"  # an admin issued it with a reason (e.g. in-person course)
    REISSUE = "reissue"  # replaces an older certificate


class Certificate(db.Model):  # type: ignore[name-defined]
    """An issued certificate: what it certified is copied here at issue time and never recomputed,
    so later edits of the course or the person do not change an issued certificate."""

    __tablename__ = "certificate"
    __table_args__ = (
        # At most one certificate in force per person and course run, whatever the concurrency:
        # a second concurrent issue fails on this index (partial index: PostgreSQL and SQLite).
        Index(
            "uq_certificate_active_user_run",
            "user_id",
            "run_id",
            unique=True,
            sqlite_where=text("status = 'active'"),
            postgresql_where=text("status = 'active'"),
        ),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    code: Mapped[str] = mapped_column(String(12), unique=True)
    credential_uuid: Mapped[str] = mapped_column(String(36), unique=True)
    status_index: Mapped[int] = mapped_column(unique=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("user.id"), index=True)
    run_id: Mapped[int] = mapped_column(ForeignKey("course_run.id"), index=True)
    enrolment_id: Mapped[int | None] = mapped_column(ForeignKey("enrolment.id"), index=True)
    status: Mapped[str] = mapped_column(String(12), default=CertificateStatus.ACTIVE)
    method: Mapped[str] = mapped_column(String(12))
    issue_reason: Mapped[str | None] = mapped_column(Text)
    issued_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    issued_by_id: Mapped[int | None] = mapped_column(ForeignKey("user.id"))
    valid_until: Mapped[datetime | None] = mapped_column(UTCDateTime)

    # What the certificate says, frozen at issue.
    holder_name: Mapped[str] = mapped_column(String(320))
    holder_native_name: Mapped[str | None] = mapped_column(String(200))
    course_title: Mapped[str] = mapped_column(String(200))
    course_level: Mapped[str | None] = mapped_column(String(20))
    credits: Mapped[Decimal | None] = mapped_column(Numeric(5, 2))
    notional_hours: Mapped[int | None]
    # Runs with sessions (issue 20): the minutes of session time the holder attended, frozen at issue.
    attended_minutes: Mapped[int | None]
    learning_outcomes: Mapped[list[str]] = mapped_column(JSON, default=list)
    run_title: Mapped[str] = mapped_column(String(200))
    run_starts_on: Mapped[date | None]
    run_ends_on: Mapped[date | None]
    modality: Mapped[str] = mapped_column(String(20))
    language: Mapped[str] = mapped_column(String(5))
    issuer_name: Mapped[str] = mapped_column(String(200))

    credential: Mapped[dict[str, Any]] = mapped_column(JSON)  # the signed OpenBadgeCredential
    pdf_file: Mapped[str] = mapped_column(String(64))  # name under instance/certificates/
    pdf_sha256: Mapped[str] = mapped_column(String(64))

    revoked_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    revoked_by_id: Mapped[int | None] = mapped_column(ForeignKey("user.id"))
    revocation_reason: Mapped[str | None] = mapped_column(Text)
    revocation_reason_public: Mapped[bool] = mapped_column(default=False)
    superseded_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    superseded_by_id: Mapped[int | None] = mapped_column(ForeignKey("certificate.id"))

    user: Mapped[User] = relationship(foreign_keys=[user_id])
    run: Mapped[CourseRun] = relationship()
