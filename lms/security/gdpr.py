"""Personal data (GDPR): a person's export and erasure, and the removal of their certificate files after the
erasure commits (session listeners registered when this module is imported).
"""

from __future__ import annotations

import secrets
from pathlib import Path
from typing import Any

from flask_babel import gettext as _
from sqlalchemy import event, select, update
from sqlalchemy.orm import Session, SessionTransaction

from lms.audit.models import AuditRecord
from lms.audit.services import record_event
from lms.auth.models import EmailConfirmation, User
from lms.auth.passwords import hash_password
from lms.certificates.models import Certificate
from lms.certificates.storage import PDF_FOLDER, instance_dir
from lms.db import utcnow
from lms.enrolment.models import CourseRun, Enrolment, EnrolmentEvent, LessonCompletion
from lms.errors import ValidationFailed
from lms.extensions import db
from lms.notifications.models import OutgoingMail
from lms.quizzes.models import Quiz, QuizAttempt
from lms.security.models import PasswordReset, TwoFactorCredential
from lms.security.two_factor import confirmed_credential
from lms.sessions.personal_data import erase_sessions_data, sessions_data

# --- personal data (GDPR) -----------------------------------------------------------------------


def _iso(value: Any) -> Any:
    return value.isoformat() if hasattr(value, "isoformat") else value


def personal_data(user: User) -> dict[str, Any]:
    """Everything the academy holds about a person beyond the profile (the profile and enrolment
    summary come from lms.auth.account_views): enrolments with their history, lesson completions,
    quiz attempts, certificates, the audit records about them or by them, and the sessions' records
    (lms.sessions.personal_data: event details, attendance, calendar feed without its token)."""
    enrolments = db.session.execute(
        select(Enrolment, CourseRun)
        .join(CourseRun, Enrolment.run_id == CourseRun.id)
        .where(Enrolment.user_id == user.id)
    ).all()
    enrolment_ids = [e.id for e, _run in enrolments]
    events = db.session.scalars(
        select(EnrolmentEvent)
        .where(EnrolmentEvent.enrolment_id.in_(enrolment_ids))
        .order_by(EnrolmentEvent.id)
    ).all()
    completions = db.session.scalars(
        select(LessonCompletion)
        .where(LessonCompletion.enrolment_id.in_(enrolment_ids))
        .order_by(LessonCompletion.id)
    ).all()
    attempts = db.session.execute(
        select(QuizAttempt, Quiz)
        .join(Quiz, QuizAttempt.quiz_id == Quiz.id)
        .where(QuizAttempt.enrolment_id.in_(enrolment_ids))
        .order_by(QuizAttempt.id)
    ).all()
    certificates = db.session.scalars(
        select(Certificate).where(Certificate.user_id == user.id).order_by(Certificate.id)
    ).all()
    audit = db.session.scalars(
        select(AuditRecord)
        .where(
            (AuditRecord.actor_id == user.id)
            | ((AuditRecord.subject_type == "user") & (AuditRecord.subject_id == str(user.id)))
            | (
                (AuditRecord.subject_type == "enrolment")
                & AuditRecord.subject_id.in_([str(i) for i in enrolment_ids])
            )
        )
        .order_by(AuditRecord.id)
    ).all()
    return {
        "enrolment_records": [
            {
                "id": e.id,
                "run": run.title,
                "status": e.status,
                "language": e.language,
                "enrolled_at": _iso(e.enrolled_at),
                "completed_at": _iso(e.completed_at),
                "last_activity_at": _iso(e.last_activity_at),
                "justification": e.justification,
            }
            for e, run in enrolments
        ],
        "enrolment_history": [
            {
                "enrolment_id": ev.enrolment_id,
                "action": ev.action,
                "from": ev.from_status,
                "to": ev.to_status,
                "reason": ev.reason,
                "at": _iso(ev.at),
            }
            for ev in events
        ],
        "lesson_completions": [
            {"enrolment_id": c.enrolment_id, "lesson_id": c.lesson_id, "completed_at": _iso(c.completed_at)}
            for c in completions
        ],
        "quiz_attempts": [
            {
                "id": a.id,
                "enrolment_id": a.enrolment_id,
                "quiz": quiz.slug if hasattr(quiz, "slug") else quiz.id,
                "number": a.number,
                "status": a.status,
                "started_at": _iso(a.started_at),
                "submitted_at": _iso(a.submitted_at),
                "score": a.score,
                "max_score": a.max_score,
                "percent": a.percent,
                "passed": a.passed,
            }
            for a, quiz in attempts
        ],
        "certificates": [
            {
                "code": c.code,
                "status": c.status,
                "course": c.course_title,
                "run": c.run_title,
                "holder_name": c.holder_name,
                "issued_at": _iso(c.issued_at),
                "valid_until": _iso(c.valid_until),
                "revoked_at": _iso(c.revoked_at),
            }
            for c in certificates
        ],
        "audit_records": [
            {
                "at": _iso(r.at),
                "action": r.action,
                "subject": f"{r.subject_type}:{r.subject_id}",
                "by_you": r.actor_id == user.id,
                "before": r.before,
                "after": r.after,
                "reason": r.reason,
                "ip_address": r.ip_address if r.actor_id == user.id else None,
            }
            for r in audit
        ],
        "two_factor": {"enabled": confirmed_credential(user.id) is not None},
        **sessions_data(user.id),  # participant details, attendance, sessions trained, calendar feed
    }


ERASED_NAME = ""  # certificates of an erased person keep their status, not the name


def erase_person(user: User, actor_id: int, reason: str) -> list[str]:
    """GDPR erasure (docs/security.md): personal fields go; the row, its id and the statistics
    fields that identify nobody (country, authority, sex, birth-year band) stay, so that reports keep
    their counts. Certificates keep code and status (the verify page still answers valid/revoked)
    but lose the name, the signed credential and the PDF. The account can never sign in again.
    Returns the certificate PDF file names to delete once the transaction has committed."""
    if user.id == actor_id:
        raise ValidationFailed(_("You cannot erase your own account."))
    if user.merged_into_id is None and user.email.endswith("@erased.invalid"):
        raise ValidationFailed(_("This person is already erased."))
    old_email = user.email
    user.email = f"erased-{user.id}@erased.invalid"
    user.given_name = "—"
    user.family_name = f"#{user.id}"
    user.patronymic = None
    user.native_name = None
    user.position = None
    user.timezone = None
    user.password_hash = hash_password(secrets.token_urlsafe(32))  # nobody knows it; sessions end
    user.active = False
    if user.deactivated_at is None:
        user.deactivated_at = utcnow()
    user.email_confirmed_at = None
    user.roles = []
    db.session.execute(update(EmailConfirmation).where(EmailConfirmation.user_id == user.id).values(email=""))
    db.session.execute(
        update(PasswordReset).where(PasswordReset.user_id == user.id).values(expires_at=utcnow())
    )
    credential = db.session.get(TwoFactorCredential, user.id)
    if credential is not None:
        db.session.delete(credential)
    db.session.execute(
        update(OutgoingMail)
        .where(OutgoingMail.recipient == old_email)
        .values(recipient="", subject="", body="")
    )
    db.session.execute(update(Enrolment).where(Enrolment.user_id == user.id).values(justification=None))
    erase_sessions_data(user.id)  # passport data and needs; the calendar feed
    pdf_files: list[str] = []
    for certificate in db.session.scalars(select(Certificate).where(Certificate.user_id == user.id)):
        certificate.holder_name = ERASED_NAME
        certificate.holder_native_name = None
        certificate.credential = {}
        if certificate.pdf_file:
            pdf_files.append(certificate.pdf_file)
    record_event("user.erased", "user", user.id, actor_id=actor_id, reason=reason)
    db.session.flush()
    return pdf_files


ERASED_FILES_KEY = "lms_erased_certificate_files"


def delete_certificate_files_after_commit(names: list[str]) -> None:
    """The erased person's PDFs go once the erase has committed, and stay if it rolls back."""
    db.session().info.setdefault(ERASED_FILES_KEY, []).extend(names)


@event.listens_for(Session, "after_commit")
def _delete_erased_files(session: Session) -> None:
    names = session.info.pop(ERASED_FILES_KEY, None)
    if names:
        delete_certificate_files(names)


@event.listens_for(Session, "after_soft_rollback")
def _keep_files_of_rolled_back_erase(session: Session, previous_transaction: SessionTransaction) -> None:
    if not previous_transaction.nested:  # a savepoint's rollback leaves the erase going on
        session.info.pop(ERASED_FILES_KEY, None)


def delete_certificate_files(names: list[str]) -> None:
    """After the erase committed: the PDFs (and their translated copies) carry the name, so they go."""
    folder = instance_dir() / PDF_FOLDER
    for name in names:
        stem = Path(name).stem
        if not stem or Path(name).name != name:
            continue
        for path in folder.glob(f"{stem}*.pdf"):
            path.unlink(missing_ok=True)
