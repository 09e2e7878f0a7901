"""The background jobs. Each is idempotent (safe to run twice) because a worker stopped mid-job
puts the job back on the queue, and commits its own work."""

from __future__ import annotations

import logging

from flask import current_app
from huey import crontab
from huey.api import Task
from huey.exceptions import RetryTask

from lms.extensions import db
from lms.jobs import services
from lms.jobs.queue import huey, job, periodic_job
from lms.notifications.services import mail_progress, send_due_mail

log = logging.getLogger(__name__)


class MailNotSent(Exception):
    """A message the job was given failed for good (MAIL_MAX_ATTEMPTS): the job fails for good too."""


# --- mail ------------------------------------------------------------------------------------


def enqueue_mail_delivery(mail_ids: list[int]) -> None:
    """Hand mail that a request has committed to the mail job; called after the response is built.

    Never fails the request: if the queue cannot be reached (Redis down, the queue file locked), the
    messages are still pending in outgoing_mail and the sweep (or `flask lms mail send`) sends them."""
    if not mail_ids:
        return
    try:
        if huey.immediate:
            # The job runs right here, on its own connection: end this session's transaction
            # first (the view has committed), so that on SQLite it does not wait for our lock.
            db.session.rollback()
        deliver_mail(list(mail_ids))
    except Exception:
        log.exception("could not enqueue mail %s; it stays pending for the sweep", mail_ids)


@job(retries=3, retry_delay=60, retry_backoff=2, context=True)
def deliver_mail(mail_ids: list[int], task: Task | None = None) -> int:
    """Send these messages. One that fails stays pending with its own backoff (outgoing_mail's
    next_attempt_at: 1, 5, 30, 120 minutes...) and the job comes back at that time (RetryTask with
    that eta), until every message is sent or has failed for good after MAIL_MAX_ATTEMPTS; then the
    job fails for good as well (a job_failure row beside the FAILED message, both on /admin/jobs).
    The sweep may take a retry first: each try is claimed, so a message is never sent twice and
    its attempts are counted once. The job's own retries are for anything else (database down).
    Returns the number this run sent."""
    sent, _failed = send_due_mail(limit=len(mail_ids), ids=mail_ids)
    progress = mail_progress(mail_ids)
    if progress.next_attempt_at is not None:
        raise RetryTask(
            f"{progress.pending} of {len(mail_ids)} messages not sent yet", eta=progress.next_attempt_at
        )
    if progress.failed:
        if task is not None:
            task.retries = 0  # the messages have given up: retrying the job cannot help
        raise MailNotSent(f"{progress.failed} of {len(mail_ids)} messages could not be sent")
    return sent


@periodic_job(crontab(minute="*"))
def send_due_mail_every_minute() -> None:
    """The sweep: anything pending and due is sent: mail queued outside a request, retries whose
    job was lost (a hard kill), mail whose job could not be enqueued."""
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
