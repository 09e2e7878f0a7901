"""CPU time of the server and of the database during a capacity run, per step.

A step's p95 says whether people waited; the CPU says why and how far the core is from full: the server's
CPU seconds per second of the step (1.0 = the whole core) and its milliseconds of CPU per request. Both hold
on a machine shared with others, where latencies do not: a request costs about the same CPU whether or not
someone else runs beside it, so the "ceiling" (requests per second at a full core) is comparable between runs.

Read from /proc (Linux): a process's utime + stime, plus cutime + cstime for children it has reaped, so a
gunicorn master counts its workers (living ones read directly) and PostgreSQL's postmaster its backends.
Elsewhere the sampler records nothing and the report leaves the columns out.
"""

from __future__ import annotations

import os
import threading
import time
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path

PROC = Path("/proc")
TICKS = os.sysconf("SC_CLK_TCK") if hasattr(os, "sysconf") else 100


@dataclass(frozen=True)
class ProcessTimes:
    pid: int
    ppid: int
    name: str
    own: float  # seconds: utime + stime
    reaped: float  # seconds: cutime + cstime (children already gone)


def parse_stat(line: str) -> ProcessTimes:
    """One /proc/<pid>/stat line. The name is in parentheses and may hold spaces or parentheses."""
    head, _, rest = line.rpartition(")")
    pid_text, _, name = head.partition(" (")
    fields = rest.split()
    # After the name: state(0) ppid(1) ... utime(11) stime(12) cutime(13) cstime(14)
    utime, stime, cutime, cstime = (int(v) for v in fields[11:15])
    own, reaped = (utime + stime) / TICKS, (cutime + cstime) / TICKS
    return ProcessTimes(int(pid_text), int(fields[1]), name, own, reaped)


def read_processes() -> list[ProcessTimes]:
    found = []
    for entry in PROC.glob("[0-9]*"):
        try:
            found.append(parse_stat((entry / "stat").read_text()))
        except (OSError, ValueError, IndexError):
            continue  # gone meanwhile, or not readable
    return found


def tree_seconds(processes: Iterable[ProcessTimes], root: int) -> float:
    """CPU seconds of ``root`` and every living descendant, plus what each has reaped."""
    children: dict[int, list[ProcessTimes]] = {}
    by_pid = {}
    for process in processes:
        by_pid[process.pid] = process
        children.setdefault(process.ppid, []).append(process)
    total, todo = 0.0, [by_pid[root]] if root in by_pid else []
    while todo:
        process = todo.pop()
        total += process.own + process.reaped
        todo.extend(children.get(process.pid, []))
    return total


def named_seconds(processes: Iterable[ProcessTimes], names: Sequence[str]) -> float:
    """CPU seconds of every process whose name starts with one of ``names`` (a server started elsewhere,
    PostgreSQL or Redis); a postmaster's reaped time counts its finished backends."""
    return sum(p.own + p.reaped for p in processes if p.name.startswith(tuple(names)))


@dataclass(frozen=True)
class Sample:
    at: float
    server: float
    database: float


class Sampler:
    """Every ``interval`` seconds in a thread: the server tree's and the database's CPU seconds so far."""

    def __init__(self, server_pid: int, database_names: Sequence[str], interval: float = 1.0) -> None:
        self.server_pid, self.database_names, self.interval = server_pid, database_names, interval
        self.samples: list[Sample] = []
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)

    def _take(self) -> None:
        if not PROC.is_dir():
            return
        processes = read_processes()
        self.samples.append(
            Sample(time.time(), tree_seconds(processes, self.server_pid),
                   named_seconds(processes, self.database_names))
        )  # fmt: skip

    def _run(self) -> None:
        while not self._stop.is_set():
            self._take()
            self._stop.wait(self.interval)

    def __enter__(self) -> Sampler:
        self._thread.start()
        return self

    def __exit__(self, *_: object) -> None:
        self._stop.set()
        self._thread.join(5)


def busy_between(samples: Sequence[Sample], begin: float, end: float) -> tuple[float, float] | None:
    """(server, database) CPU seconds per wall second between the samples nearest inside the window."""
    inside = [s for s in samples if begin <= s.at <= end]
    if len(inside) < 2 or inside[-1].at <= inside[0].at:
        return None
    first, last = inside[0], inside[-1]
    seconds = last.at - first.at
    return (last.server - first.server) / seconds, (last.database - first.database) / seconds
