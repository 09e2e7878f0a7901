"""Reading certificates: by code, a person's, the ones in force, the admins' lists and what a page
shows of one.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from flask_babel import gettext as _
from sqlalchemy import ColumnElement, bindparam, literal_column, select
from sqlalchemy.orm import joinedload

from lms.certificates import codes
from lms.certificates.models import Certificate, CertificateStatus
from lms.db import utcnow
from lms.enrolment.models import CourseRun, Enrolment, EnrolmentStatus, Modality
from lms.extensions import db


@dataclass(frozen=True)
class VerificationState:
    state: str  # valid | expired | revoked | superseded
    certificate: Certificate


def verification_state(certificate: Certificate, now: datetime | None = None) -> VerificationState:
    now = now or utcnow()
    if certificate.status == CertificateStatus.REVOKED:
        return VerificationState("revoked", certificate)
    if certificate.status == CertificateStatus.SUPERSEDED:
        return VerificationState("superseded", certificate)
    if certificate.valid_until is not None and certificate.valid_until <= now:
        return VerificationState("expired", certificate)
    return VerificationState("valid", certificate)


def modality_label(modality: str) -> str:
    labels = {
        Modality.SELF_PACED: _("Online, self-paced"),
        Modality.ONLINE_SCHEDULED: _("Online, scheduled"),
        Modality.IN_PERSON: _("In person"),
        Modality.BLENDED: _("Blended"),
    }
    return labels.get(modality, modality)  # type: ignore[call-overload]  # StrEnum keys match str


# --- reading ---------------------------------------------------------------------------------


def certificate_by_code(typed: str) -> Certificate | None:
    code = codes.normalise(typed)
    if code is None:
        return None
    return db.session.scalar(select(Certificate).where(Certificate.code == code))


def certificates_of(user_id: int) -> list[Certificate]:
    return list(
        db.session.scalars(
            select(Certificate)
            .where(Certificate.user_id == user_id)
            .order_by(Certificate.issued_at.desc(), Certificate.id.desc())
        )
    )


def active_certificate(user_id: int, run_id: int) -> Certificate | None:
    return db.session.scalar(
        select(Certificate).where(
            Certificate.user_id == user_id,
            Certificate.run_id == run_id,
            Certificate.status == CertificateStatus.ACTIVE,
        )
    )


# --- admin lists -----------------------------------------------------------------------------


def completed_without_certificate() -> list[Enrolment]:
    """Completed enrolments with no certificate at all (a revoked one is an admin decision: not listed)."""
    has_certificate = select(Certificate.id).where(
        Certificate.user_id == Enrolment.user_id, Certificate.run_id == Enrolment.run_id
    )
    return list(
        db.session.scalars(
            select(Enrolment)
            .where(Enrolment.status == EnrolmentStatus.COMPLETED, ~has_certificate.exists())
            .order_by(Enrolment.completed_at.desc(), Enrolment.id.desc())
            .options(joinedload(Enrolment.user), joinedload(Enrolment.run).joinedload(CourseRun.course))
        ).unique()
    )


def recent_certificates(limit: int = 200) -> list[Certificate]:
    return list(
        db.session.scalars(
            select(Certificate)
            .order_by(Certificate.issued_at.desc(), Certificate.id.desc())
            .limit(limit)
            .options(joinedload(Certificate.user))
        )
    )


def runs_for_manual_issue() -> list[CourseRun]:
    return list(
        db.session.scalars(
            select(CourseRun).order_by(CourseRun.title, CourseRun.id).options(joinedload(CourseRun.course))
        )
    )


def certificate_in_force_of_run(run_id: ColumnElement[int]) -> ColumnElement[str | None]:
    """The code of the person's certificate in force for a run, as a column of the dashboard's statement
    (lms.enrolment.queries.dashboard_rows: ``run_column``), whose ``user_id`` parameter names the person.
    At most one per person and run (uq_certificate_active_user_run)."""
    # On the table, not the mapped class: one ORM column would make the whole dashboard statement an ORM
    # one, which pays the ORM's per-statement set-up (~5% of the dashboard, issue 22).
    certificates = Certificate.__table__.c
    return (
        select(certificates.code)
        .where(
            certificates.run_id == run_id,
            certificates.user_id == bindparam("user_id"),
            # Written out, not bound: then SQLite and PostgreSQL may read the partial unique index (one
            # row), where a bound status made SQLite read every certificate of the run (~0.1 ms a place).
            certificates.status == literal_column(f"'{CertificateStatus.ACTIVE.value}'"),
        )
        .scalar_subquery()
    )
