"""Issuing, re-issuing and revoking certificates; a bulk issue and its progress; a run's issuance rule and the
automatic issue on completion.

Services flush and raise LmsError subclasses; the caller commits. Every issue, re-issue and
revocation writes an audit record in the same transaction.

An issue writes rows only: the PDF is rendered after the commit (``store_pdf``, by the job the
request enqueues, the every-minute sweep, or a download that comes first), never while the
issuing transaction holds the database's write lock, and never for a row that was rolled back.
"""

from __future__ import annotations

import logging
import secrets
import uuid
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from flask import g, has_request_context
from flask_babel import gettext as _
from sqlalchemy import func, select
from sqlalchemy.exc import IntegrityError

from lms.audit.models import AuditRecord
from lms.audit.services import record_event
from lms.auth.models import User
from lms.certificates import codes, credential, credential_extras, identity, statuslist
from lms.certificates.issuer import academy_issuer
from lms.certificates.mail import queue_issue_mail
from lms.certificates.models import Certificate, CertificateStatus, IssuanceRule, IssueMethod
from lms.certificates.queries import active_certificate
from lms.certificates.rendering import render_after_commit
from lms.certificates.signals import certificate_issued, certificate_revoked
from lms.certificates.signed_documents import sign_document, status_list_url
from lms.certificates.storage import PDF_PENDING
from lms.dates import add_months
from lms.db import utcnow
from lms.enrolment.completion import final_assessment_results
from lms.enrolment.models import CourseRun, Enrolment, EnrolmentStatus
from lms.enrolment.signals import enrolment_completed
from lms.errors import Conflict, NotFound, ValidationFailed
from lms.extensions import db
from lms.surveys.models import RunSurvey, SurveyInvitation, SurveyKind
from lms.surveys.queries import certificate_waits_for_survey
from lms.surveys.signals import survey_answered

log = logging.getLogger(__name__)


# --- pure-ish helpers ------------------------------------------------------------------------


# --- issuing ---------------------------------------------------------------------------------


def _unused_code() -> str:
    while True:
        code = codes.new_code()
        if db.session.scalar(select(Certificate.id).where(Certificate.code == code)) is None:
            return code


def _unused_status_index() -> int:
    """A random free position: the spec asks for random indices so a list reveals no issue order."""
    while True:
        index = secrets.randbelow(statuslist.LIST_LENGTH)
        if db.session.scalar(select(Certificate.id).where(Certificate.status_index == index)) is None:
            return index


def _attended_minutes(run: CourseRun, enrolment: Enrolment | None) -> int | None:
    """The session time attended, for runs with sessions (issue 20): stated on the certificate."""
    if enrolment is None or not run.session_minutes:
        return None
    return enrolment.attended_minutes or 0


def _final_assessment(
    enrolment: Enrolment | None, language: str
) -> credential_extras.AssessmentResult | None:
    """The standing in the course's final quiz, when there is one and an attempt was finished."""
    standing = final_assessment_results([enrolment.id]).get(enrolment.id) if enrolment else None
    if standing is None or standing.grade is None:
        return None
    return credential_extras.AssessmentResult(
        name=str(standing.quiz.text("title", language)),
        score=standing.grade,
        pass_mark=standing.quiz.pass_mark,
        passed=standing.passed,
    )


def _issue(
    user: User,
    run: CourseRun,
    *,
    enrolment: Enrolment | None,
    method: IssueMethod,
    actor_id: int | None,
    reason: str | None,
    language: str | None = None,
) -> Certificate:
    if active_certificate(user.id, run.id) is not None:
        raise Conflict(_("%(name)s already has a certificate for this course run.", name=user.full_name))
    course = run.course
    language = language if language in course.languages else course.language
    issuer = academy_issuer()
    refusal = identity.issuing_refusal(issuer.base_url)  # production never signs as did:web:127.0.0.1
    if refusal:
        raise ValidationFailed(refusal)
    issued_at = utcnow().replace(microsecond=0)
    valid_until = (
        add_months(issued_at, course.certificate_validity_months)
        if course.certificate_validity_months
        else None
    )
    code = _unused_code()
    certificate = Certificate(
        code=code,
        credential_uuid=str(uuid.uuid4()),
        status_index=_unused_status_index(),
        user_id=user.id,
        run_id=run.id,
        enrolment_id=enrolment.id if enrolment else None,
        status=CertificateStatus.ACTIVE,
        method=method,
        issue_reason=reason,
        issued_at=issued_at,
        issued_by_id=actor_id,
        valid_until=valid_until,
        holder_name=user.full_name,
        holder_native_name=user.native_name,
        course_title=str(course.text("title", language)),
        course_level=course.level,
        credits=course.credits,
        notional_hours=course.notional_hours,
        attended_minutes=_attended_minutes(run, enrolment),
        learning_outcomes=[str(o) for o in course.text("learning_outcomes", language) or []],
        run_title=run.title,
        run_starts_on=run.starts_on,
        run_ends_on=run.ends_on,
        modality=run.modality,
        language=language,
        issuer_name=issuer.name,
        pdf_file=f"{code}.pdf",
        pdf_sha256="",
        credential={},
    )
    facts = credential.CredentialFacts(
        credential_id=certificate.credential_uuid,
        issuer_did=issuer.did,
        issuer_name=issuer.name,
        issuer_url=issuer.base_url,
        valid_from=issued_at,
        valid_until=valid_until,
        holder_email=user.email,
        identity_salt=secrets.token_hex(16),
        holder_name=certificate.holder_name,
        holder_native_name=certificate.holder_native_name,
        achievement_id=issuer.url(f"/courses/{course.slug}"),
        course_title=certificate.course_title,
        course_summary=str(course.text("summary", language) or ""),
        language=language,
        level=course.level,
        credits=course.credits,
        notional_hours=course.notional_hours,
        attended_minutes=certificate.attended_minutes,
        final_assessment=_final_assessment(enrolment, language),
        learning_outcomes=certificate.learning_outcomes,
        run_title=run.title,
        run_starts_on=run.starts_on,
        run_ends_on=run.ends_on,
        modality=run.modality,
        status_list_url=status_list_url(issuer),
        status_index=certificate.status_index,
    )
    certificate.credential = sign_document(credential.open_badge_credential(facts), created=issued_at)
    db.session.add(certificate)
    try:
        db.session.flush()  # the partial unique index settles a concurrent double issue here
    except IntegrityError as error:
        raise Conflict(_("This certificate was issued at the same time by someone else.")) from error
    render_after_commit(certificate.id)
    record_event(
        "certificate.issued" if method != IssueMethod.REISSUE else "certificate.reissued",
        "certificate",
        certificate.id,
        actor_id=actor_id,
        after={
            "code": certificate.code,
            "user_id": user.id,
            "run_id": run.id,
            "method": str(method),
            "credential_id": f"urn:uuid:{certificate.credential_uuid}",
        },
        reason=reason,
    )
    db.session.flush()
    certificate_issued.send(certificate, method=method, actor_id=actor_id)
    return certificate


def issue_for_enrolment(
    enrolment: Enrolment, *, actor_id: int | None, method: IssueMethod, reason: str | None = None
) -> Certificate:
    if enrolment.status != EnrolmentStatus.COMPLETED:
        raise ValidationFailed(_("Only a completed enrolment earns a certificate."))
    return _issue(
        enrolment.user,
        enrolment.run,
        enrolment=enrolment,
        method=method,
        actor_id=actor_id,
        reason=reason,
        language=enrolment.language or enrolment.run.language,
    )


def issue_approved(enrolment_ids: list[int], actor_id: int) -> list[Certificate]:
    """Bulk issue by an admin to people who completed (approval runs, or missed automatic ones)."""
    enrolments = db.session.scalars(
        select(Enrolment).where(Enrolment.id.in_(enrolment_ids)).order_by(Enrolment.id)
    ).all()
    if len(enrolments) != len(set(enrolment_ids)):
        raise NotFound(_("Some of the selected enrolments no longer exist."))
    return [issue_for_enrolment(e, actor_id=actor_id, method=IssueMethod.APPROVED) for e in enrolments]


BULK_ISSUE_ACTION = "certificates.bulk_issue_requested"


def request_bulk_issue(enrolment_ids: list[int], actor_id: int) -> int:
    """An admin's bulk issue, done by the job (one job per certificate, enqueued after the commit):
    the request only checks the choice and records it in the audit trail, whose record is the
    batch the progress page counts. Returns the batch number (that record's id)."""
    chosen = sorted(set(enrolment_ids))
    found = db.session.scalars(
        select(Enrolment.id).where(Enrolment.id.in_(chosen), Enrolment.status == EnrolmentStatus.COMPLETED)
    ).all()
    if len(found) != len(chosen):
        raise NotFound(_("Some of the selected enrolments no longer exist."))
    record = record_event(
        BULK_ISSUE_ACTION, "certificate_batch", None, actor_id=actor_id, after={"enrolment_ids": chosen}
    )
    if has_request_context():
        g.setdefault("certificate_bulk_issues", []).append((chosen, actor_id))
    return record.id


def take_bulk_issues_requested_in_request() -> list[tuple[list[int], int]]:
    """(enrolment ids, admin) of each bulk issue this request recorded, once, for the job."""
    if not has_request_context():
        return []
    return list(g.pop("certificate_bulk_issues", None) or [])


@dataclass(frozen=True)
class BulkIssueProgress:
    batch_id: int
    requested_at: datetime
    total: int
    issued: int  # certificates made (rows committed)
    stored: int  # of those, with their PDF stored

    @property
    def done(self) -> bool:
        return self.issued >= self.total and self.stored >= self.issued


def bulk_issue_progress(batch_id: int) -> BulkIssueProgress:
    """How far the job has come with a bulk issue: counted from the certificates themselves."""
    record = (
        db.session.get(AuditRecord, batch_id) if 0 < batch_id < 2**63 else None
    )  # a larger number is no batch (and no 64-bit id)
    if record is None or record.action != BULK_ISSUE_ACTION or not record.after:
        raise NotFound(_("There is no such bulk issue."))
    enrolment_ids = [int(i) for i in record.after.get("enrolment_ids", [])]
    rows = db.session.execute(
        select(Certificate.enrolment_id, func.min(Certificate.pdf_sha256))
        .where(Certificate.enrolment_id.in_(enrolment_ids))
        .group_by(Certificate.enrolment_id)
    ).all()
    return BulkIssueProgress(
        batch_id=batch_id,
        requested_at=record.at,
        total=len(enrolment_ids),
        issued=len(rows),
        stored=sum(1 for _enrolment, digest in rows if digest != PDF_PENDING),
    )


def issue_manually(email: str, run_id: int, actor_id: int, reason: str) -> Certificate:
    """An admin's decision, e.g. a trainee who completed an in-person run outside the platform."""
    if not reason.strip():
        raise ValidationFailed(_("Give a reason for issuing a certificate manually."))
    user = db.session.scalar(select(User).where(User.email == email.strip().lower()))
    if user is None:
        raise NotFound(_("No account has this email address."))
    run = db.session.get(CourseRun, run_id)
    if run is None:
        raise NotFound(_("This course run does not exist."))
    enrolment = db.session.scalar(
        select(Enrolment)
        .where(Enrolment.user_id == user.id, Enrolment.run_id == run.id)
        .order_by(Enrolment.id.desc())
        .limit(1)
    )
    return _issue(
        user,
        run,
        enrolment=enrolment,
        method=IssueMethod.MANUAL,
        actor_id=actor_id,
        reason=reason.strip(),
        language=(enrolment.language if enrolment else None) or run.language,
    )


def reissue(certificate: Certificate, actor_id: int, reason: str) -> Certificate:
    """A new certificate (new code, new PDF from today's template and name); the old one is kept as
    superseded and its status bit is set, so it stops verifying as current."""
    if certificate.status != CertificateStatus.ACTIVE:
        raise Conflict(_("Only a certificate in force can be re-issued."))
    if not reason.strip():
        raise ValidationFailed(_("Give a reason for the re-issue."))
    now = utcnow()
    certificate.status = CertificateStatus.SUPERSEDED
    certificate.superseded_at = now
    db.session.flush()
    enrolment = db.session.get(Enrolment, certificate.enrolment_id) if certificate.enrolment_id else None
    replacement = _issue(
        certificate.user,
        certificate.run,
        enrolment=enrolment,
        method=IssueMethod.REISSUE,
        actor_id=actor_id,
        reason=reason.strip(),
        language=certificate.language,
    )
    certificate.superseded_by_id = replacement.id
    record_event(
        "certificate.superseded",
        "certificate",
        certificate.id,
        actor_id=actor_id,
        before={"status": str(CertificateStatus.ACTIVE)},
        after={"status": str(CertificateStatus.SUPERSEDED), "superseded_by": replacement.code},
        reason=reason.strip(),
    )
    db.session.flush()
    return replacement


def revoke(certificate: Certificate, actor_id: int, reason: str, *, show_reason_publicly: bool) -> None:
    if certificate.status == CertificateStatus.REVOKED:
        raise Conflict(_("This certificate is already revoked."))
    if not reason.strip():
        raise ValidationFailed(_("Give a reason for the revocation."))
    before = {"status": certificate.status}
    certificate.status = CertificateStatus.REVOKED
    certificate.revoked_at = utcnow()
    certificate.revoked_by_id = actor_id
    certificate.revocation_reason = reason.strip()
    certificate.revocation_reason_public = show_reason_publicly
    record_event(
        "certificate.revoked",
        "certificate",
        certificate.id,
        actor_id=actor_id,
        before=before,
        after={"status": str(CertificateStatus.REVOKED), "reason_public": show_reason_publicly},
        reason=reason.strip(),
    )
    db.session.flush()
    certificate_revoked.send(certificate, actor_id=actor_id)


# --- a run's issuance rule -------------------------------------------------------------------


def set_issuance_rule(run: CourseRun, rule: str, actor_id: int | None) -> bool:
    """Set when a run's certificates are issued (the admin run form); True when it changed.

    The rule applies to completions from now on: switching to automatic does not issue to people
    who already completed, they stay in the "completed, not issued" list for an admin."""
    if rule not in set(IssuanceRule):
        raise ValidationFailed(
            _("Choose how certificates are issued: automatically on completion or on approval.")
        )
    before = str(run.certificate_issuance or IssuanceRule.AUTOMATIC)
    if before == rule:
        return False
    run.certificate_issuance = IssuanceRule(rule).value
    db.session.flush()
    record_event(
        "course_run.certificate_issuance_set",
        "course_run",
        run.id,
        actor_id=actor_id,
        before={"certificate_issuance": before},
        after={"certificate_issuance": run.certificate_issuance},
    )
    return True


# --- the completion hook ---------------------------------------------------------------------


def on_enrolment_completed(enrolment: Enrolment, **_kwargs: Any) -> None:
    """Subscriber of lms.enrolment.signals.enrolment_completed (inside the completing transaction).

    A failure here must not undo the trainee's completion: the issue runs in a savepoint, and a
    certificate that could not be made shows up in the admins' "completed, not issued" list."""
    if enrolment.run.certificate_issuance != IssuanceRule.AUTOMATIC:
        return
    if certificate_waits_for_survey(enrolment):
        return  # issued when the end-of-course survey is answered (on_survey_answered)
    _issue_automatically(enrolment)


def on_survey_answered(invitation: SurveyInvitation, **_kwargs: Any) -> None:
    """Subscriber of lms.surveys.signals.survey_answered: a run whose certificate waits for the
    end-of-course survey issues it now, by the run's rule (automatic: now; approval: an admin)."""
    run_survey = db.session.get(RunSurvey, invitation.run_survey_id)
    if (
        run_survey is None
        or run_survey.kind != SurveyKind.END_OF_COURSE
        or not run_survey.required_for_certificate
    ):
        return  # only the survey the certificate waited for issues it
    enrolment = db.session.get(Enrolment, invitation.enrolment_id)
    if (
        enrolment is None
        or enrolment.status != EnrolmentStatus.COMPLETED
        or enrolment.run.certificate_issuance != IssuanceRule.AUTOMATIC
        or certificate_waits_for_survey(enrolment)
        or active_certificate(enrolment.user_id, enrolment.run_id) is not None
    ):
        return
    _issue_automatically(enrolment)


def _issue_automatically(enrolment: Enrolment) -> None:
    try:
        with db.session.begin_nested():
            issue_for_enrolment(enrolment, actor_id=None, method=IssueMethod.AUTOMATIC)
    except Exception:
        log.exception("automatic certificate for enrolment %s failed; left for an admin", enrolment.id)


def connect_signals() -> None:
    """Connected by init_certificates (lms/certificates/setup.py) in every app: web, CLI, jobs."""
    enrolment_completed.connect(on_enrolment_completed)
    survey_answered.connect(on_survey_answered)
    certificate_issued.connect(queue_issue_mail)  # the holder's mail, with the LinkedIn link
