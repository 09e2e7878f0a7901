"""Issuing, re-issuing and revoking certificates; the signed documents anyone can check.

Services flush and raise LmsError subclasses; the caller commits. Every issue, re-issue and
revocation writes an audit record in the same transaction.

An issue writes rows only: the PDF is rendered after the commit (``store_pdf``, by the job the
request enqueues, the every-minute sweep, or a download that comes first), never while the
issuing transaction holds the database's write lock, and never for a row that was rolled back.
"""

from __future__ import annotations

import calendar
import contextlib
import copy
import hashlib
import json
import logging
import os
import secrets
import tempfile
import uuid
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from flask import current_app, g, has_request_context, render_template
from flask_babel import force_locale
from flask_babel import gettext as _
from sqlalchemy import func, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import joinedload

from lms.audit.models import AuditRecord
from lms.audit.services import record_event
from lms.auth.models import User
from lms.certificates import codes, credential, dataintegrity, keys, pdf, statuslist
from lms.certificates.issuer import Issuer, academy_issuer
from lms.certificates.models import (
    Certificate,
    CertificateStatus,
    IssuanceRule,
    IssueMethod,
)
from lms.certificates.signals import certificate_issued, certificate_revoked
from lms.db import begin_writing, utcnow
from lms.enrolment.models import CourseRun, Enrolment, EnrolmentStatus, Modality
from lms.enrolment.signals import enrolment_completed
from lms.errors import Conflict, LmsError, NotFound, ValidationFailed
from lms.extensions import db
from lms.i18n import localized_date, localized_number, text_direction
from lms.ops import ratelimit

log = logging.getLogger(__name__)

PDF_FOLDER = "certificates"
STATUS_LIST_PATH = "/credentials/status/revocation"
PDF_PENDING = ""  # pdf_sha256 of a certificate whose PDF is not stored yet (rendered after the commit)


class RateLimited(LmsError):
    status_code = 429


# --- paths, keys and the issuer --------------------------------------------------------------


def instance_dir() -> Path:
    return Path(current_app.instance_path)


def pdf_path(certificate: Certificate) -> Path:
    return instance_dir() / PDF_FOLDER / certificate.pdf_file


def verify_url(issuer: Issuer, code: str) -> str:
    return issuer.url(f"/verify/{codes.grouped(code)}")


def status_list_url(issuer: Issuer) -> str:
    return issuer.url(STATUS_LIST_PATH)


def verification_method(issuer: Issuer, key_id: str) -> str:
    return f"{issuer.did}#{key_id}"


def did_document() -> dict[str, Any]:
    issuer = academy_issuer()
    published = keys.published_keys(instance_dir())
    return credential.did_document(issuer.did, [(k.key_id, k.public_key_multibase) for k in published])


def resolve_own_key(method: str) -> dataintegrity.Ed25519PublicKey | None:
    """A verification method of the academy's DID (active or retired), as the DID document lists it."""
    issuer = academy_issuer()
    for key in keys.published_keys(instance_dir()):
        if verification_method(issuer, key.key_id) == method:
            return key.public_key
    return None


def sign_document(document: dict[str, Any], created: datetime | None = None) -> dict[str, Any]:
    issuer = academy_issuer()
    signing_key = keys.load_signing_key(instance_dir())
    options = dataintegrity.proof_options(
        verification_method(issuer, signing_key.key_id), created or utcnow()
    )
    return dataintegrity.sign(document, signing_key.private_key, options)


def rotate_signing_key(actor_id: int | None = None) -> str:
    old_id, new_id = keys.rotate(instance_dir())
    record_event(
        "certificates.key_rotated",
        "signing_key",
        new_id,
        actor_id=actor_id,
        before={"key_id": old_id},
        after={"key_id": new_id},
    )
    return new_id


# --- pure-ish helpers ------------------------------------------------------------------------


def add_months(moment: datetime, months: int) -> datetime:
    """Same day of month ``months`` later, clamped to the month's last day (31 Jan + 1 = 28/29 Feb)."""
    month_index = moment.month - 1 + months
    year, month = moment.year + month_index // 12, month_index % 12 + 1
    day = min(moment.day, calendar.monthrange(year, month)[1])
    return moment.replace(year=year, month=month, day=day)


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


def english_pdf_path(certificate: Certificate) -> Path:
    """The English companion of a certificate issued in another language (same code, same facts)."""
    return instance_dir() / PDF_FOLDER / f"{Path(certificate.pdf_file).stem}.en.pdf"


def _pdf_html(certificate: Certificate, issuer: Issuer, language: str) -> str:
    """The certificate in ``language`` as HTML for WeasyPrint: fixed wording through gettext, dates
    and numbers per locale.

    The study-language PDF uses the title and outcomes copied onto the row; the English companion
    takes the course's English (default-language) texts, as the course had them at issue.
    """
    url = verify_url(issuer, certificate.code)
    if language == certificate.language:
        title, outcomes = certificate.course_title, list(certificate.learning_outcomes)
    else:
        course = certificate.run.course
        title = str(course.text("title", language))
        outcomes = [str(o) for o in course.text("learning_outcomes", language) or []]
    with force_locale(language):
        html = render_template(
            "certificates/pdf.html",
            c=certificate,
            language=language,
            course_title=title,
            learning_outcomes=outcomes,
            grouped_code=codes.grouped(certificate.code),
            verify_url=url,
            qr=pdf.qr_svg_data_uri(url),
            direction=text_direction(language),
            title_direction=pdf.text_direction(title),
            native_direction=pdf.text_direction(certificate.holder_native_name),
            credits_text=localized_number(certificate.credits) if certificate.credits is not None else "",
            modality_label=modality_label(certificate.modality),
            issued_on=localized_date(certificate.issued_at.date(), "long"),
            valid_until=(
                localized_date(certificate.valid_until.date(), "long") if certificate.valid_until else None
            ),
            run_starts_on=localized_date(certificate.run_starts_on) if certificate.run_starts_on else "",
            run_ends_on=localized_date(certificate.run_ends_on) if certificate.run_ends_on else "",
        )
    return html


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
    _render_after_commit(certificate.id)
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


# --- the PDF, after the commit ---------------------------------------------------------------
#
# WeasyPrint takes a quarter to half a second a page here (over a second for a process's first
# page), twice for a certificate with an English companion. Rendered inside the issuing
# transaction, that held SQLite's write lock for seconds on every automatic issue (a learner's
# quiz submission), so other learners' writes ran out of busy timeout (issue 18 item 9). An issue
# now writes rows only; the files are made here, with no transaction open, once the row is
# committed. pdf_sha256 == PDF_PENDING marks a certificate whose PDF is not recorded yet.


def _render_after_commit(certificate_id: int) -> None:
    """Note a new certificate for the job that the app enqueues after the request's commit (like
    mail, docs/architecture.md). Outside a request the caller runs ``store_pdf`` after its commit;
    the every-minute sweep (``store_missing_pdfs``) renders whatever nobody did."""
    if has_request_context():
        g.setdefault("certificate_pdfs_to_render", []).append(certificate_id)


def take_pdfs_issued_in_request() -> list[int]:
    """The ids of the certificates this request issued, once: the after-request hook hands them to
    the rendering job (a rolled-back id finds no row there, or another pending certificate)."""
    if not has_request_context():
        return []
    return list(g.pop("certificate_pdfs_to_render", None) or [])


def _missing_documents(certificate: Certificate, issuer: Issuer) -> list[tuple[Path, str]]:
    """The PDF files this certificate should have and does not, each with the HTML to render
    (from the row's values and the run's course: no query once those are loaded)."""
    wanted = [(pdf_path(certificate), certificate.language)]
    if certificate.language != "en":
        # Issue 8: a certificate in the run's language always comes with an English version.
        wanted.append((english_pdf_path(certificate), "en"))
    missing = [(path, language) for path, language in wanted if not path.exists()]
    return [(path, _pdf_html(certificate, issuer, language)) for path, language in missing]


def _store_file(path: Path, data: bytes) -> None:
    """Create ``path`` holding ``data`` unless it exists. The bytes go to a temporary file that is
    then hard-linked into place (atomic, and fails if the name is taken), so a download never reads
    half a file and of two renderers (the job, the sweep, a download) the first one's file stays:
    a stored PDF is never overwritten."""
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, temporary = tempfile.mkstemp(dir=path.parent, prefix=f".{path.stem}.", suffix=".part")
    try:
        with os.fdopen(fd, "wb") as handle:
            handle.write(data)
            handle.flush()
            os.fsync(handle.fileno())
        os.chmod(temporary, 0o644)  # mkstemp makes it 0600; issued PDFs were always 0644
        with contextlib.suppress(FileExistsError):  # made meanwhile by another renderer: the first stays
            os.link(temporary, path)
    finally:
        os.unlink(temporary)


def render_missing_files(certificate: Certificate, issuer: Issuer | None = None) -> None:
    """Write this certificate's missing PDF files now (a download that came before the job).

    Ends the caller's transaction (it may only have read) before WeasyPrint runs, so nothing, not
    even a SQLite snapshot, is held while it works. Writes no row: the job or the sweep records the
    file's SHA-256."""
    documents = _missing_documents(certificate, issuer or academy_issuer())
    db.session.commit()
    for path, html in documents:
        _store_file(path, pdf.html_to_pdf(html))


def store_pdf(certificate_id: int) -> bool:
    """Render and store a committed certificate's PDF files if missing, then record the PDF's
    SHA-256 on the row and in the audit trail (once, whoever gets there first).

    Commits: it reads in one short transaction, renders with none open, and records the digest in
    a second short one, so the write lock is held for an UPDATE and an audit row, never for
    WeasyPrint. Idempotent (a job that runs twice renders nothing twice). False when no row has
    this id: its issue was rolled back."""
    session = db.session()
    certificate = session.get(
        Certificate,
        certificate_id,
        populate_existing=True,
        options=[joinedload(Certificate.run).joinedload(CourseRun.course)],  # the English texts
    )
    if certificate is None:
        session.rollback()
        return False
    issuer = academy_issuer()
    code, main = certificate.code, pdf_path(certificate)
    needs_digest = certificate.pdf_sha256 == PDF_PENDING
    # A job's transactions are writers (BEGIN IMMEDIATE on SQLite): end this one now, keeping the
    # values read, so that building the HTML (over a second for a process's first certificate:
    # templates and catalogues load) holds no lock either.
    session.expire_on_commit = False
    try:
        session.commit()
    finally:
        session.expire_on_commit = True
    render_missing_files(certificate, issuer)
    if needs_digest:
        digest = hashlib.sha256(main.read_bytes()).hexdigest()
        recorded = db.session.execute(
            update(Certificate)
            .where(Certificate.id == certificate_id, Certificate.pdf_sha256 == PDF_PENDING)
            .values(pdf_sha256=digest)
            .execution_options(synchronize_session=False)
        )
        if getattr(recorded, "rowcount", 0) == 1:
            record_event(
                "certificate.pdf_stored",
                "certificate",
                certificate_id,
                after={"code": code, "pdf_sha256": digest},
            )
        db.session.commit()
    return True


def store_missing_pdfs(limit: int = 100, grace_seconds: int = 60) -> int:
    """The sweep: store the PDF of every certificate still without one (its job was lost, failed
    or could not be enqueued), oldest first, leaving the last ``grace_seconds`` to their own job.
    Commits; a certificate that fails is logged and left for the next sweep. Returns how many."""
    before = utcnow() - timedelta(seconds=grace_seconds)
    pending = list(
        db.session.scalars(
            select(Certificate.id)
            .where(Certificate.pdf_sha256 == PDF_PENDING, Certificate.issued_at <= before)
            .order_by(Certificate.id)
            .limit(limit)
        )
    )
    db.session.rollback()
    stored = 0
    for certificate_id in pending:
        try:
            stored += store_pdf(certificate_id)
        except Exception:
            db.session.rollback()
            log.exception(
                "could not store the PDF of certificate %s; the next sweep tries again", certificate_id
            )
    return stored


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
    try:
        with db.session.begin_nested():
            issue_for_enrolment(enrolment, actor_id=None, method=IssueMethod.AUTOMATIC)
    except Exception:
        log.exception("automatic certificate for enrolment %s failed; left for an admin", enrolment.id)


def connect_signals() -> None:
    """Connected by init_certificates (lms/certificates/setup.py) in every app: web, CLI, jobs."""
    enrolment_completed.connect(on_enrolment_completed)


# --- the status list -------------------------------------------------------------------------


def revoked_indices() -> list[int]:
    return list(
        db.session.scalars(
            select(Certificate.status_index).where(
                Certificate.status.in_((CertificateStatus.REVOKED, CertificateStatus.SUPERSEDED))
            )
        )
    )


# The last signed list of this process, by everything the signature covers: signing (JSON-LD
# canonicalisation and Ed25519) is most of a request's time, and the list only changes on a
# revocation or re-issue, so the bits and the moment are read on every request and signed only
# when they (or the key, or the academy's address) changed.
_signed_status_list: dict[str, dict[str, Any]] = {}


def status_list_document() -> dict[str, Any]:
    """The signed BitstringStatusListCredential, made from the database on each request so a
    revocation shows at once. validFrom is the last change, so the signature is stable in between
    and is reused until the list changes."""
    issuer = academy_issuer()
    last_change = db.session.scalar(
        select(func.max(func.coalesce(Certificate.revoked_at, Certificate.superseded_at))).where(
            Certificate.status.in_((CertificateStatus.REVOKED, CertificateStatus.SUPERSEDED))
        )
    )
    first = db.session.scalar(select(func.min(Certificate.issued_at)))
    moment = last_change or first or datetime(2026, 1, 1, tzinfo=UTC)
    if moment.tzinfo is None:  # aggregates bypass the UTC column type on SQLite
        moment = moment.replace(tzinfo=UTC)
    document = credential.status_list_credential(
        status_list_url(issuer), issuer.did, statuslist.encode(revoked_indices()), moment
    )
    key_id = keys.load_signing_key(instance_dir()).key_id
    inputs = json.dumps([str(instance_dir()), key_id, document], sort_keys=True, default=str)
    cache_key = hashlib.sha256(inputs.encode()).hexdigest()
    signed = _signed_status_list.get(cache_key)
    if signed is None:
        signed = sign_document(document, created=moment)
        _signed_status_list.clear()  # one list per process: only the newest is worth keeping
        _signed_status_list[cache_key] = signed
    return copy.deepcopy(signed)


# --- rate limiting the public verify page ----------------------------------------------------


def count_verify_lookup(client_address: str | None) -> None:
    """Count one lookup for this client in the current window; raise RateLimited past the limit.

    The count is the shared limiter's (lms.ops.ratelimit: Redis, or its database table), keyed by a
    hash of the secret key and the address so no address is stored. Without Redis the hit goes
    through the session: call at the start of a writing transaction and commit, refused or not."""
    limit = int(current_app.config.get("CERTIFICATE_VERIFY_LIMIT", 30))
    seconds = int(current_app.config.get("CERTIFICATE_VERIFY_WINDOW_SECONDS", 600))
    if not ratelimit.hit(verify_rate_key(client_address), limit, seconds):
        raise RateLimited(_("Too many verification requests. Please wait a few minutes and try again."))


def count_verify_lookup_kept(client_address: str | None) -> None:
    """The public verify pages' count (GET pages: the verify URL is what a QR code holds), kept
    whatever the page then answers: an unknown code (404) and a refusal (429) count too. The one
    write of these GET requests, named here on purpose: it ends the page's reading transaction
    (lms.db.begin_writing, which sets g.write_intent), counts, and commits the count at once, before
    the refusal or the rest of the page (docs/architecture.md "Unit of work")."""
    begin_writing()
    try:
        count_verify_lookup(client_address)
    except RateLimited:
        db.session.commit()  # the refused lookup is counted too; the request rolls back nothing of it
        raise
    db.session.commit()  # kept even if the page answers 404 for an unknown code


def verify_rate_key(client_address: str | None) -> str:
    secret = str(current_app.config["SECRET_KEY"])
    return "verify:" + hashlib.sha256(f"{secret}:{client_address or '-'}".encode()).hexdigest()


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
