"""The Huey instance, bound to the Flask app by ``configure_jobs`` (called from create_app).

Tasks are declared at import time with ``@job(...)``, so the instance exists before any app; its
storage is chosen from the app's configuration when the app is made:

- ``REDIS_URL`` set: Redis (several app servers and workers share one queue);
- otherwise a SQLite queue file ``instance/jobs.sqlite`` (``JOBS_SQLITE_PATH`` to move it);
- ``JOBS_IMMEDIATE = True``: run each job inline when enqueued (unit tests of a task's effect).

Every job runs in its own app context with its own session, inside ``writing_transactions()``
(SQLite: BEGIN IMMEDIATE, so a job's read-then-write never races a request), and commits its own
work. Enqueue jobs after the request's commit, never inside an open write transaction.
"""

from __future__ import annotations

import functools
import logging
import os
import socket
from collections.abc import Callable
from pathlib import Path
from typing import Any, TypeVar

from flask import Flask, current_app, has_app_context
from huey import Huey, signals
from huey.api import PeriodicTask, Task
from huey.constants import EmptyData
from huey.storage import MemoryStorage, RedisStorage, SqliteStorage

from lms.db import writing_transactions
from lms.extensions import db
from lms.jobs.models import JobFailure
from lms.ops.redis_connection import key_prefix
from lms.unit_of_work import unit_of_work

log = logging.getLogger(__name__)

QUEUE_NAME = "lms"
F = TypeVar("F", bound=Callable[..., Any])

# MemoryStorage until configure_jobs() runs: importing the tasks has no side effect on disk.
# results=False: failures are recorded in the job_failure table, return values are not needed.
huey = Huey(QUEUE_NAME, results=False, utc=True, storage_class=MemoryStorage)
_bound: dict[str, Flask] = {}


def configure_jobs(app: Flask) -> None:
    """Point the queue at this app's storage; the last app made in a process is the one jobs use."""
    immediate = bool(app.config.get("JOBS_IMMEDIATE", False))
    huey.immediate = immediate
    if not immediate:
        huey.storage = make_storage(app)
    _bound["app"] = app


def make_storage(app: Flask) -> Any:
    redis_url = app.config.get("REDIS_URL")
    if redis_url:
        # Named with the academy's key prefix: two academies (or staging) on one Redis must never
        # run each other's jobs against their own database.
        return RedisStorage(f"{key_prefix(app)}{QUEUE_NAME}", url=str(redis_url))
    path = app.config.get("JOBS_SQLITE_PATH") or str(Path(app.instance_path) / "jobs.sqlite")
    return LazySqliteStorage(QUEUE_NAME, filename=str(path), timeout=10)


class LazySqliteStorage(SqliteStorage):
    """Huey's SQLite storage, but the file is opened (and its tables created) on first use rather
    than when an app is created: a web worker that never enqueues never touches it."""

    def __init__(self, name: str, **kwargs: Any) -> None:
        super().__init__(name, create_tables=False, **kwargs)

    def _create_connection(self) -> Any:
        Path(self.filename).parent.mkdir(parents=True, exist_ok=True)
        connection = super()._create_connection()
        for statement in self.ddl:  # "if not exists": cheap, and safe for every new connection
            connection.execute(statement)
        return connection


def job_app() -> Flask:
    if has_app_context():
        return current_app._get_current_object()  # type: ignore[attr-defined]  # werkzeug LocalProxy
    try:
        return _bound["app"]
    except KeyError:
        raise RuntimeError("no app bound to the job queue: create_app() was not called") from None


def job(**task_options: Any) -> Callable[[F], Any]:
    """``huey.task`` plus the app context, a fresh session and writer transactions."""

    def decorate(func: F) -> Any:
        @functools.wraps(func)
        def run_in_app(*args: Any, **kwargs: Any) -> Any:
            app = job_app()
            with app.app_context(), writing_transactions():
                try:
                    return func(*args, **kwargs)
                finally:
                    # Whatever the job did not commit is not kept: each job commits its change with
                    # `with unit_of_work():`, or in its own steps where it says so (mail, PDFs, imports).
                    db.session.rollback()
                    db.session.remove()

        return huey.task(**task_options)(run_in_app)

    return decorate


def periodic_job(schedule: Callable[..., bool], **task_options: Any) -> Callable[[F], Any]:
    def decorate(func: F) -> Any:
        @functools.wraps(func)
        def run_in_app() -> Any:
            app = job_app()
            with app.app_context(), writing_transactions():
                try:
                    return func()
                finally:
                    db.session.rollback()  # as for @job: a job's change is kept only by its unit of work
                    db.session.remove()

        return huey.periodic_task(schedule, **task_options)(run_in_app)

    return decorate


@huey.signal(signals.SIGNAL_ERROR)
def record_final_failure(signal: str, task: Task, exc: BaseException | None = None) -> None:
    """After the last retry, write the failure where admins see it (`flask lms jobs failures`)."""
    if task.retries:  # huey will retry it: not final yet
        return

    try:
        with job_app().app_context(), unit_of_work():
            db.session.add(
                JobFailure(
                    task_id=str(task.id),
                    task_name=str(task.name),
                    arguments=repr(task.data)[:10_000],
                    error=f"{type(exc).__name__}: {exc}"[:10_000] if exc else "unknown error",
                )
            )
    except Exception:  # the failure of a failure record must not kill the worker
        log.exception("could not record the failure of job %s", task.id)


@huey.signal(signals.SIGNAL_INTERRUPTED)
def requeue_interrupted(signal: str, task: Task, *args: Any) -> None:
    """A worker stopped mid-job (restart, deploy): put the job back; jobs are idempotent."""
    log.warning("job %s (%s) interrupted by shutdown; enqueued again", task.id, task.name)
    huey.storage.pop_data(in_hand_key(task))
    huey.enqueue(task)


# --- jobs in hand: what a hard kill would otherwise lose -------------------------------------
#
# Huey takes a job off the queue before running it, so a worker killed outright (kill -9, the OOM
# killer, power loss, docker's SIGKILL after its grace period) would lose the job it had in hand.
# Each job is therefore also written to the queue's key/value store while it runs (the same SQLite
# file or Redis) under this machine's name and the worker's process id; a worker starting on the
# same machine puts back the jobs of a worker that is gone. Jobs are idempotent, so one that had in
# fact finished before the kill is harmless to run again.

IN_HAND_PREFIX = "in-hand"


def in_hand_key(task: Task, pid: int | None = None) -> str:
    return f"{IN_HAND_PREFIX}:{socket.gethostname()}:{pid or os.getpid()}:{task.id}"


@huey.pre_execute()
def remember_in_hand(task: Task) -> None:
    if huey.immediate or isinstance(task, PeriodicTask):  # periodic jobs come back on their schedule
        return
    huey.storage.put_data(in_hand_key(task), huey.serialize_task(task))


@huey.post_execute()
def forget_in_hand(task: Task, task_value: Any, exception: BaseException | None) -> None:
    if huey.immediate or isinstance(task, PeriodicTask):
        return
    huey.storage.pop_data(in_hand_key(task))  # a retry is queued again by Huey itself


def process_alive(pid: int) -> bool:
    if pid == os.getpid():
        return False  # a worker that had our pid before us (pid 1 in a restarted container)
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


def recover_jobs_in_hand() -> int:
    """Call when a worker starts: the jobs that dead workers on this machine had in hand go back on
    the queue. Returns how many."""
    host = socket.gethostname()
    recovered = 0
    for key in list(huey.storage.result_items()):
        parts = str(key).split(":")  # in-hand:<host>:<pid>:<task id>
        if parts[0] != IN_HAND_PREFIX or len(parts) < 4:
            continue
        key_host, key_pid = ":".join(parts[1:-2]), parts[-2]
        if key_host != host or not key_pid.isdigit() or process_alive(int(key_pid)):
            continue  # another machine's worker (it recovers its own), or one still at work
        data = huey.storage.pop_data(key)
        if data is EmptyData:
            continue  # another worker starting at the same time took it
        task = huey.deserialize_task(data)
        log.warning(
            "job %s (%s) was in hand when worker %s died; enqueued again", task.id, task.name, key_pid
        )
        huey.enqueue(task)
        recovered += 1
    return recovered
