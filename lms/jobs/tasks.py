"""The background jobs. Each is idempotent (safe to run twice) because a worker stopped mid-job
puts the job back on the queue, and commits its own work."""

from __future__ import annotations

import logging

from flask import current_app
from huey import crontab
from huey.api import Task
from huey.exceptions import RetryTask

from lms.certificates import audit_checkpoints
from lms.certificates import rendering as certificate_rendering
from lms.enrolment.bulk_import import run_queued_import
from lms.extensions import db
from lms.jobs import services
from lms.jobs.queue import huey, job, periodic_job
from lms.notifications.services import mail_progress, send_due_mail
from lms.sessions.erasure import erase_due
from lms.surveys import invitations as survey_invitations
from lms.unit_of_work import unit_of_work

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


def enqueue_certificate_work(certificate_ids: list[int], bulk_issues: list[tuple[list[int], int]]) -> None:
    """Hand what a request committed to the certificate jobs: the PDFs of the certificates it
    issued, and the bulk issues an admin asked for. Called after the response is built (like mail);
    never fails the request: what cannot be enqueued is done by the sweep (PDFs) or stays in the
    "completed, not issued" list (a bulk issue) with its progress page showing it waiting."""
    if not certificate_ids and not bulk_issues:
        return
    try:
        if huey.immediate:
            db.session.rollback()  # the job runs here, on its own connection: end our transaction first
        if certificate_ids:
            render_certificate_pdfs(list(certificate_ids))
        for enrolment_ids, actor_id in bulk_issues:
            enqueue_bulk_issue(enrolment_ids, actor_id)
    except Exception:
        log.exception(
            "could not enqueue certificate work %s %s; left for the sweep", certificate_ids, bulk_issues
        )


@job(retries=3, retry_delay=30, retry_backoff=2)
def render_certificate_pdfs(certificate_ids: list[int]) -> int:
    """Render and store the PDFs of certificates a request issued (after its commit). Idempotent:
    a PDF already stored is not rendered again. Returns how many certificates were found."""
    return sum(certificate_rendering.store_pdf(certificate_id) for certificate_id in certificate_ids)


@periodic_job(crontab(minute="*"))
def store_missing_certificate_pdfs_every_minute() -> None:
    """The sweep: a certificate whose PDF job was lost (a hard kill, the queue unreachable, a
    failure) gets its PDF within a minute or two."""
    stored = certificate_rendering.store_missing_pdfs(
        limit=int(current_app.config.get("JOBS_PDF_BATCH", 100))
    )
    if stored:
        log.info("certificate PDFs stored by the sweep: %s", stored)


@job(retries=2, retry_delay=30)
def issue_certificate(enrolment_id: int, actor_id: int | None) -> str:
    """One certificate of a bulk issue: the rows in one short transaction, then its PDF with no
    transaction open (so a bulk issue of hundreds never holds the write lock while rendering)."""
    with unit_of_work():
        outcome = services.issue_certificate_for_enrolment(enrolment_id, actor_id)
    # Deliberately after the commit, outside the unit of work: the PDF renders with no transaction
    # open and store_pdf commits its own row (a rollback never leaves a file for a code no row holds).
    certificate_id = services.certificate_of_enrolment(enrolment_id)
    if certificate_id is not None:
        certificate_rendering.store_pdf(certificate_id)
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


@periodic_job(crontab(minute="47"))
def sign_audit_checkpoint_hourly() -> None:
    """Hourly: the issuer key signs the audit chain's head, if it moved (issue 23)."""
    with unit_of_work():
        audit_checkpoints.create_checkpoint(only_if_changed=True)


@periodic_job(crontab(hour="6", minute="5"))
def send_expiry_reminders() -> None:
    """Daily: queue the 60/30/7-day reminders, commit, then send them."""
    with unit_of_work():
        queued = services.queue_expiry_reminders()
    if queued:
        send_due_mail(limit=queued)  # claims commit per message, before SMTP: outside the unit of work
        log.info("expiry reminders: %s queued", queued)


# --- surveys (issue 21) ----------------------------------------------------------------------


@periodic_job(crontab(minute="23"))
def send_due_surveys_hourly() -> None:
    """Hourly: follow-up invitations that are due, invitation mails not sent yet, one reminder
    (lms.surveys.invitations.send_due: each mail queued with the claim that marks it sent, so a
    run twice or killed half way mails nobody twice), committed, then sent."""
    with unit_of_work():
        outcome = survey_invitations.send_due()
    if outcome.invited or outcome.reminded:
        send_due_mail(limit=outcome.invited + outcome.reminded)  # claims commit per message
        log.info("surveys: %s invited, %s reminded", outcome.invited, outcome.reminded)


# --- international events (issue 20) ----------------------------------------------------------


@periodic_job(crontab(hour="3", minute="41"))
def erase_event_personal_data_daily() -> None:
    """Passport data and needs of international events, erased once their retention time is over
    (lms.sessions.erasure: one audit event per run; idempotent)."""
    with unit_of_work():
        erased = erase_due()
    if erased:
        log.info("event personal data erased: %s", [(run.run_id, run.count) for run in erased])


# --- CSV import of trainees ------------------------------------------------------------------


IMPORT_MAIL_BATCH = 200  # messages per mail job after a large import


def enqueue_import(import_id: int) -> None:
    """Hand a CSV import that the page has committed to its job. Never fails the request: an import
    that could not be enqueued (the queue unreachable) stays "waiting" on its page; nothing was
    written, and the person can start it again."""
    try:
        if huey.immediate:
            db.session.rollback()  # the job runs here, on its own connection: end our transaction first
        import_trainees(import_id)
    except Exception:
        log.exception("could not enqueue the CSV import %s", import_id)


@job(retries=0)
def import_trainees(import_id: int) -> int:
    """A large CSV import (lms.enrolment.bulk_import.run_queued_import): checked with no lock held,
    written in one short transaction, its progress on the person's page. Idempotent (a worker that
    stopped puts it back and it starts again; a finished one is left alone). The mail it queued goes
    to the mail job in batches. Returns the number of messages queued.

    Not in a unit of work: the import runs its own transactions (the check in a reading one, then the
    rows and its "done" mark in one short writing transaction), so no lock is held while checking."""
    mail_ids = run_queued_import(import_id)
    for start in range(0, len(mail_ids), IMPORT_MAIL_BATCH):
        deliver_mail(mail_ids[start : start + IMPORT_MAIL_BATCH])
    return len(mail_ids)
