"""The attendance register (issue 20): one row per participant and session, whichever way it was taken
(the trainer's roll call, the participant's QR check-in, a signed paper sheet).

Every write goes through ``record_attendance``: it checks the mark, writes the row, audits the change with
the previous value, and keeps ``enrolment.attended_minutes`` (the sum over the run's sessions that are not
cancelled) so that completion (lms.enrolment.completion, which subscribes to ``attendance_changed``) reads
it without knowing this feature. Services flush and raise lms.errors; the unit of work commits.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from flask_babel import gettext as _
from sqlalchemy import func, select

from lms.audit.services import record_event
from lms.db import utcnow
from lms.enrolment.models import Enrolment
from lms.enrolment.signals import attendance_changed
from lms.errors import Conflict, NotFound, ValidationFailed
from lms.extensions import db
from lms.sessions.models import (
    Attendance,
    AttendanceSource,
    AttendanceStatus,
    ParticipantDetails,
    SessionFormat,
    TrainingSession,
)

PARTIAL_STATUSES = (AttendanceStatus.LATE, AttendanceStatus.LEFT_EARLY)
NOTHING_ATTENDED = (AttendanceStatus.ABSENT, AttendanceStatus.EXCUSED)
ATTENDANCE_MODES = ("in_person", "online")
# A phone's clock may run a little fast; a mark "taken" later than this ahead of the server is refused.
CLOCK_SKEW = timedelta(minutes=5)


@dataclass(frozen=True)
class Mark:
    """One line of a roll call as the trainer's form or phone sends it."""

    enrolment_id: int
    status: str
    minutes: int | None = None
    mode: str | None = None
    taken_at: datetime | None = None


@dataclass
class RollCallResult:
    changed: list[int] = field(default_factory=list)  # enrolment ids whose line changed
    unchanged: list[int] = field(default_factory=list)  # the same mark again (a batch sent twice)
    newer_kept: list[int] = field(default_factory=list)  # a later mark (a check-in) was already there


def record_attendance(
    session: TrainingSession,
    enrolment: Enrolment,
    status: str,
    *,
    minutes: int | None = None,
    mode: str | None = None,
    source: str,
    actor_id: int | None,
    taken_at: datetime | None = None,
) -> Attendance:
    """Write one participant's mark for one session (insert or update), audited with the previous value.

    Present counts the whole session; late and left early the ``minutes`` given (required); absent and
    excused nothing. Refused (nothing written): a cancelled session, an enrolment that is not an active
    place of the session's run, an unknown status, source or mode, minutes outside 0..session length, a
    ``taken_at`` without a time zone or in the future."""
    row, _changed = _record(session, enrolment, status, minutes, mode, source, actor_id, taken_at)
    return row


def apply_roll_call(session: TrainingSession, marks: Sequence[Mark], *, actor_id: int) -> RollCallResult:
    """The trainer's register for one session, all or nothing. Idempotent: the same batch sent twice
    changes and audits nothing the second time. A mark taken on a phone before a later change of the same
    line (the participant checked in after the trainer marked them absent offline) does not overwrite it."""
    ids = [mark.enrolment_id for mark in marks]
    if len(set(ids)) != len(ids):
        raise ValidationFailed(_("Each participant may be marked once per roll call."))
    enrolments = {e.id: e for e in db.session.scalars(select(Enrolment).where(Enrolment.id.in_(ids)))}
    existing = {
        row.enrolment_id: row
        for row in db.session.scalars(
            select(Attendance).where(Attendance.session_id == session.id, Attendance.enrolment_id.in_(ids))
        )
    }
    modes = declared_modes(session, ids)
    result = RollCallResult()
    for mark in marks:
        enrolment = enrolments.get(mark.enrolment_id)
        if enrolment is None:
            raise NotFound(_("This person is not a participant of this session."))
        row = existing.get(mark.enrolment_id)
        if row is not None and mark.taken_at is not None and _last_change(row) > mark.taken_at:
            result.newer_kept.append(enrolment.id)
            continue
        mode = mark.mode if mark.mode is not None else modes.get(enrolment.id)
        _row, changed = _record(
            session, enrolment, mark.status, mark.minutes, mode, AttendanceSource.ROLL_CALL,
            actor_id, mark.taken_at,
        )  # fmt: skip
        (result.changed if changed else result.unchanged).append(enrolment.id)
    return result


def refresh_attended_minutes(enrolment: Enrolment) -> bool:
    """Recompute ``enrolment.attended_minutes`` from the register (one query) and send
    ``attendance_changed`` when it moved. For the schedule too: cancelling a session takes its minutes
    out of every participant's sum. Returns whether the sum changed."""
    total = db.session.scalar(
        select(func.coalesce(func.sum(Attendance.minutes), 0))
        .join(TrainingSession, TrainingSession.id == Attendance.session_id)
        .where(
            Attendance.enrolment_id == enrolment.id,
            TrainingSession.run_id == enrolment.run_id,
            TrainingSession.cancelled_at.is_(None),
        )
    )
    if int(total or 0) == enrolment.attended_minutes:
        return False
    enrolment.attended_minutes = int(total or 0)
    db.session.flush()
    attendance_changed.send(enrolment)
    return True


def declared_modes(session: TrainingSession, enrolment_ids: Sequence[int]) -> dict[int, str]:
    """For a hybrid session: how each participant said they attend (in person or online), which the
    register records with the mark unless the mark names its own. Empty for other sessions (one query)."""
    if session.format != SessionFormat.HYBRID or not enrolment_ids:
        return {}
    rows = db.session.execute(
        select(ParticipantDetails.enrolment_id, ParticipantDetails.attendance_mode).where(
            ParticipantDetails.enrolment_id.in_(list(enrolment_ids)),
            ParticipantDetails.attendance_mode.is_not(None),
        )
    )
    return {enrolment_id: str(mode) for enrolment_id, mode in rows}


def attendance_of(session_id: int, enrolment_id: int) -> Attendance | None:
    return db.session.scalar(
        select(Attendance).where(Attendance.session_id == session_id, Attendance.enrolment_id == enrolment_id)
    )


# --- the one write ---------------------------------------------------------------------------------------


def _record(
    session: TrainingSession,
    enrolment: Enrolment,
    status: str,
    minutes: int | None,
    mode: str | None,
    source: str,
    actor_id: int | None,
    taken_at: datetime | None,
) -> tuple[Attendance, bool]:
    attended = _checked_minutes(session, enrolment, status, minutes, mode, source, taken_at)
    status = str(AttendanceStatus(status))  # the plain value, for the row and the audit record
    _lock_enrolment(enrolment)
    row = attendance_of(session.id, enrolment.id)
    before = _value(row) if row is not None else None
    if row is not None and before == {"status": status, "minutes": attended, "mode": mode}:
        return row, False
    if row is None:
        row = Attendance(session_id=session.id, enrolment_id=enrolment.id)
        db.session.add(row)
    row.status, row.minutes, row.mode, row.source = status, attended, mode, source
    row.recorded_by_id, row.recorded_at, row.taken_at = actor_id, utcnow(), taken_at
    db.session.flush()
    after = {
        **_value(row),
        "source": source,
        "session_id": session.id,
        "enrolment_id": enrolment.id,
        "taken_at": taken_at.isoformat() if taken_at else None,
    }
    record_event("attendance.record", "attendance", row.id, actor_id=actor_id, before=before, after=after)
    refresh_attended_minutes(enrolment)
    return row, True


def _checked_minutes(
    session: TrainingSession,
    enrolment: Enrolment,
    status: str,
    minutes: int | None,
    mode: str | None,
    source: str,
    taken_at: datetime | None,
) -> int:
    """The minutes the mark counts, or the refusal (nothing written)."""
    if session.cancelled_at is not None:
        raise Conflict(_("This session was cancelled: its register is closed."))
    if enrolment.run_id != session.run_id or not enrolment.is_active:
        raise ValidationFailed(_("This person is not a participant of this session."))
    if status not in set(AttendanceStatus):
        raise ValidationFailed(_("Choose present, late, left early, absent or excused."))
    if source not in set(AttendanceSource) or (mode is not None and mode not in ATTENDANCE_MODES):
        raise ValidationFailed(_("This attendance mark cannot be read."))
    if taken_at is not None and (taken_at.tzinfo is None or taken_at > utcnow() + CLOCK_SKEW):
        raise ValidationFailed(_("The time this mark was taken is not valid."))
    if minutes is not None and not 0 <= minutes <= session.minutes:
        raise ValidationFailed(
            _("Minutes attended must be between 0 and %(minutes)s.", minutes=session.minutes)
        )
    if status in PARTIAL_STATUSES:
        if minutes is None:
            raise ValidationFailed(_("Give the minutes attended for a late arrival or an early departure."))
        return minutes
    return 0 if status in NOTHING_ATTENDED else session.minutes


def _lock_enrolment(enrolment: Enrolment) -> None:
    """Two marks of one person at once (a check-in while the trainer's phone sends) must not both insert
    or both sum: on PostgreSQL the enrolment row is locked; SQLite writes already hold the one lock."""
    if db.session.get_bind().dialect.name == "postgresql":
        db.session.execute(select(Enrolment.id).where(Enrolment.id == enrolment.id).with_for_update())


def _value(row: Attendance) -> dict[str, object]:
    return {"status": row.status, "minutes": row.minutes, "mode": row.mode}


def _last_change(row: Attendance) -> datetime:
    return row.taken_at or row.recorded_at
