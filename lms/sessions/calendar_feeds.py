"""Calendars from the database: a run's .ics, a person's subscription feed and its secret token.

Reads in a fixed number of queries (the sessions, then the countries they name); the documents are made
by the pure ``lms.sessions.calendar``. The feed's token is shown once; only its SHA-256 is stored
(``CalendarFeed.token_hash``), a new token replaces the old one, and an unknown or replaced token finds
nothing (docs/calendars-and-events.md).
"""

from __future__ import annotations

import hashlib
import secrets
from collections.abc import Sequence
from datetime import timedelta

from sqlalchemy import or_, select, update

from lms.audit.services import record_event
from lms.auth.models import Role, User
from lms.db import utcnow
from lms.enrolment.models import ACTIVE_STATUSES, CourseRun, Enrolment
from lms.extensions import db
from lms.orgs.models import Country
from lms.sessions.calendar import Person, SessionEvent, organizer_from_sender, published_calendar
from lms.sessions.models import CalendarFeed, SessionTrainer, TrainingSession
from lms.settings.services import get_settings, mail_sender

TOKEN_BYTES = 32  # 43 URL-safe characters
MAX_TOKEN_LENGTH = 100  # anything longer is not one of ours: refused before hashing
LAST_USED_PRECISION = timedelta(hours=1)  # a calendar polls often: note the use at most once an hour


# --- sessions as calendar events -------------------------------------------------------------------


def _country_names(sessions: Sequence[TrainingSession]) -> dict[str, str]:
    codes = {s.venue_country for s in sessions if s.venue_country}
    if not codes:
        return {}
    rows = db.session.execute(select(Country.code, Country.name).where(Country.code.in_(codes)))
    return {code: name for code, name in rows}


def venue_text(session: TrainingSession, countries: dict[str, str]) -> str:
    country = countries.get(session.venue_country or "", session.venue_country or "")
    parts = (session.venue_name, session.venue_address, session.venue_city, country)
    return ", ".join(" ".join(part.split()) for part in parts if part and part.strip())


def session_events(sessions: Sequence[TrainingSession]) -> list[SessionEvent]:
    countries = _country_names(sessions)
    return [session_event(session, countries) for session in sessions]


def session_event(session: TrainingSession, countries: dict[str, str] | None = None) -> SessionEvent:
    if countries is None:
        countries = _country_names([session])
    return SessionEvent(
        uid=session.uid,
        sequence=session.sequence,
        title=session.title,
        starts_at=session.starts_at,
        ends_at=session.ends_at,
        timezone=session.timezone,
        venue=venue_text(session, countries),
        meeting_url=session.meeting_url,
        agenda=session.agenda_md or "",
        cancelled=session.cancelled_at is not None,
        updated_at=session.updated_at,
    )


def organizer() -> Person:
    return organizer_from_sender(mail_sender())


def run_sessions(run_id: int) -> list[TrainingSession]:
    """Every session of the run, cancelled ones too (a subscribed calendar must learn of a cancellation)."""
    return list(
        db.session.scalars(
            select(TrainingSession)
            .where(TrainingSession.run_id == run_id)
            .order_by(TrainingSession.starts_at, TrainingSession.id)
        )
    )


def run_calendar(run: CourseRun, *, with_links: bool) -> str:
    title = f"{get_settings().academy_name}: {run.title}"
    events = session_events(run_sessions(run.id))
    return published_calendar(events, name=title, organizer=organizer(), with_links=with_links)


def feed_sessions(user_id: int) -> list[TrainingSession]:
    """The sessions of the person's active places and the sessions they train, in one query."""
    placed = select(Enrolment.run_id).where(
        Enrolment.user_id == user_id, Enrolment.status.in_(ACTIVE_STATUSES)
    )
    trains = select(SessionTrainer.session_id).where(SessionTrainer.user_id == user_id)
    return list(
        db.session.scalars(
            select(TrainingSession)
            .where(or_(TrainingSession.run_id.in_(placed), TrainingSession.id.in_(trains)))
            .order_by(TrainingSession.starts_at, TrainingSession.id)
        )
    )


def personal_calendar(user: User) -> str:
    events = session_events(feed_sessions(user.id))
    return published_calendar(
        events, name=get_settings().academy_name, organizer=organizer(), with_links=True
    )


def sees_meeting_links(user: User, run: CourseRun) -> bool:
    """An admin, a person with an active place in the run, or a trainer of one of its sessions. (The
    page adds the course's assigned trainers, which lms.authoring knows.)"""
    if user.has_role(Role.ADMIN):
        return True
    placed = select(Enrolment.id).where(
        Enrolment.run_id == run.id, Enrolment.user_id == user.id, Enrolment.status.in_(ACTIVE_STATUSES)
    )
    trains = (
        select(SessionTrainer.session_id)
        .join(TrainingSession, TrainingSession.id == SessionTrainer.session_id)
        .where(TrainingSession.run_id == run.id, SessionTrainer.user_id == user.id)
    )
    return bool(db.session.scalar(select(placed.exists() | trains.exists())))


# --- the subscription token ------------------------------------------------------------------------


def token_hash(token: str) -> str:
    return hashlib.sha256(token.encode("utf-8")).hexdigest()


def feed_of(user_id: int) -> CalendarFeed | None:
    return db.session.get(CalendarFeed, user_id)


def new_feed_token(user: User) -> str:
    """A new subscription token for the person; any earlier one stops working. Returned once: only its
    hash is kept."""
    token = secrets.token_urlsafe(TOKEN_BYTES)
    feed = feed_of(user.id)
    replaced = feed is not None
    if feed is None:
        feed = CalendarFeed(user_id=user.id, token_hash=token_hash(token))
        db.session.add(feed)
    else:
        feed.token_hash = token_hash(token)
        feed.created_at = utcnow()
        feed.last_used_at = None
    db.session.flush()
    action = "calendar_feed.replaced" if replaced else "calendar_feed.created"
    record_event(action, "calendar_feed", user.id, actor_id=user.id)
    return token


def remove_feed(user: User) -> bool:
    """Stop the person's subscription URL; False when there was none."""
    feed = feed_of(user.id)
    if feed is None:
        return False
    db.session.delete(feed)
    db.session.flush()
    record_event("calendar_feed.removed", "calendar_feed", user.id, actor_id=user.id)
    return True


def feed_by_token(token: str) -> CalendarFeed | None:
    if not token or len(token) > MAX_TOKEN_LENGTH:
        return None
    return db.session.scalar(select(CalendarFeed).where(CalendarFeed.token_hash == token_hash(token)))


def feed_use_is_due(feed: CalendarFeed) -> bool:
    return feed.last_used_at is None or feed.last_used_at <= utcnow() - LAST_USED_PRECISION


def note_feed_used(user_id: int) -> None:
    """Record when the feed was last fetched, at most once an hour (a conditional UPDATE: two calendars
    polling at once write it once)."""
    now = utcnow()
    db.session.execute(
        update(CalendarFeed)
        .where(
            CalendarFeed.user_id == user_id,
            or_(CalendarFeed.last_used_at.is_(None), CalendarFeed.last_used_at <= now - LAST_USED_PRECISION),
        )
        .values(last_used_at=now)
        .execution_options(synchronize_session=False)
    )
