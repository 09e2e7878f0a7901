"""The webhook and xAPI jobs (issue 24): hand-off after the commit, delivery with backoff, the sweep.

Imported by lms.integrations.setup (so every app, the worker included, registers the tasks)."""

from __future__ import annotations

import logging

from flask import current_app
from huey import crontab
from huey.exceptions import RetryTask

from lms.extensions import db
from lms.integrations import delivery, xapi_outbox
from lms.jobs.queue import huey, job, periodic_job

log = logging.getLogger(__name__)


def enqueue_integration_work(delivery_ids: list[int], statement_ids: list[int]) -> None:
    """Hand what a request committed to the jobs; called after the response is built. Never fails
    or slows the request (the receiver is contacted by the worker, never here): what cannot be
    enqueued stays pending for the every-minute sweep."""
    if not delivery_ids and not statement_ids:
        return
    try:
        if huey.immediate:
            db.session.rollback()  # the job runs here, on its own connection: end our transaction first
        if delivery_ids:
            deliver_webhooks(list(delivery_ids))
        if statement_ids:
            send_xapi_statements(list(statement_ids))
    except Exception:
        log.exception(
            "could not enqueue webhooks %s / xAPI %s; left for the sweep", delivery_ids, statement_ids
        )


@job(retries=20, retry_delay=60)
def deliver_webhooks(delivery_ids: list[int]) -> int:
    """Send these deliveries; those that failed come back at their backoff time (RetryTask with that
    eta) until delivered, given up, or their subscription paused. Returns how many were delivered."""
    outcome = delivery.deliver_due(ids=delivery_ids)
    if outcome.next_attempt_at is not None:
        raise RetryTask(f"{outcome.failed} webhook deliveries to retry", eta=outcome.next_attempt_at)
    return outcome.delivered


@job(retries=20, retry_delay=60)
def send_xapi_statements(statement_ids: list[int]) -> int:
    outcome = xapi_outbox.send_due(ids=statement_ids)
    if outcome.next_attempt_at is not None:
        raise RetryTask(f"{outcome.failed} xAPI statements to retry", eta=outcome.next_attempt_at)
    return outcome.sent


@periodic_job(crontab(minute="*"))
def send_due_integrations_every_minute() -> None:
    """The sweep: deliveries and statements that are due and that no job took (a lost job, a retry
    whose job gave up, a resumed subscription's backlog)."""
    batch = int(current_app.config.get("JOBS_INTEGRATIONS_BATCH", 100))
    sent = delivery.deliver_due(limit=batch)
    statements = xapi_outbox.send_due(limit=batch)
    if sent.delivered or sent.failed or statements.sent or statements.failed:
        log.info(
            "integrations sweep: %s webhooks delivered, %s failed; %s statements sent, %s failed",
            sent.delivered,
            sent.failed,
            statements.sent,
            statements.failed,
        )
