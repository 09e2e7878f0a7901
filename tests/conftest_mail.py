"""A real SMTP server (aiosmtpd) on a free local port; the app sends to it while a test runs.

A request never sends mail itself: it enqueues the mail job after its commit. ``smtp_server`` runs
that job the moment it is enqueued (Huey's immediate mode), so a test can read the inbox right
after a request; ``job_queue`` keeps the jobs queued (in memory) until the test runs them the way
the worker does, for tests of what happens in between.

A test module wraps these in its own fixtures (importing a fixture by name trips the linter). The
app fixture is session-scoped, so the mail and queue settings are put back afterwards.
"""

from __future__ import annotations

import socket
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from email import message_from_bytes, policy
from email.message import EmailMessage
from typing import Any

from aiosmtpd.controller import Controller
from flask import Flask
from huey.api import Task
from huey.storage import MemoryStorage

from lms.extensions import db
from lms.jobs import queue


class Inbox:
    """aiosmtpd handler that keeps every message that arrived."""

    def __init__(self) -> None:
        self.messages: list[EmailMessage] = []
        self._lock = threading.Lock()

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:
        message = message_from_bytes(envelope.original_content or envelope.content, policy=policy.default)
        with self._lock:
            self.messages.append(message)  # type: ignore[arg-type]
        return "250 Message accepted for delivery"

    def to(self, address: str) -> list[EmailMessage]:
        with self._lock:
            return [m for m in self.messages if m["To"] == address]

    def subjects(self, address: str | None = None) -> list[str]:
        with self._lock:
            # Long non-ASCII subjects are folded into encoded words; compare them with spaces normalised.
            return [
                " ".join(str(m["Subject"]).split())
                for m in self.messages
                if address is None or m["To"] == address
            ]

    @staticmethod
    def body(message: EmailMessage) -> str:
        part = message.get_body(preferencelist=("plain",))
        return part.get_content() if part is not None else ""


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


@contextmanager
def smtp_server(app: Flask, *, run_jobs_at_once: bool = True) -> Iterator[Inbox]:
    """The server, and (``run_jobs_at_once``) the job queue in immediate mode while it is up."""
    inbox = Inbox()
    port = free_port()
    controller = Controller(inbox, hostname="127.0.0.1", port=port)
    controller.start()
    keys = ("MAIL_BACKEND", "MAIL_SERVER", "MAIL_PORT", "MAIL_USE_TLS", "MAIL_USE_SSL", "MAIL_USERNAME")
    saved = {key: app.config.get(key) for key in keys}
    app.config.update(
        MAIL_BACKEND="smtp", MAIL_SERVER="127.0.0.1", MAIL_PORT=port, MAIL_USE_TLS=False,
        MAIL_USE_SSL=False, MAIL_USERNAME=None,
    )  # fmt: skip
    saved_queue = queue.huey.storage, queue.huey.immediate
    if run_jobs_at_once:
        queue.huey.immediate = True  # Huey swaps in a memory storage: put the old one back after
        queue._bound["app"] = app
    try:
        yield inbox
    finally:
        queue.huey.immediate = saved_queue[1]
        queue.huey.storage = saved_queue[0]
        app.config.update(saved)
        controller.stop()


class JobQueue:
    """The app's job queue, in memory for one test: jobs wait until ``run`` works them."""

    def names(self) -> list[str]:
        """The jobs waiting now (not the scheduled retries), oldest first."""
        return [task.name.rpartition(".")[2] for task in queue.huey.pending()]

    def scheduled(self) -> list[Task]:
        """The jobs waiting for a time (retries), soonest first."""
        return list(queue.huey.scheduled())

    def run(self, at: datetime | None = None) -> int:
        """What the worker does: scheduled jobs whose time (``at``, default now) has come are
        queued, then every queued job runs until none is left. Returns the number of runs."""
        moment = (at or datetime.now(UTC)).astimezone(UTC).replace(tzinfo=None)  # Huey: naive UTC
        for task in queue.huey.read_schedule(moment):
            queue.huey.enqueue(task)
        runs = 0
        while (task := queue.huey.dequeue()) is not None:
            queue.huey.execute(task, timestamp=moment)
            runs += 1
        db.session.rollback()  # the test's session: read what the jobs committed, not an old snapshot
        return runs


@contextmanager
def job_queue(app: Flask) -> Iterator[JobQueue]:
    saved_storage, saved_immediate = queue.huey.storage, queue.huey.immediate
    queue.huey.immediate = False
    queue.huey.storage = MemoryStorage(queue.QUEUE_NAME)
    queue._bound["app"] = app
    try:
        yield JobQueue()
    finally:
        queue.huey.immediate = saved_immediate
        queue.huey.storage = saved_storage
