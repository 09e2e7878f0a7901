"""Queue mail inside the transaction; send it after the commit; retry what failed."""

from __future__ import annotations

from datetime import timedelta

from flask import current_app, g, has_request_context
from sqlalchemy import select

from lms.db import utcnow
from lms.extensions import db
from lms.notifications.models import MailStatus, OutgoingMail
from lms.notifications.transport import MailTransportError, build_message, deliver
from lms.settings.services import mail_sender

RETRY_DELAYS_MINUTES = (1, 5, 30, 120, 720)


def queue_mail(
    recipient: str, subject: str, body: str, *, kind: str = "general", language: str = "en"
) -> OutgoingMail:
    """Record a message to send once the current transaction commits (nothing is sent before)."""
    mail = OutgoingMail(recipient=recipient, subject=subject, body=body, kind=kind, language=language)
    db.session.add(mail)
    db.session.flush()
    if has_request_context():
        g.setdefault("queued_mail_ids", []).append(mail.id)
    return mail


def send_mail(mail: OutgoingMail) -> bool:
    """Try one message; on failure record the error and schedule a retry. Returns True when sent."""
    config = current_app.config
    message = build_message(mail_sender(), mail.recipient, mail.subject, mail.body)
    mail.attempts += 1
    try:
        deliver(config, message, current_app.instance_path)
    except MailTransportError as error:
        mail.last_error = str(error)[:2000]
        if mail.attempts >= int(config["MAIL_MAX_ATTEMPTS"]):
            mail.status = MailStatus.FAILED
        else:
            delay = RETRY_DELAYS_MINUTES[min(mail.attempts - 1, len(RETRY_DELAYS_MINUTES) - 1)]
            mail.next_attempt_at = utcnow() + timedelta(minutes=delay)
        current_app.logger.warning("mail %s to %s not sent: %s", mail.id, mail.recipient, error)
        return False
    mail.status = MailStatus.SENT
    mail.sent_at = utcnow()
    mail.last_error = None
    return True


def send_due_mail(limit: int = 100, ids: list[int] | None = None) -> tuple[int, int]:
    """Send pending messages that are due (or the given ids); commits per message. Returns (sent, failed)."""
    query = select(OutgoingMail).where(OutgoingMail.status == MailStatus.PENDING)
    if ids is not None:
        query = query.where(OutgoingMail.id.in_(ids))
    else:
        query = query.where(OutgoingMail.next_attempt_at <= utcnow())
    sent = failed = 0
    for mail in db.session.scalars(query.order_by(OutgoingMail.id).limit(limit)).all():
        if send_mail(mail):
            sent += 1
        else:
            failed += 1
        db.session.commit()
    return sent, failed


def send_mail_queued_in_request() -> None:
    """Called after the response is built: the view has committed, so the mail is safe to send."""
    ids = g.pop("queued_mail_ids", None)
    if not ids:
        return
    try:
        send_due_mail(ids=ids)
    except Exception:  # a mail problem must never turn a successful request into an error
        db.session.rollback()
        current_app.logger.exception("sending queued mail failed; it stays pending for a retry")
