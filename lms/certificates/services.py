"""Issuing, re-issuing and revoking certificates; the signed documents anyone can check.

Services flush and raise LmsError subclasses; the caller commits. Every issue, re-issue and
revocation writes an audit record in the same transaction.
"""

from __future__ import annotations

import calendar
import hashlib
import logging
import os
import secrets
import uuid
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from flask import current_app, render_template
from flask_babel import force_locale
from flask_babel import gettext as _
from sqlalchemy import func, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import joinedload

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
from lms.db import utcnow
from lms.enrolment.models import CourseRun, Enrolment, EnrolmentStatus, Modality
from lms.errors import Conflict, LmsError, NotFound, ValidationFailed
from lms.extensions import db
from lms.i18n import localized_date, localized_number, text_direction
from lms.ops import ratelimit

log = logging.getLogger(__name__)

PDF_FOLDER = "certificates"
STATUS_LIST_PATH = "/credentials/status/revocation"


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


def _render_pdf(certificate: Certificate, issuer: Issuer, language: str) -> bytes:
    """The certificate in ``language``: fixed wording through gettext, dates and numbers per locale.

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
    return pdf.html_to_pdf(html)


def _write_pdf(certificate: Certificate, issuer: Issuer) -> None:
    data = _render_pdf(certificate, issuer, certificate.language)
    folder = instance_dir() / PDF_FOLDER
    folder.mkdir(parents=True, exist_ok=True)
    # O_EXCL: an issued PDF is never overwritten; the code is new, so the name is too.
    fd = os.open(folder / certificate.pdf_file, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o644)
    with os.fdopen(fd, "wb") as handle:
        handle.write(data)
    certificate.pdf_sha256 = hashlib.sha256(data).hexdigest()
    if certificate.language != "en":
        # Issue 8: a certificate in the run's language always comes with an English version.
        english = _render_pdf(certificate, issuer, "en")
        fd = os.open(english_pdf_path(certificate), os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o644)
        with os.fdopen(fd, "wb") as handle:
            handle.write(english)


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
    _write_pdf(certificate, issuer)
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
            "pdf_sha256": certificate.pdf_sha256,
        },
        reason=reason,
    )
    db.session.flush()
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
    """Subscriber of lms.enrolment.services.enrolment_completed (inside the completing transaction).

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
    from lms.enrolment.services import enrolment_completed

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


def status_list_document() -> dict[str, Any]:
    """The signed BitstringStatusListCredential, made from the database on each request so a
    revocation shows at once. validFrom is the last change, so the signature is stable in between."""
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
    return sign_document(document, created=moment)


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
