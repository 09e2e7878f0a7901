"""When a session may take place, and its times between zones: pure decisions over plain values.

A session is typed in the venue's wall-clock time and zone (what the organiser reads on the venue's
invitation) and stored in UTC (house rule 7). Daylight-saving changes are explicit:

- a wall-clock time that does not exist (the hour skipped when clocks go forward) is refused;
- a wall-clock time that happens twice (the hour repeated when clocks go back) means its first
  occurrence (``fold=0``, still summer time), the reading people give it on the day.

Problems are codes (``Problem``); lms.sessions.services turns them into translated messages.
"""

from __future__ import annotations

import enum
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError, available_timezones

MIN_MINUTES = 5  # shorter is a typing slip
MAX_MINUTES = 12 * 60  # one session is one sitting; a day-long workshop is several sessions


class Problem(enum.StrEnum):
    UNKNOWN_ZONE = "unknown_zone"
    NONEXISTENT_TIME = "nonexistent_time"
    ENDS_BEFORE_START = "ends_before_start"
    TOO_SHORT = "too_short"
    TOO_LONG = "too_long"
    BEFORE_RUN = "before_run"
    AFTER_RUN = "after_run"
    OVERLAP = "overlap"


class LocalTimeRefused(ValueError):
    """A venue-local time that cannot be turned into UTC: an unknown zone or a skipped wall-clock time."""

    def __init__(self, problem: Problem, local: datetime | None = None) -> None:
        super().__init__(problem.value)
        self.problem = problem
        self.local = local


@dataclass(frozen=True)
class Slot:
    """A session's time, as the checks need it: UTC-aware start and end."""

    id: int | None
    starts_at: datetime
    ends_at: datetime
    cancelled: bool = False


@dataclass(frozen=True)
class Finding:
    problem: Problem
    other_id: int | None = None  # the session it overlaps


@dataclass(frozen=True)
class RunDates:
    starts_on: date | None
    ends_on: date | None


def zone_of(name: str | None) -> ZoneInfo | None:
    """The IANA zone of that name, or None when there is none (or the name is not a zone name at all)."""
    if not name or len(name) > 64 or name.startswith("/") or ".." in name:
        return None
    try:
        return ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError):
        return None


def zone_names() -> list[str]:
    """Every IANA zone name of the system's database, sorted: the choices of the form's zone list."""
    return sorted(name for name in available_timezones() if "/" in name and not name.startswith("Etc/"))


def to_utc(local: datetime, zone_name: str) -> datetime:
    """A naive venue-local wall-clock time -> UTC-aware. Raises LocalTimeRefused (unknown zone, skipped time).

    A time repeated by the change back to winter time is read as its first occurrence (fold=0)."""
    zone = zone_of(zone_name)
    if zone is None:
        raise LocalTimeRefused(Problem.UNKNOWN_ZONE)
    wall = local.replace(tzinfo=None, fold=0)
    aware = wall.replace(tzinfo=zone)
    in_utc = aware.astimezone(UTC)
    if in_utc.astimezone(zone).replace(tzinfo=None) != wall:
        raise LocalTimeRefused(Problem.NONEXISTENT_TIME, wall)
    return in_utc


def is_ambiguous(local: datetime, zone_name: str) -> bool:
    """Does this wall-clock time happen twice in that zone (the hour repeated in autumn)?"""
    zone = zone_of(zone_name)
    if zone is None:
        return False
    wall = local.replace(tzinfo=None)
    return wall.replace(tzinfo=zone, fold=0).utcoffset() != wall.replace(tzinfo=zone, fold=1).utcoffset()


def in_zone(at: datetime, zone_name: str | None) -> datetime:
    """A UTC-aware time shown in a zone (UTC when the zone is missing or unknown)."""
    zone = zone_of(zone_name)
    return at.astimezone(zone if zone is not None else UTC)


def local_input(at: datetime, zone_name: str) -> datetime:
    """The naive wall-clock time a form shows again for editing (the venue's)."""
    return in_zone(at, zone_name).replace(tzinfo=None)


def local_span(day: date, start: time, end: time) -> tuple[datetime, datetime]:
    """The naive venue-local start and end of a session typed as a day and two times. An end at or
    before the start is read as the next day (an evening session until 01:00) when that makes a session
    of at most MAX_MINUTES; otherwise it stays on the same day, and the checks say it ends before it starts
    (09:00-08:00 is a typing slip, not a 23-hour session)."""
    starts, ends = datetime.combine(day, start), datetime.combine(day, end)
    if ends <= starts and (ends + timedelta(days=1) - starts) <= timedelta(minutes=MAX_MINUTES):
        ends += timedelta(days=1)
    return starts, ends


def duration_problem(starts_at: datetime, ends_at: datetime) -> Problem | None:
    if ends_at <= starts_at:
        return Problem.ENDS_BEFORE_START
    minutes = (ends_at - starts_at) / timedelta(minutes=1)
    if minutes < MIN_MINUTES:
        return Problem.TOO_SHORT
    if minutes > MAX_MINUTES:
        return Problem.TOO_LONG
    return None


def run_dates_problem(slot: Slot, zone_name: str, run: RunDates) -> Problem | None:
    """The session's day falls within the run's dates, read in the venue's zone. A session belongs to the
    day it starts on: one that crosses midnight (20:00-01:00) on the run's last day is inside the run."""
    day = in_zone(slot.starts_at, zone_name).date()
    if run.starts_on is not None and day < run.starts_on:
        return Problem.BEFORE_RUN
    if run.ends_on is not None and day > run.ends_on:
        return Problem.AFTER_RUN
    return None


def overlapping(slot: Slot, others: Iterable[Slot]) -> Slot | None:
    """The first other session (not cancelled, not this one) whose time overlaps; touching ends do not."""
    for other in sorted(others, key=lambda s: s.starts_at):
        if other.cancelled or (slot.id is not None and other.id == slot.id):
            continue
        if other.starts_at < slot.ends_at and slot.starts_at < other.ends_at:
            return other
    return None


def check_slot(slot: Slot, zone_name: str, run: RunDates, others: Iterable[Slot]) -> list[Finding]:
    """Every reason this session cannot take place, most basic first (empty: it can)."""
    if zone_of(zone_name) is None:
        return [Finding(Problem.UNKNOWN_ZONE)]
    problem = duration_problem(slot.starts_at, slot.ends_at)
    if problem is Problem.ENDS_BEFORE_START:
        return [Finding(problem)]
    findings = [Finding(problem)] if problem is not None else []
    outside = run_dates_problem(slot, zone_name, run)
    if outside is not None:
        findings.append(Finding(outside))
    other = overlapping(slot, others)
    if other is not None:
        findings.append(Finding(Problem.OVERLAP, other.id))
    return findings


def minutes_of(slots: Iterable[Slot]) -> int:
    """Planned minutes: the sum over the sessions that are not cancelled (course_run.session_minutes)."""
    return sum(int((s.ends_at - s.starts_at) / timedelta(minutes=1)) for s in slots if not s.cancelled)


def hours_and_minutes(minutes: int) -> tuple[int, int]:
    """10 h 30 for 630: what progress and certificates print."""
    return divmod(max(minutes, 0), 60)
