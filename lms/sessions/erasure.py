"""Automatic erasure of international events' personal data (passport data and needs).

A run's participant details are erased ``course_run.personal_data_retention_days`` days after the run
ended: a run whose last day is E, kept N days, keeps them through day E + N and loses them on day E + N + 1
(UTC). The run's last day is ``ends_on``, or the day its last session ends when it has none. What goes:
name as in the passport, passport number, nationality, date of birth, dietary and accessibility needs;
``erased_at`` is set and the attendance mode (in person / online, which the indicators count) stays.
One audit event per run (how many participants' details were erased). Idempotent: a second pass finds
nothing left and writes nothing. Run daily by the job worker (lms.jobs.tasks) and by
``flask lms sessions erase-personal-data``; the caller commits.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass
from datetime import date, timedelta

from sqlalchemy import ColumnElement, func, or_, select

from lms.audit.services import record_event
from lms.db import utcnow
from lms.enrolment.models import CourseRun, Enrolment
from lms.extensions import db
from lms.sessions.models import ParticipantDetails, TrainingSession
from lms.sessions.participants import FIELDS


@dataclass(frozen=True)
class RunErased:
    run_id: int
    count: int


def _holding_data() -> ColumnElement[bool]:
    return or_(*(getattr(ParticipantDetails, name).is_not(None) for name in FIELDS))


def last_day(run: CourseRun, last_session_end: date | None) -> date | None:
    return run.ends_on or last_session_end


def erase_due(today: date | None = None) -> list[RunErased]:
    """Erase what is due on ``today`` (default: today in UTC); returns what was erased per run."""
    today = today or utcnow().date()
    pending = db.session.execute(
        select(Enrolment.run_id, ParticipantDetails)
        .join(Enrolment, Enrolment.id == ParticipantDetails.enrolment_id)
        .where(ParticipantDetails.erased_at.is_(None), _holding_data())
    ).all()
    by_run: dict[int, list[ParticipantDetails]] = defaultdict(list)
    for run_id, details in pending:
        by_run[run_id].append(details)
    if not by_run:
        return []
    runs = {run.id: run for run in db.session.scalars(select(CourseRun).where(CourseRun.id.in_(by_run)))}
    session_ends = {
        run_id: ends_at
        for run_id, ends_at in db.session.execute(
            select(TrainingSession.run_id, func.max(TrainingSession.ends_at))
            .where(TrainingSession.run_id.in_(by_run), TrainingSession.cancelled_at.is_(None))
            .group_by(TrainingSession.run_id)
        )
    }
    now = utcnow()
    erased = []
    for run_id in sorted(by_run):
        run = runs[run_id]
        ended = session_ends.get(run_id)
        end = last_day(run, ended.date() if ended else None)
        if end is None or today <= end + timedelta(days=run.personal_data_retention_days):
            continue
        for details in by_run[run_id]:
            for name in FIELDS:
                setattr(details, name, None)
            details.erased_at = now
            details.updated_by_id = None
        db.session.flush()
        count = len(by_run[run_id])
        record_event(
            "participant.details_erased", "course_run", run_id, actor_id=None,
            after={"erased": count, "retention_days": run.personal_data_retention_days,
                   "run_ended_on": end.isoformat()},
        )  # fmt: skip
        erased.append(RunErased(run_id, count))
    return erased
