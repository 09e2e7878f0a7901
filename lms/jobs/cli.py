"""`flask lms jobs ...`: run the worker, see the queue and the failed jobs."""

from __future__ import annotations

import logging

import click
from flask import current_app
from flask.cli import with_appcontext
from sqlalchemy import func, select

import lms.jobs.tasks  # noqa: F401  # registers the tasks with the queue
from lms.extensions import db
from lms.jobs.models import JobFailure
from lms.jobs.queue import huey, recover_jobs_in_hand


@click.group("jobs")
def jobs_group() -> None:
    """Background jobs (Huey)."""


@jobs_group.command("worker")
@with_appcontext
@click.option(
    "--workers",
    type=int,
    default=None,
    help="Worker threads (default JOBS_WORKERS; 1 on SQLite, 2 otherwise).",
)
def worker(workers: int | None) -> None:
    """Run jobs until stopped. SIGTERM or Ctrl-C stops gracefully: running jobs finish (or are put
    back on the queue after JOBS_SHUTDOWN_TIMEOUT seconds); nothing queued is lost. A worker killed
    outright leaves its jobs in hand recorded; the next worker on the machine puts them back."""
    if current_app.config.get("JOBS_IMMEDIATE"):
        raise click.ClickException("JOBS_IMMEDIATE is set: jobs run inline, there is no queue to work")
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    for chatty in ("weasyprint", "fontTools"):  # a line per rendering step of every PDF
        logging.getLogger(chatty).setLevel(logging.WARNING)
    recovered = recover_jobs_in_hand()  # what a worker killed outright (kill -9) had in hand
    if recovered:
        logging.getLogger(__name__).warning("%s jobs of a stopped worker enqueued again", recovered)
    # SQLite takes one writer at a time: a second job thread would only wait for the lock.
    default_workers = 1 if db.engine.dialect.name == "sqlite" else 2
    consumer = huey.create_consumer(
        workers=workers or int(current_app.config.get("JOBS_WORKERS", default_workers)),
        worker_type="thread",
        periodic=True,
        check_worker_health=True,
        graceful_signal="TERM",  # systemd, docker and `make run`'s trap stop with SIGTERM
        shutdown_timeout=float(current_app.config.get("JOBS_SHUTDOWN_TIMEOUT", 60)),
    )
    consumer.run()


@jobs_group.command("status")
@with_appcontext
def status() -> None:
    """Jobs waiting, scheduled (retries), and failed for good."""
    failed = db.session.scalar(select(func.count()).select_from(JobFailure))
    click.echo(f"queued: {huey.pending_count()}, scheduled: {huey.scheduled_count()}, failed: {failed}")


@jobs_group.command("failures")
@with_appcontext
@click.option("--limit", default=50, show_default=True)
def failures(limit: int) -> None:
    """Jobs that failed after their last retry, newest first."""
    rows = db.session.scalars(select(JobFailure).order_by(JobFailure.id.desc()).limit(limit)).all()
    for row in rows:
        click.echo(f"{row.failed_at:%Y-%m-%d %H:%M}Z  {row.task_name}  {row.arguments}\n    {row.error}")
    if not rows:
        click.echo("no failed jobs")
