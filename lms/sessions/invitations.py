"""Calendar invitations by mail: subscribers to the sessions' signals and to enrolment's ``place_taken``.

- a session scheduled: an invitation (METHOD:REQUEST) to each participant (active place in the run) and
  each trainer of the session;
- a session changed: the same invitation again, same UID and the raised SEQUENCE, which calendars take
  as an update of the event they have;
- a session cancelled: METHOD:CANCEL;
- a person takes a place in a run that has sessions: the invitations of its future sessions (one by one,
  ``place_taken``; or many at once from the CSV import, ``places_written_in_bulk``);
- a person gives up a seat (withdrawn, rejected: ``place_released``): METHOD:CANCEL for the future sessions
  they had been invited to (same UID, the SEQUENCE one above the session's, which calendars take as newer).

Each message is written in the recipient's language and queued in the transaction of the change
(lms.notifications.services.queue_mail); a session that is over by now mails nobody (demo data and
sessions entered after the fact). Subscribers never commit (docs/architecture.md "Signals").
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, replace
from datetime import datetime
from enum import StrEnum
from typing import Any

from babel.dates import format_date, format_datetime, format_time
from flask import render_template
from flask_babel import force_locale
from flask_babel import gettext as _
from sqlalchemy import select

from lms.auth.models import User
from lms.db import utcnow
from lms.enrolment.models import ACTIVE_STATUSES, CourseRun, Enrolment, EnrolmentStatus
from lms.enrolment.signals import place_released, place_taken, places_written_in_bulk
from lms.extensions import db
from lms.i18n import recipient_language
from lms.notifications.services import queue_mail
from lms.sessions import calendar
from lms.sessions.calendar_feeds import organizer, session_event
from lms.sessions.models import SessionTrainer, TrainingSession
from lms.sessions.signals import session_cancelled, session_changed, session_scheduled
from lms.settings.services import public_base_url


class InvitationKind(StrEnum):
    INVITATION = "session_invitation"
    UPDATE = "session_update"
    CANCELLATION = "session_cancelled"


@dataclass(frozen=True)
class Invitee:
    user: User
    chair: bool  # a trainer of the session


def when_text(starts_at: datetime, ends_at: datetime, zone_name: str, language: str) -> str:
    """For example "Saturday, 28 March 2026, 09:00-17:00", in the zone and language given."""
    zone = calendar.venue_zone(zone_name)
    start, end = starts_at.astimezone(zone), ends_at.astimezone(zone)
    if start.date() == end.date():
        day = format_date(start, "full", locale=language)
        hours = f"{format_time(start, 'short', locale=language)}–{format_time(end, 'short', locale=language)}"
        return f"{day}, {hours}"
    return (
        f"{format_datetime(start, 'medium', tzinfo=zone, locale=language)} – "
        f"{format_datetime(end, 'medium', tzinfo=zone, locale=language)}"
    )


def _subject(kind: InvitationKind, session: TrainingSession, run: CourseRun) -> str:
    subjects = {
        InvitationKind.INVITATION: _(
            "Invitation: %(session)s (%(run)s)", session=session.title, run=run.title
        ),
        InvitationKind.UPDATE: _("Updated: %(session)s (%(run)s)", session=session.title, run=run.title),
        InvitationKind.CANCELLATION: _(
            "Cancelled: %(session)s (%(run)s)", session=session.title, run=run.title
        ),
    }
    return subjects[kind]


def queue_session_mail(
    kind: InvitationKind,
    session: TrainingSession,
    invitee: Invitee,
    event: calendar.SessionEvent | None = None,
    *,
    sequence: int | None = None,
) -> None:
    """One person's message with its .ics, in their language (``event``: the session as a calendar
    event, made once for many recipients)."""
    user = invitee.user
    run = db.session.get(CourseRun, session.run_id)  # the identity map: read once for many recipients
    if run is None:
        return
    event = event or session_event(session)
    if sequence is not None:
        event = replace(event, sequence=sequence)
    person = calendar.Person(email=user.email, name=user.full_name)
    if kind == InvitationKind.CANCELLATION:
        ics = calendar.cancellation(event, person, organizer=organizer(), chair=invitee.chair)
    else:
        ics = calendar.invitation(event, person, organizer=organizer(), chair=invitee.chair)
    language = recipient_language(user.preferred_language)
    own_zone = user.timezone if user.timezone and user.timezone != session.timezone else None
    with force_locale(language):
        subject = _subject(kind, session, run)
        body = render_template(
            f"sessions/mail/{kind.value}.txt",
            user=user,
            run=run,
            session=session,
            venue=event.venue,
            when=when_text(session.starts_at, session.ends_at, session.timezone, language),
            own_zone=own_zone,
            own_when=when_text(session.starts_at, session.ends_at, own_zone, language) if own_zone else None,
            run_url=f"{public_base_url()}/runs/{run.id}",
        )
    queue_mail(user.email, subject, body, kind=kind.value, language=language, calendar_ics=ics)


def invitees(session: TrainingSession) -> list[Invitee]:
    """The run's participants (active places) and the session's trainers, each once (two queries)."""
    participants = db.session.scalars(
        select(User)
        .join(Enrolment, Enrolment.user_id == User.id)
        .where(Enrolment.run_id == session.run_id, Enrolment.status.in_(ACTIVE_STATUSES))
        .order_by(User.id)
    ).all()
    trainers = db.session.scalars(
        select(User)
        .join(SessionTrainer, SessionTrainer.user_id == User.id)
        .where(SessionTrainer.session_id == session.id)
        .order_by(User.id)
    ).all()
    found = {user.id: Invitee(user, chair=True) for user in trainers}
    for user in participants:
        found.setdefault(user.id, Invitee(user, chair=False))
    return [invitee for invitee in found.values() if invitee.user.active]


def _is_over(session: TrainingSession) -> bool:
    return session.ends_at <= utcnow()


def mail_everyone(kind: InvitationKind, session: TrainingSession) -> int:
    if _is_over(session):
        return 0
    people = invitees(session)
    event = session_event(session)
    for invitee in people:
        queue_session_mail(kind, session, invitee, event)
    return len(people)


@session_scheduled.connect
def _on_session_scheduled(session: TrainingSession, **_kwargs: Any) -> None:
    if session.cancelled_at is None:
        mail_everyone(InvitationKind.INVITATION, session)


@session_changed.connect
def _on_session_changed(session: TrainingSession, **_kwargs: Any) -> None:
    if session.cancelled_at is None:
        mail_everyone(InvitationKind.UPDATE, session)


@session_cancelled.connect
def _on_session_cancelled(session: TrainingSession, **_kwargs: Any) -> None:
    mail_everyone(InvitationKind.CANCELLATION, session)


def future_sessions(run_id: int) -> Iterable[TrainingSession]:
    return db.session.scalars(
        select(TrainingSession)
        .where(
            TrainingSession.run_id == run_id,
            TrainingSession.cancelled_at.is_(None),
            TrainingSession.ends_at > utcnow(),
        )
        .order_by(TrainingSession.starts_at, TrainingSession.id)
    ).all()


@place_taken.connect
def _on_place_taken(enrolment: Enrolment, **_kwargs: Any) -> None:
    """A new participant gets the invitations of the run's sessions still to come."""
    user = db.session.get(User, enrolment.user_id)
    if user is None or not user.active:
        return
    for session in future_sessions(enrolment.run_id):
        queue_session_mail(InvitationKind.INVITATION, session, Invitee(user, chair=False))


@places_written_in_bulk.connect
def _on_places_written_in_bulk(_sender: object, *, places: Iterable[int] = (), **_extra: object) -> None:
    """The CSV import's seats (``places``: the enrolment ids it wrote) get what place_taken brings: the
    invitations of their run's future sessions. Three queries, then one message per person and session."""
    ids = list(places)
    if not ids:
        return
    rows = db.session.execute(
        select(Enrolment.run_id, User)
        .join(User, User.id == Enrolment.user_id)
        .where(Enrolment.id.in_(ids), Enrolment.status == EnrolmentStatus.ENROLLED, User.active.is_(True))
        .order_by(Enrolment.id)
    ).all()
    by_run: dict[int, list[User]] = {}
    for run_id, user in rows:
        by_run.setdefault(run_id, []).append(user)
    for run_id, users in by_run.items():
        for session in future_sessions(run_id):
            event = session_event(session)
            for user in users:
                queue_session_mail(InvitationKind.INVITATION, session, Invitee(user, chair=False), event)


@place_released.connect
def _on_place_released(enrolment: Enrolment, *, previous: str | None = None, **_kwargs: Any) -> None:
    """A seat given up: its holder had the invitations of the run's future sessions; each gets a
    cancellation (one SEQUENCE above the session's, which moves past it). A person who
    never held a seat (a waiting place withdrawn) was invited to nothing; a trainer of a session keeps it."""
    if previous not in ACTIVE_STATUSES:
        return
    user = db.session.get(User, enrolment.user_id)
    if user is None or not user.active:
        return
    trains = set(
        db.session.scalars(
            select(SessionTrainer.session_id)
            .join(TrainingSession, TrainingSession.id == SessionTrainer.session_id)
            .where(SessionTrainer.user_id == user.id, TrainingSession.run_id == enrolment.run_id)
        )
    )
    for session in future_sessions(enrolment.run_id):
        if session.id not in trains:
            # The cancellation goes one SEQUENCE above the session's, and the session moves two: an
            # invitation sent later (the person takes a seat again) must carry a SEQUENCE above this
            # cancellation, or a calendar keeps the event cancelled (RFC 5546 3.2.5).
            cancelled_at_sequence = session.sequence + 1
            session.sequence += 2
            queue_session_mail(
                InvitationKind.CANCELLATION,
                session,
                Invitee(user, chair=False),
                sequence=cancelled_at_sequence,
            )
