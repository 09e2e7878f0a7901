"""The work behind the background jobs; like every service, these flush and the caller commits,
except where a docstring says a function commits per item (so a long run keeps its progress)."""

from __future__ import annotations

import json
import logging
from datetime import timedelta

from flask_babel import force_locale
from flask_babel import gettext as _
from sqlalchemy import select
from sqlalchemy.orm import joinedload

from lms.auth.models import Role, User, UserRole
from lms.certificates import queries as certificate_queries
from lms.certificates import services as certificates
from lms.certificates import signed_documents as certificate_signed_documents
from lms.certificates.models import Certificate, CertificateStatus, IssueMethod
from lms.db import utcnow
from lms.enrolment.models import Enrolment
from lms.errors import Conflict
from lms.extensions import db
from lms.jobs.expiry import REMINDER_DAYS, reminder_kind, reminder_tier
from lms.notifications.models import OutgoingMail
from lms.notifications.services import queue_mail
from lms.ops import cache

log = logging.getLogger(__name__)

STATUS_LIST_CACHE_KEY = "certificates:status-list"
STATUS_LIST_CACHE_SECONDS = 3600


def issue_certificate_for_enrolment(enrolment_id: int, actor_id: int | None) -> str:
    """One certificate of a bulk issue. Idempotent: a job that runs twice (a worker restarted
    mid-job) finds the certificate already there and does nothing. Returns what happened."""
    enrolment = db.session.get(Enrolment, enrolment_id)
    if enrolment is None:
        return "missing"
    user_id, run_id = enrolment.user_id, enrolment.run_id
    if certificate_queries.active_certificate(user_id, run_id) is not None:
        return "exists"
    try:
        certificates.issue_for_enrolment(enrolment, actor_id=actor_id, method=IssueMethod.APPROVED)
    except Conflict:
        # The failed flush leaves the session unusable: roll back (the caller's unit of work then
        # commits nothing) and read again whether someone else issued it meanwhile.
        db.session.rollback()
        if certificate_queries.active_certificate(user_id, run_id) is None:
            raise  # not a concurrent issue but another unique clash (a random code or index): retry
        return "exists"  # issued concurrently by someone else: the goal is reached
    return "issued"


def certificate_of_enrolment(enrolment_id: int) -> int | None:
    """The id of the certificate in force for this enrolment's person and run (read, then the
    transaction is ended so the caller renders its PDF with nothing held)."""
    enrolment = db.session.get(Enrolment, enrolment_id)
    certificate = (
        certificate_queries.active_certificate(enrolment.user_id, enrolment.run_id)
        if enrolment is not None
        else None
    )
    certificate_id = certificate.id if certificate is not None else None
    db.session.rollback()
    return certificate_id


def regenerate_status_list() -> dict[str, object]:
    """Sign the revocation status list and keep it in the shared cache (no cache: nothing kept,
    the view signs it per request as before)."""
    document = certificate_signed_documents.status_list_document()
    cache.set(STATUS_LIST_CACHE_KEY, json.dumps(document), STATUS_LIST_CACHE_SECONDS)
    return document


def focal_points_of(authority_id: int | None) -> list[User]:
    if authority_id is None:
        return []
    return list(
        db.session.scalars(
            select(User)
            .join(UserRole, UserRole.user_id == User.id)
            .where(UserRole.role == Role.FOCAL_POINT, UserRole.authority_id == authority_id, User.active)
            .order_by(User.id)
        ).unique()
    )


def queue_expiry_reminders() -> int:
    """Mail the holder and their authority's focal points once per tier (60/30/7 days before a
    certificate in force expires). The reminder's outgoing_mail row is the record that it was sent,
    so running this twice a day, or after a restart, sends nothing twice. Returns mails queued."""
    now = utcnow()
    horizon = now + timedelta(days=max(REMINDER_DAYS))
    expiring = db.session.scalars(
        select(Certificate)
        .where(
            Certificate.status == CertificateStatus.ACTIVE,
            Certificate.valid_until.is_not(None),
            Certificate.valid_until > now,
            Certificate.valid_until <= horizon,
        )
        .options(joinedload(Certificate.user))
        .order_by(Certificate.id)
    ).all()
    queued = 0
    for certificate in expiring:
        assert certificate.valid_until is not None  # noqa: S101 -- filtered in the query
        tier = reminder_tier(certificate.valid_until, now)
        if tier is None:
            continue
        kind = reminder_kind(tier, certificate.id)
        if db.session.scalar(select(OutgoingMail.id).where(OutgoingMail.kind == kind).limit(1)):
            continue
        holder = certificate.user
        for recipient in [holder, *focal_points_of(holder.authority_id)]:
            queue_mail(
                recipient.email,
                *_reminder_text(recipient, holder, certificate),
                kind=kind,
                language=recipient.preferred_language or "en",
            )
            queued += 1
    return queued


def _reminder_text(recipient: User, holder: User, certificate: Certificate) -> tuple[str, str]:
    assert certificate.valid_until is not None  # noqa: S101 -- only expiring certificates get here
    with force_locale(recipient.preferred_language or "en"):
        expires = certificate.valid_until.date().isoformat()
        subject = _(
            "Certificate expiring on %(date)s: %(course)s", date=expires, course=certificate.course_title
        )
        if recipient.id == holder.id:
            body = _(
                "Your certificate for %(course)s (code %(code)s) expires on %(date)s. "
                "Please plan a refresher course in time.",
                course=certificate.course_title,
                code=certificate.code,
                date=expires,
            )
        else:
            body = _(
                "The certificate of %(name)s for %(course)s (code %(code)s) expires on %(date)s.",
                name=holder.full_name,
                course=certificate.course_title,
                code=certificate.code,
                date=expires,
            )
    return str(subject), str(body)
