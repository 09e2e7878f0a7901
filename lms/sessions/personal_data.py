"""What the sessions feature holds about a person, for the GDPR export and erasure (lms.security.gdpr):
participant details of international events, the attendance register, the sessions they train and their
calendar subscription.

Export: every field as held, except the calendar feed's token, which is never stored (only its SHA-256,
which is a secret too and is not shown). Erasure: the participant details' passport data and needs go
(as the automatic erasure does: ``erased_at`` set, the attendance mode kept for the indicators), the
calendar feed is deleted (its URL stops answering at once). The register stays: its rows point at the
place, the place at the erased person, and the participant-days of the indicators keep their counts;
nothing in a register row names anyone.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import delete, select

from lms.db import utcnow
from lms.enrolment.models import CourseRun, Enrolment
from lms.extensions import db
from lms.sessions.models import (
    Attendance,
    CalendarFeed,
    ParticipantDetails,
    SessionTrainer,
    TrainingSession,
)
from lms.sessions.participants import FIELDS


def _iso(value: Any) -> Any:
    return value.isoformat() if hasattr(value, "isoformat") else value


def sessions_data(user_id: int) -> dict[str, Any]:
    """The export's sessions part (four queries)."""
    details = db.session.execute(
        select(ParticipantDetails, CourseRun.title)
        .join(Enrolment, Enrolment.id == ParticipantDetails.enrolment_id)
        .join(CourseRun, CourseRun.id == Enrolment.run_id)
        .where(Enrolment.user_id == user_id)
        .order_by(ParticipantDetails.enrolment_id)
    ).all()
    register = db.session.execute(
        select(Attendance, TrainingSession)
        .join(Enrolment, Enrolment.id == Attendance.enrolment_id)
        .join(TrainingSession, TrainingSession.id == Attendance.session_id)
        .where(Enrolment.user_id == user_id)
        .order_by(TrainingSession.starts_at, Attendance.id)
    ).all()
    trained = db.session.scalars(
        select(TrainingSession)
        .join(SessionTrainer, SessionTrainer.session_id == TrainingSession.id)
        .where(SessionTrainer.user_id == user_id)
        .order_by(TrainingSession.starts_at)
    ).all()
    feed = db.session.get(CalendarFeed, user_id)
    return {
        "participant_details": [
            {
                "enrolment_id": d.enrolment_id,
                "run": title,
                "attendance_mode": d.attendance_mode,
                **{name: _iso(getattr(d, name)) for name in FIELDS},
                "updated_at": _iso(d.updated_at),
                "erased_at": _iso(d.erased_at),
            }
            for d, title in details
        ],
        "attendance": [
            {
                "enrolment_id": a.enrolment_id,
                "session": s.title,
                "session_starts_at": _iso(s.starts_at),
                "session_ends_at": _iso(s.ends_at),
                "status": a.status,
                "minutes": a.minutes,
                "mode": a.mode,
                "source": a.source,
                "recorded_at": _iso(a.recorded_at),
                "taken_at": _iso(a.taken_at),
            }
            for a, s in register
        ],
        "sessions_trained": [
            {
                "session": s.title,
                "run_id": s.run_id,
                "starts_at": _iso(s.starts_at),
                "ends_at": _iso(s.ends_at),
            }
            for s in trained
        ],
        "calendar_feeds": [{"created_at": _iso(feed.created_at), "last_used_at": _iso(feed.last_used_at)}]
        if feed is not None
        else [],
    }


def erase_sessions_data(user_id: int) -> None:
    """The erasure's sessions part; the caller (lms.security.gdpr.erase_person) audits and commits."""
    now = utcnow()
    for details in db.session.scalars(
        select(ParticipantDetails)
        .join(Enrolment, Enrolment.id == ParticipantDetails.enrolment_id)
        .where(Enrolment.user_id == user_id)
    ):
        for name in FIELDS:
            setattr(details, name, None)
        details.erased_at = details.erased_at or now
        details.updated_by_id = None
    db.session.execute(delete(CalendarFeed).where(CalendarFeed.user_id == user_id))
