"""A wave of sign-ins degrades gracefully (issue 22, docs/performance.md "Issue 22: capacity").

Checking a password costs one argon2id hash (lms/auth/passwords.py: 19 MiB, 2 passes, 1 lane; 20-25 ms
of one core). A whole cohort signing in at nine o'clock asks for more hashes per second than the cores
can compute; without a bound every worker ends up hashing, requests queue behind them and the pages of
people who are already signed in wait as long as the sign-ins (measured before: at 25 sign-ins per
second on one core the server never recovered).

So the number of hashes computed at once is bounded for the whole server, across its worker processes:
``SIGN_IN_HASH_SLOTS`` slots (default: half the cores the server may run on, at least one), each an
advisory lock (``flock``) on a file in the instance folder, which the kernel releases if a worker dies.
A sign-in waits at most ``SIGN_IN_HASH_WAIT`` seconds (default 0.2) for a slot; when none frees up it
is refused at once with 503, ``Retry-After: SIGN_IN_RETRY_AFTER`` (default 5) and the sign-in form
again with "many people are signing in", and the rest of the workers keep serving pages. With
gunicorn's sync workers a per-process semaphore would bound nothing (a worker serves one request at a
time), hence a lock shared by the processes. ``SIGN_IN_HASH_SLOTS = 0`` turns the bound off.
"""

from __future__ import annotations

import fcntl
import os
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from flask import current_app

POLL_SECONDS = 0.005


class HashBusy(Exception):
    """Every slot stayed taken for the whole wait: answer 503 with ``retry_after``."""

    def __init__(self, retry_after: int) -> None:
        super().__init__(f"every password-hash slot is busy; retry after {retry_after} s")
        self.retry_after = retry_after


def default_slots() -> int:
    """Half the cores this process may run on (``taskset`` counts), at least one."""
    try:
        cores = len(os.sched_getaffinity(0))
    except AttributeError:  # not Linux
        cores = os.cpu_count() or 2
    return max(1, cores // 2)


def settings() -> tuple[int, float, int]:
    config = current_app.config
    slots = config.get("SIGN_IN_HASH_SLOTS")
    return (
        default_slots() if slots is None else int(slots),
        float(config.get("SIGN_IN_HASH_WAIT", 0.2)),
        int(config.get("SIGN_IN_RETRY_AFTER", 5)),
    )


def _slot_folder() -> Path:
    folder = Path(current_app.instance_path) / "sign-in-slots"
    folder.mkdir(parents=True, exist_ok=True)
    return folder


def _take(folder: Path, slots: int) -> int | None:
    """An open descriptor holding one slot's lock, or None when every slot is taken. Each open() is an
    open file description of its own, so two threads of one process exclude each other too."""
    for number in range(slots):
        descriptor = os.open(folder / f"slot-{number}.lock", os.O_RDWR | os.O_CREAT, 0o600)
        try:
            fcntl.flock(descriptor, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            os.close(descriptor)
            continue
        return descriptor
    return None


@contextmanager
def hash_slot() -> Iterator[None]:
    """Hold one of the server's password-hash slots for the block; raises HashBusy when none frees up
    within the wait."""
    slots, wait, retry_after = settings()
    if slots <= 0:
        yield
        return
    folder = _slot_folder()
    deadline = time.monotonic() + wait
    descriptor = _take(folder, slots)
    while descriptor is None:
        if time.monotonic() >= deadline:
            raise HashBusy(retry_after)
        time.sleep(POLL_SECONDS)
        descriptor = _take(folder, slots)
    try:
        yield
    finally:
        fcntl.flock(descriptor, fcntl.LOCK_UN)
        os.close(descriptor)
