"""Sessions and attendance for the benchmark data set (issue 20), written in bulk like the rest of
bench/generate.py: about 5% of the runs (in person or blended) get 2-5 sessions over 1-3 days at a venue in
its own time zone (a blended run also has an online session), some cancelled, and each active place of
those runs an attendance line per session that was held (mostly present; late, left early, absent or
excused for the rest)."""

from __future__ import annotations

import random
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import bindparam, func, select, update

from lms.enrolment.models import CourseRun
from lms.extensions import db
from lms.sessions.models import Attendance, TrainingSession

SESSION_RUN_SHARE = 0.1  # of the in-person and blended runs (half of all runs): ~5% of the runs
CANCELLED_SHARE = 0.05
VENUES = (  # city, country, zone
    ("Chisinau", "MD", "Europe/Chisinau"),
    ("Tbilisi", "GE", "Asia/Tbilisi"),
    ("Vienna", "AT", "Europe/Vienna"),
    ("Almaty", "KZ", "Asia/Almaty"),
    ("Yerevan", "AM", "Asia/Yerevan"),
    ("Amman", "JO", "Asia/Amman"),
)
STATUSES = (("present", 80), ("late", 5), ("left_early", 5), ("absent", 7), ("excused", 3))


@dataclass(frozen=True)
class SessionRun:
    run_id: int
    modality: str
    starts_on: date


def pick_session_runs(rng: random.Random, runs: list[dict[str, Any]]) -> list[SessionRun]:
    """The runs that get sessions; at least one whenever there are runs (tiny test sets)."""
    chosen = [
        SessionRun(r["id"], r["modality"], r["starts_on"])
        for r in runs
        if r["modality"] in ("in_person", "blended") and rng.random() < SESSION_RUN_SHARE
    ]
    if not chosen and runs:
        chosen = [SessionRun(runs[0]["id"], runs[0]["modality"], runs[0]["starts_on"])]
    return chosen


def _session_rows(rng: random.Random, run: SessionRun, first_id: int, now: datetime) -> list[dict[str, Any]]:
    city, country, zone_name = rng.choice(VENUES)
    zone = ZoneInfo(zone_name)
    days = rng.randint(1, 3)
    count = rng.randint(max(2, days), 5)
    first_day = run.starts_on + timedelta(days=rng.randrange(0, 10))
    rows = []
    for n in range(count):
        day = first_day + timedelta(days=n % days)
        start_local = datetime.combine(day, time(min(9 + 3 * (n // days), 18)), tzinfo=zone)
        online = run.modality == "blended" and n == count - 1
        session_id = first_id + n
        rows.append(
            dict(
                id=session_id,
                run_id=run.run_id,
                title=f"Session {n + 1}",
                starts_at=start_local.astimezone(UTC),
                ends_at=(start_local + timedelta(hours=3)).astimezone(UTC),
                timezone=zone_name,
                format="online" if online else "in_person",
                venue_name=None if online else f"Training centre, {city}",
                venue_city=None if online else city,
                venue_country=None if online else country,
                meeting_url="https://meet.example.test/bench" if online else None,
                agenda_md="",
                agenda_html="",
                uid=f"bench-session-{session_id}@bench.test",
                sequence=0,
                cancelled_at=now if rng.random() < CANCELLED_SHARE else None,
                check_in_secret=f"{session_id:064d}",
                created_at=now,
                updated_at=now,
            )
        )
    return rows


def write_sessions(
    rng: random.Random,
    runs: list[SessionRun],
    places: dict[int, list[int]],
    now: datetime,
    bulk_insert: Any,
) -> dict[str, int]:
    """Insert the sessions of ``runs`` and the attendance of ``places`` (run id -> active enrolment ids)."""
    next_id = int(db.session.scalar(select(func.max(TrainingSession.id))) or 0) + 1
    sessions: list[dict[str, Any]] = []
    for run in runs:
        rows = _session_rows(rng, run, next_id, now)
        next_id += len(rows)
        sessions += rows
    statuses = [s for s, _ in STATUSES]
    weights = [w for _, w in STATUSES]

    def attendance() -> Iterator[dict[str, Any]]:
        for session in sessions:
            if session["cancelled_at"] is not None:
                continue
            for enrolment_id in places.get(session["run_id"], []):
                status = rng.choices(statuses, weights)[0]
                minutes = {"present": 180, "late": 150, "left_early": 120}.get(status, 0)
                yield dict(
                    session_id=session["id"],
                    enrolment_id=enrolment_id,
                    status=status,
                    minutes=minutes,
                    source="roll_call",
                    recorded_at=session["ends_at"],
                )

    written = bulk_insert(TrainingSession.__table__, sessions)
    # What lms.sessions.services keeps with each change (the bulk insert bypasses it): the last end.
    ends: dict[int, datetime] = {}
    for session in sessions:
        if session["cancelled_at"] is None:
            ends[session["run_id"]] = max(session["ends_at"], ends.get(session["run_id"], session["ends_at"]))
    if ends:
        runs_table = CourseRun.__table__
        db.session.execute(
            update(runs_table)
            .where(runs_table.c.id == bindparam("run_id"))
            .values(sessions_end_at=bindparam("end")),
            [{"run_id": run_id, "end": end} for run_id, end in ends.items()],
        )
    return {"sessions": written, "attendance": bulk_insert(Attendance.__table__, attendance())}
