"""A participant checks themselves in with the room's rotating code (lms/sessions/check_in.py): the QR
URL ``/check-in/<session_id>/<code>`` or the short typed code at ``/check-in``.

Every refusal is a clear message and writes nothing: a cancelled or unknown session, a code that is
expired, replayed after its window or of another session, a person who holds no active place in the
session's run, a time outside the check-in window (30 minutes before the start until the end), and a
second check-in. The mark itself goes through lms.sessions.attendance.record_attendance (source
check_in): present, or late with the minutes left when more than 15 minutes after the start.
"""

from __future__ import annotations

from datetime import datetime

from flask_babel import gettext as _
from sqlalchemy import select

from lms.auth.models import User
from lms.db import utcnow
from lms.enrolment.models import ACTIVE_STATUSES, Enrolment
from lms.errors import Conflict, Forbidden, LmsError, NotFound, ValidationFailed
from lms.extensions import db
from lms.sessions import check_in as codes
from lms.sessions.attendance import NOTHING_ATTENDED, attendance_of, declared_modes, record_attendance
from lms.sessions.models import Attendance, AttendanceSource, AttendanceStatus, TrainingSession


def session_for_check_in(session_id: int) -> TrainingSession:
    session = db.session.get(TrainingSession, session_id)
    if session is None:
        raise NotFound(_("No such session."))
    return session


def check_in_refusal(
    session: TrainingSession, user: User, code: str, now: datetime, *, typed: bool
) -> LmsError | None:
    """Why this person may not check in to this session with this code now, or None. Reads only."""
    if session.cancelled_at is not None:
        return Conflict(_("This session was cancelled."))
    enrolment = participant_place(session, user.id)
    if enrolment is None:
        return Forbidden(_("You are not a participant of this session, so you cannot check in to it."))
    if not codes.check_in_open(session.starts_at, session.ends_at, now):
        return ValidationFailed(
            _("Check-in for this session opens 30 minutes before it starts and closes when it ends.")
        )
    if not codes.code_matches(session.check_in_secret, session.id, code, now, typed=typed):
        return ValidationFailed(
            _(
                "This check-in code has expired or belongs to another session. "
                "Scan the code on the screen again."
            )
        )
    if _already_checked_in(attendance_of(session.id, enrolment.id)):
        return Conflict(_("You have already checked in to this session."))
    return None


def check_in(
    session: TrainingSession, user: User, code: str, *, typed: bool = False, now: datetime | None = None
) -> Attendance:
    """Record the person as present (or late) in the session; refused with the error of
    ``check_in_refusal`` and nothing written."""
    now = now or utcnow()
    refusal = check_in_refusal(session, user, code, now, typed=typed)
    if refusal is not None:
        raise refusal
    enrolment = participant_place(session, user.id)
    if enrolment is None:  # checked above; for the type checker
        raise Forbidden(_("You are not a participant of this session, so you cannot check in to it."))
    mark = codes.check_in_mark(session.starts_at, session.ends_at, now)
    status = AttendanceStatus.LATE if mark.late else AttendanceStatus.PRESENT
    return record_attendance(
        session, enrolment, status, minutes=mark.minutes if mark.late else None,
        mode=declared_modes(session, [enrolment.id]).get(enrolment.id),
        source=AttendanceSource.CHECK_IN, actor_id=user.id, taken_at=now,
    )  # fmt: skip


def check_in_typed(user: User, typed_code: str, *, now: datetime | None = None) -> Attendance:
    """The typed fallback: the code names no session, so it is tried against the person's own sessions
    that are open for check-in now."""
    now = now or utcnow()
    candidates = open_sessions_of(user.id, now)
    if not candidates:
        raise ValidationFailed(_("None of your sessions is open for check-in now."))
    for session in candidates:
        if codes.code_matches(session.check_in_secret, session.id, typed_code, now, typed=True):
            return check_in(session, user, typed_code, typed=True, now=now)
    raise ValidationFailed(_("This code is not valid now. Type the code shown on the screen in the room."))


def participant_place(session: TrainingSession, user_id: int) -> Enrolment | None:
    """The person's active place in the session's run, if any."""
    return db.session.scalar(
        select(Enrolment).where(
            Enrolment.run_id == session.run_id,
            Enrolment.user_id == user_id,
            Enrolment.status.in_(ACTIVE_STATUSES),
        )
    )


def open_sessions_of(user_id: int, now: datetime) -> list[TrainingSession]:
    """Sessions of the person's active places whose check-in window holds ``now`` (one query)."""
    return list(
        db.session.scalars(
            select(TrainingSession)
            .join(Enrolment, Enrolment.run_id == TrainingSession.run_id)
            .where(
                Enrolment.user_id == user_id,
                Enrolment.status.in_(ACTIVE_STATUSES),
                TrainingSession.cancelled_at.is_(None),
                TrainingSession.starts_at <= now + codes.OPENS_BEFORE_START,
                TrainingSession.ends_at >= now,
            )
            .order_by(TrainingSession.starts_at)
        )
    )


def _already_checked_in(row: Attendance | None) -> bool:
    """One check-in per person: a check-in, or any mark that counts minutes, is not replaced. An absence
    the trainer marked before the person arrived may be."""
    if row is None:
        return False
    return row.source == AttendanceSource.CHECK_IN or row.status not in NOTHING_ATTENDED
