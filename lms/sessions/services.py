"""Scheduling, changing and cancelling the sessions of a run; a hybrid participant's choice of attendance.

Services flush and raise lms.errors (messages translated); the unit of work commits. Every change is
audited (lms.audit) and announced (lms.sessions.signals: calendar mail listens).
``course_run.session_minutes`` (the planned time completion reads) is kept here, and when a change
shortens it the enrolments of the run are re-checked through ``attendance_changed``
(lms.enrolment.completion listens).
"""

from __future__ import annotations

import secrets
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any
from urllib.parse import urlsplit

from flask_babel import gettext as _
from sqlalchemy import func, select

from lms.audit.services import record_event
from lms.auth.models import Role, UserRole
from lms.content.markdown import render_markdown
from lms.db import utcnow
from lms.enrolment.admission import lock_run
from lms.enrolment.models import CourseRun, Enrolment, EnrolmentStatus
from lms.enrolment.signals import attendance_changed
from lms.errors import Conflict, Forbidden, ValidationFailed
from lms.extensions import db
from lms.orgs.models import Country
from lms.sessions import scheduling
from lms.sessions.models import Attendance, ParticipantDetails, SessionFormat, SessionTrainer, TrainingSession
from lms.sessions.scheduling import LocalTimeRefused, Problem, RunDates, Slot
from lms.sessions.signals import session_cancelled, session_changed, session_scheduled
from lms.settings.services import get_settings

# A change of any of these is mailed as a calendar update (sequence raised, session_changed).
TIME_PLACE_LINK = (
    "starts_at",
    "ends_at",
    "timezone",
    "format",
    "venue_name",
    "venue_address",
    "venue_city",
    "venue_country",
    "meeting_url",
)
OTHER_FIELDS = ("title", "capacity", "agenda_md")


@dataclass(frozen=True)
class SessionData:
    """A session as typed: the venue's wall-clock times (naive) and its IANA zone."""

    title: str
    starts_local: datetime
    ends_local: datetime
    timezone: str
    format: str = SessionFormat.IN_PERSON
    venue_name: str | None = None
    venue_address: str | None = None
    venue_city: str | None = None
    venue_country: str | None = None
    meeting_url: str | None = None
    capacity: int | None = None
    agenda_md: str = ""
    trainer_ids: frozenset[int] = field(default_factory=frozenset)


def problem_message(problem: Problem, local: datetime | None = None) -> str:
    messages = {
        Problem.UNKNOWN_ZONE: _("Choose the time zone of the venue from the list."),
        Problem.ENDS_BEFORE_START: _("The session must end after it starts."),
        Problem.TOO_SHORT: _("A session lasts at least %(minutes)s minutes.", minutes=scheduling.MIN_MINUTES),
        Problem.TOO_LONG: _(
            "A session lasts at most %(hours)s hours: split a longer day into several sessions.",
            hours=scheduling.MAX_MINUTES // 60,
        ),
        Problem.BEFORE_RUN: _("The session starts before the run's first day."),
        Problem.AFTER_RUN: _("The session ends after the run's last day."),
        Problem.OVERLAP: _("The session overlaps another session of this run."),
    }
    if problem is Problem.NONEXISTENT_TIME:
        return _(
            "%(time)s does not exist in the venue's time zone (the clocks go forward that night). "
            "Choose a time after the change.",
            time=local.strftime("%Y-%m-%d %H:%M") if local else "",
        )
    return messages[problem]


def _utc(local: datetime, zone: str) -> datetime:
    try:
        return scheduling.to_utc(local, zone)
    except LocalTimeRefused as refused:
        raise ValidationFailed(problem_message(refused.problem, refused.local)) from None


def _clean(value: str | None, limit: int) -> str | None:
    value = (value or "").strip()
    return value[:limit] if value else None


def _check_place(data: SessionData) -> None:
    if data.format not in set(SessionFormat):
        raise ValidationFailed(_("Choose in person, online or hybrid."))
    needs_venue = data.format in (SessionFormat.IN_PERSON, SessionFormat.HYBRID)
    needs_link = data.format in (SessionFormat.ONLINE, SessionFormat.HYBRID)
    if needs_venue and not _clean(data.venue_name, 200):
        raise ValidationFailed(_("Give the venue's name for a session in person."))
    if needs_link and not _clean(data.meeting_url, 500):
        raise ValidationFailed(_("Give the meeting link for an online session."))
    if data.meeting_url and data.meeting_url.strip():
        parts = urlsplit(data.meeting_url.strip())
        if parts.scheme not in ("https", "http") or not parts.netloc:
            raise ValidationFailed(_("The meeting link must be a web address starting with https://."))
    if data.venue_country and db.session.get(Country, data.venue_country.upper()) is None:
        raise ValidationFailed(_("Choose the venue's country from the list."))
    if data.capacity is not None and not 1 <= data.capacity <= 100000:
        raise ValidationFailed(_("The capacity is a number of seats from 1 to 100000, or empty."))


def _trainers(ids: Iterable[int]) -> list[int]:
    wanted = sorted(set(ids))
    if not wanted:
        return []
    found = set(
        db.session.scalars(
            select(UserRole.user_id).where(UserRole.user_id.in_(wanted), UserRole.role == Role.TRAINER)
        )
    )
    if set(wanted) - found:
        raise ValidationFailed(_("Session trainers must be people with the trainer role."))
    return wanted


def _other_slots(run_id: int, session_id: int | None) -> list[Slot]:
    rows = db.session.execute(
        select(TrainingSession.id, TrainingSession.starts_at, TrainingSession.ends_at).where(
            TrainingSession.run_id == run_id,
            TrainingSession.cancelled_at.is_(None),
            TrainingSession.id != (session_id or 0),
        )
    )
    return [Slot(id_, starts, ends) for id_, starts, ends in rows]


def _checked_times(run: CourseRun, data: SessionData, session_id: int | None) -> tuple[datetime, datetime]:
    if not data.title.strip():
        raise ValidationFailed(_("Give the session a title."))
    if scheduling.zone_of(data.timezone) is None:
        raise ValidationFailed(problem_message(Problem.UNKNOWN_ZONE))
    starts_at, ends_at = _utc(data.starts_local, data.timezone), _utc(data.ends_local, data.timezone)
    slot = Slot(session_id, starts_at, ends_at)
    findings = scheduling.check_slot(
        slot, data.timezone, RunDates(run.starts_on, run.ends_on), _other_slots(run.id, session_id)
    )
    if findings:
        raise ValidationFailed(" ".join(problem_message(finding.problem) for finding in findings))
    _check_place(data)
    return starts_at, ends_at


def _apply(session: TrainingSession, data: SessionData, starts_at: datetime, ends_at: datetime) -> None:
    session.title = data.title.strip()[:200]
    session.starts_at, session.ends_at, session.timezone = starts_at, ends_at, data.timezone
    session.format = data.format
    in_person = data.format != SessionFormat.ONLINE
    online = data.format != SessionFormat.IN_PERSON
    session.venue_name = _clean(data.venue_name, 200) if in_person else None
    session.venue_address = _clean(data.venue_address, 2000) if in_person else None
    session.venue_city = _clean(data.venue_city, 100) if in_person else None
    session.venue_country = (_clean(data.venue_country, 2) or "").upper() or None if in_person else None
    session.meeting_url = _clean(data.meeting_url, 500) if online else None
    session.capacity = data.capacity
    session.agenda_md = (data.agenda_md or "").strip()
    session.agenda_html = render_markdown(session.agenda_md) if session.agenda_md else ""


def _set_trainers(session: TrainingSession, trainer_ids: list[int]) -> None:
    current = {t.user_id for t in session.trainers}
    for trainer in list(session.trainers):
        if trainer.user_id not in trainer_ids:
            session.trainers.remove(trainer)
    for user_id in trainer_ids:
        if user_id not in current:
            session.trainers.append(SessionTrainer(user_id=user_id))


def _snapshot(session: TrainingSession) -> dict[str, Any]:
    values: dict[str, Any] = {name: getattr(session, name) for name in (*TIME_PLACE_LINK, *OTHER_FIELDS)}
    values["starts_at"] = session.starts_at.isoformat() if session.starts_at else None
    values["ends_at"] = session.ends_at.isoformat() if session.ends_at else None
    values["trainers"] = sorted(t.user_id for t in session.trainers)
    return values


def _host() -> str:
    return urlsplit(get_settings().public_base_url).hostname or "lms.invalid"


def schedule_session(run: CourseRun, data: SessionData, *, actor_id: int | None) -> TrainingSession:
    """A new session of the run; refused (ValidationFailed) when it overlaps, falls outside the run's dates,
    ends before it starts, lies in a skipped hour or names no place."""
    run = lock_run(run.id)  # two organisers adding sessions at once cannot both miss the overlap
    starts_at, ends_at = _checked_times(run, data, None)
    trainer_ids = _trainers(data.trainer_ids)
    session = TrainingSession(
        run_id=run.id,
        uid=f"{secrets.token_hex(16)}@{_host()}",
        check_in_secret=secrets.token_hex(32),
        sequence=0,
    )
    _apply(session, data, starts_at, ends_at)
    _set_trainers(session, trainer_ids)
    db.session.add(session)
    db.session.flush()
    refresh_planned_minutes(run)
    record_event("training_session.scheduled", "training_session", session.id, actor_id=actor_id,
                 after=_snapshot(session))  # fmt: skip
    session_scheduled.send(session)
    return session


def update_session(session: TrainingSession, data: SessionData, *, actor_id: int | None) -> TrainingSession:
    """Change a session; a change of time, place or link raises its sequence and is announced."""
    if session.cancelled_at is not None:
        raise Conflict(_("This session was cancelled and can no longer be changed."))
    run = lock_run(session.run_id)
    starts_at, ends_at = _checked_times(run, data, session.id)
    trainer_ids = _trainers(data.trainer_ids)
    before = _snapshot(session)
    _apply(session, data, starts_at, ends_at)
    _set_trainers(session, trainer_ids)
    after = _snapshot(session)
    changed = [name for name in after if before[name] != after[name]]
    if not changed:
        return session
    moved = [name for name in changed if name in TIME_PLACE_LINK]
    if moved:
        session.sequence += 1
    db.session.flush()
    shortened = refresh_planned_minutes(run)
    record_event("training_session.updated", "training_session", session.id, actor_id=actor_id,
                 before={k: before[k] for k in changed}, after={k: after[k] for k in changed})  # fmt: skip
    if moved:
        session_changed.send(session, changed=tuple(moved))
    if shortened:
        recount_attendance(run)
    return session


def cancel_session(session: TrainingSession, *, actor_id: int | None, reason: str | None = None) -> None:
    """Cancel (never delete: its attendance and calendar UID stay); announced as a calendar cancellation."""
    if session.cancelled_at is not None:
        raise Conflict(_("This session is already cancelled."))
    run = lock_run(session.run_id)
    session.cancelled_at = utcnow()
    session.sequence += 1
    db.session.flush()
    refresh_planned_minutes(run)
    record_event("training_session.cancelled", "training_session", session.id, actor_id=actor_id,
                 after={"title": session.title, "starts_at": session.starts_at.isoformat()},
                 reason=(reason or "").strip() or None)  # fmt: skip
    session_cancelled.send(session)
    recount_attendance(run)


def refresh_planned_minutes(run: CourseRun) -> bool:
    """course_run.session_minutes = the minutes of its sessions not cancelled, and sessions_end_at = when
    the last of them ends (the dashboard's next session, lms.sessions.queries); True when minutes went
    down."""
    rows = db.session.execute(
        select(TrainingSession.starts_at, TrainingSession.ends_at).where(
            TrainingSession.run_id == run.id, TrainingSession.cancelled_at.is_(None)
        )
    ).all()
    minutes = scheduling.minutes_of(Slot(None, starts, ends) for starts, ends in rows)
    shortened = minutes < (run.session_minutes or 0)
    run.session_minutes = minutes
    run.sessions_end_at = max((ends for _starts, ends in rows), default=None)
    db.session.flush()
    return shortened


def recount_attendance(run: CourseRun) -> None:
    """After a session is cancelled or shortened: every enrolment's attended minutes again (sessions not
    cancelled), and completion re-checked for those still studying (attendance_changed). Never revokes."""
    attended: dict[int, int] = {
        enrolment_id: int(minutes or 0)
        for enrolment_id, minutes in db.session.execute(
            select(Attendance.enrolment_id, func.sum(Attendance.minutes))
            .join(TrainingSession, TrainingSession.id == Attendance.session_id)
            .where(TrainingSession.run_id == run.id, TrainingSession.cancelled_at.is_(None))
            .group_by(Attendance.enrolment_id)
        )
    }
    enrolments = db.session.scalars(
        select(Enrolment).where(Enrolment.run_id == run.id, Enrolment.status == EnrolmentStatus.ENROLLED)
    ).all()
    for enrolment in enrolments:
        enrolment.attended_minutes = int(attended.get(enrolment.id) or 0)
    db.session.flush()
    for enrolment in enrolments:
        attendance_changed.send(enrolment)


def set_attendance_mode(enrolment: Enrolment, mode: str, *, actor_id: int | None) -> ParticipantDetails:
    """A participant of a run with hybrid sessions says how they will attend: in person or online."""
    if mode not in (SessionFormat.IN_PERSON, SessionFormat.ONLINE):
        raise ValidationFailed(_("Choose in person or online."))
    if enrolment.status not in (EnrolmentStatus.ENROLLED, EnrolmentStatus.COMPLETED):
        raise Forbidden(_("Only participants with a place choose how they attend."))
    hybrid = db.session.scalar(
        select(TrainingSession.id)
        .where(
            TrainingSession.run_id == enrolment.run_id,
            TrainingSession.format == SessionFormat.HYBRID,
            TrainingSession.cancelled_at.is_(None),
        )
        .limit(1)
    )
    if hybrid is None:
        raise ValidationFailed(_("This run has no hybrid session: there is nothing to choose."))
    details = db.session.get(ParticipantDetails, enrolment.id)
    if details is None:
        details = ParticipantDetails(enrolment_id=enrolment.id)
        db.session.add(details)
    before = details.attendance_mode
    details.attendance_mode = mode
    details.updated_by_id = actor_id
    db.session.flush()
    if before != mode:
        record_event("participant.attendance_mode", "enrolment", enrolment.id, actor_id=actor_id,
                     before={"attendance_mode": before}, after={"attendance_mode": mode})  # fmt: skip
    return details
