"""Queue mail inside the transaction; send it after the commit, off the request; retry what failed.

A request never talks to the mail server: ``queue_mail`` writes the row in the request's
transaction, and after the commit the app hands the ids to the mail job (``lms.jobs.tasks``). The job
worker, its once-a-minute sweep and ``flask lms mail send`` all send through ``send_due_mail``.
"""

from __future__ import annotations

import enum
from dataclasses import dataclass
from datetime import datetime, timedelta

from flask import current_app, g, has_request_context
from sqlalchemy import func, select, update

from lms.db import utcnow, writing_transactions
from lms.extensions import db
from lms.notifications.models import MailStatus, OutgoingMail
from lms.notifications.transport import MailTransportError, build_message, deliver
from lms.settings.services import mail_sender

RETRY_DELAYS_MINUTES = (1, 5, 30, 120, 720)
# A message keeps its text only while it may still be sent. Password-reset and email-confirmation
# links are secrets, and nobody reads the text of a sent message (the admins' outbox shows recipient,
# subject, times and errors), so the body is emptied the moment the message is sent or given up on
# (docs/security.md, "Mail at rest").
BODY_WHEN_DONE = ""


class SendOutcome(enum.StrEnum):
    SENT = "sent"
    FAILED = "failed"  # stays pending for a retry, or FAILED for good after MAIL_MAX_ATTEMPTS
    TAKEN = "taken"  # another sender claimed it first (or it is no longer pending): nothing done


def queue_mail(
    recipient: str,
    subject: str,
    body: str,
    *,
    kind: str = "general",
    language: str = "en",
    calendar_ics: str | None = None,
) -> OutgoingMail:
    """Record a message to send once the current transaction commits (nothing is sent before).
    ``calendar_ics``: an iCalendar invitation (METHOD:REQUEST or CANCEL) sent with it as text/calendar."""
    mail = OutgoingMail(
        recipient=recipient,
        subject=subject,
        body=body,
        kind=kind,
        language=language,
        calendar_ics=calendar_ics,
    )
    db.session.add(mail)
    db.session.flush()
    if has_request_context():
        g.setdefault("queued_mail_ids", []).append(mail.id)
    return mail


@dataclass(frozen=True)
class MailToQueue:
    """A message written but not queued yet (a bulk import writes many with one statement)."""

    recipient: str
    subject: str
    body: str
    kind: str = "general"
    language: str = "en"


def take_mail_queued_in_request() -> list[int]:
    """The ids of the mail this request queued, once: the after-request hook hands them to the job."""
    if not has_request_context():
        return []
    return list(g.pop("queued_mail_ids", None) or [])


def retry_delay(attempt: int) -> timedelta:
    """How long after its ``attempt``-th try (1-based) a message that failed is tried again."""
    return timedelta(minutes=RETRY_DELAYS_MINUTES[min(attempt, len(RETRY_DELAYS_MINUTES)) - 1])


def send_mail(mail: OutgoingMail) -> SendOutcome:
    """Claim one pending, due message, try it, record the result; commits.

    The claim (attempts + 1 and the time of the next try, committed before the mail server is
    contacted) means that two senders (the request's job, the sweep, `flask lms mail send`, a second
    worker) never send one message twice; that no database transaction is open while a slow mail
    server answers (on SQLite it would hold the write lock against every request); and that a sender
    killed mid-send leaves the message pending, tried again at that time."""
    config = current_app.config
    mail_id, seen, recipient = mail.id, mail.attempts, mail.recipient
    message = build_message(mail_sender(), recipient, mail.subject, mail.body, mail.calendar_ics)
    attempt, now = seen + 1, utcnow()
    claimed = db.session.execute(
        update(OutgoingMail)
        .where(
            OutgoingMail.id == mail_id,
            OutgoingMail.status == MailStatus.PENDING,
            OutgoingMail.attempts == seen,  # nobody tried it since we read it...
            OutgoingMail.next_attempt_at <= now,  # ...and nobody is trying it now
        )
        .values(attempts=attempt, next_attempt_at=now + retry_delay(attempt))
        .execution_options(synchronize_session=False)
    )
    db.session.commit()
    if getattr(claimed, "rowcount", 0) != 1:
        return SendOutcome.TAKEN
    try:
        deliver(config, message, current_app.instance_path)
    except MailTransportError as error:
        result: dict[str, object] = {"last_error": str(error)[:2000]}
        if attempt >= int(config["MAIL_MAX_ATTEMPTS"]):
            result["status"] = MailStatus.FAILED  # never tried again: its text goes
            result["body"] = BODY_WHEN_DONE
            result["calendar_ics"] = None  # an invitation carries the meeting link: gone with the text
        _record(mail_id, result)
        current_app.logger.warning("mail %s to %s not sent (try %s): %s", mail_id, recipient, attempt, error)
        return SendOutcome.FAILED
    _record(
        mail_id,
        {
            "status": MailStatus.SENT,
            "sent_at": utcnow(),
            "last_error": None,
            "body": BODY_WHEN_DONE,
            "calendar_ics": None,
        },
    )
    return SendOutcome.SENT


def _record(mail_id: int, values: dict[str, object]) -> None:
    db.session.execute(
        update(OutgoingMail)
        .where(OutgoingMail.id == mail_id)
        .values(**values)
        .execution_options(synchronize_session=False)
    )
    db.session.commit()


def clear_done_bodies() -> int:
    """Empty the text of every message that is sent or given up on; returns how many. Sending does
    this for each message; this is for mail sent before it did (run once after upgrading:
    `flask lms mail clear-sent`). Commits."""
    with writing_transactions():
        result = db.session.execute(
            update(OutgoingMail)
            .where(OutgoingMail.status != MailStatus.PENDING, OutgoingMail.body != BODY_WHEN_DONE)
            .values(body=BODY_WHEN_DONE, calendar_ics=None)
            .execution_options(synchronize_session=False)
        )
        db.session.commit()
    return int(getattr(result, "rowcount", 0) or 0)


def send_due_mail(limit: int = 100, ids: list[int] | None = None) -> tuple[int, int]:
    """Send pending messages whose time has come (only among ``ids`` when given); commits per
    message. Returns (sent, failed); a message another sender took first counts as neither."""
    with writing_transactions():  # SQLite: each claim starts BEGIN IMMEDIATE, also from the CLI
        query = select(OutgoingMail.id).where(
            OutgoingMail.status == MailStatus.PENDING, OutgoingMail.next_attempt_at <= utcnow()
        )
        if ids is not None:
            query = query.where(OutgoingMail.id.in_(ids))
        due = list(db.session.scalars(query.order_by(OutgoingMail.id).limit(limit)))
        db.session.commit()  # end the read: each message is claimed in its own short transaction
        sent = failed = 0
        for mail_id in due:
            mail = db.session.get(OutgoingMail, mail_id)
            if mail is None or mail.status != MailStatus.PENDING:
                db.session.commit()
                continue
            outcome = send_mail(mail)
            sent += outcome == SendOutcome.SENT
            failed += outcome == SendOutcome.FAILED
    return sent, failed


@dataclass(frozen=True)
class MailProgress:
    pending: int
    failed: int  # gave up after MAIL_MAX_ATTEMPTS
    next_attempt_at: datetime | None  # the earliest next try of those still pending


def mail_progress(ids: list[int]) -> MailProgress:
    """Where these messages stand (the mail job's view of its own messages)."""
    rows = db.session.execute(
        select(OutgoingMail.status, func.count(), func.min(OutgoingMail.next_attempt_at))
        .where(OutgoingMail.id.in_(ids), OutgoingMail.status != MailStatus.SENT)
        .group_by(OutgoingMail.status)
    ).all()
    by_status = {status: (int(count), earliest) for status, count, earliest in rows}
    pending, next_attempt_at = by_status.get(MailStatus.PENDING, (0, None))
    return MailProgress(
        pending=pending,
        failed=by_status.get(MailStatus.FAILED, (0, None))[0],
        next_attempt_at=next_attempt_at,
    )
