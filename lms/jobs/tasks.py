"""The background jobs. Each is idempotent (safe to run twice) because a worker stopped mid-job
puts the job back on the queue, and commits its own work."""

from __future__ import annotations

import logging

from flask import current_app
from huey import crontab

from lms.extensions import db
from lms.jobs import services
from lms.jobs.queue import job, periodic_job
from lms.notifications.services import send_due_mail

log = logging.getLogger(__name__)


class MailNotSent(Exception):
    """Raised so that Huey retries the job; the messages stay pending in outgoing_mail."""


# --- mail ------------------------------------------------------------------------------------


@job(retries=4, retry_delay=60)
def deliver_mail(mail_ids: list[int]) -> int:
    """Send these messages now; when any fails, the job fails and Huey retries it (1 min apart).
    Each message also counts its own attempts and gives up (FAILED, visible to admins) after
    MAIL_MAX_ATTEMPTS. Returns the number sent."""
    sent, failed = send_due_mail(ids=mail_ids)
    if failed:
        raise MailNotSent(f"{failed} of {len(mail_ids)} messages not sent; retrying")
    return sent


@periodic_job(crontab(minute="*"))
def send_due_mail_every_minute() -> None:
    """The sweeper: anything pending and due is sent (retries scheduled by outgoing_mail rows,
    and mail whose after-request send was cut short)."""
    sent, failed = send_due_mail(limit=int(current_app.config.get("JOBS_MAIL_BATCH", 500)))
    if sent or failed:
        log.info("due mail: %s sent, %s failed (will retry)", sent, failed)


# --- certificates ----------------------------------------------------------------------------


@job(retries=2, retry_delay=30)
def issue_certificate(enrolment_id: int, actor_id: int | None) -> str:
    outcome = services.issue_certificate_for_enrolment(enrolment_id, actor_id)
    db.session.commit()
    return outcome


def enqueue_bulk_issue(enrolment_ids: list[int], actor_id: int | None) -> int:
    """One job per certificate: a restart loses at most the one in hand (and it is put back), and
    the PDFs render in parallel on several workers. Returns the number of jobs enqueued."""
    for enrolment_id in enrolment_ids:
        issue_certificate(enrolment_id, actor_id)
    return len(enrolment_ids)


@job(retries=3, retry_delay=10)
def regenerate_status_list() -> None:
    """Re-sign the revocation list into the shared cache; enqueue after a revocation or re-issue."""
    services.regenerate_status_list()


@periodic_job(crontab(minute="17"))
def regenerate_status_list_hourly() -> None:
    services.regenerate_status_list()


@periodic_job(crontab(hour="6", minute="5"))
def send_expiry_reminders() -> None:
    """Daily: queue the 60/30/7-day reminders, commit, then send them."""
    queued = services.queue_expiry_reminders()
    db.session.commit()
    if queued:
        send_due_mail(limit=queued)
        log.info("expiry reminders: %s queued", queued)
