"""iCalendar documents of sessions (RFC 5545 / iTIP RFC 5546), made with the ``icalendar`` library.

Pure: takes plain values (``SessionEvent``, ``Person``) and returns the document as text, so it is
tested without an app (docs/calendars-and-events.md). What goes in:

- one VEVENT per session: UID = the session's stable uid, SEQUENCE = the session's sequence (raised by
  every change that is mailed), DTSTART/DTEND in the venue's zone (TZID) with a VTIMEZONE for it, so a
  calendar shows the right local time on both sides of a daylight-saving change wherever it is opened;
- LOCATION: the venue, or the meeting link for an online session; the link (also in URL and
  DESCRIPTION) only when ``with_links`` (documents for participants and trainers, never a public one);
- DESCRIPTION: the agenda as plain text (its Markdown source reads as text);
- STATUS:CANCELLED for a cancelled session; ORGANIZER: the academy's mail sender; ATTENDEE for the
  person an invitation or cancellation is for.

Documents: a run's calendar and a personal feed (METHOD:PUBLISH), an invitation (METHOD:REQUEST, also
sent again as an update: same UID, higher SEQUENCE) and a cancellation (METHOD:CANCEL).
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from email.utils import parseaddr
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from icalendar import Calendar, Event, vCalAddress, vText
from icalendar.enums import STATUS

PRODID = "-//Academy LMS//Sessions//EN"


class Method:
    PUBLISH = "PUBLISH"
    REQUEST = "REQUEST"
    CANCEL = "CANCEL"


@dataclass(frozen=True)
class SessionEvent:
    """What a calendar says about one session (times aware, any zone; ``timezone`` the venue's IANA name)."""

    uid: str
    sequence: int
    title: str
    starts_at: datetime
    ends_at: datetime
    timezone: str
    venue: str  # name, address, city, country joined; "" for an online session
    meeting_url: str | None
    agenda: str
    cancelled: bool
    updated_at: datetime | None = None


@dataclass(frozen=True)
class Person:
    email: str
    name: str


def venue_zone(name: str) -> ZoneInfo:
    """The venue's zone; an unknown name (never stored by the forms) falls back to UTC."""
    try:
        return ZoneInfo(name or "UTC")
    except (ZoneInfoNotFoundError, ValueError):
        return ZoneInfo("UTC")


def _address(person: Person, **params: str) -> vCalAddress:
    address = vCalAddress(f"mailto:{person.email}")
    if person.name:
        address.params["CN"] = vText(person.name)
    for key, value in params.items():
        address.params[key.replace("_", "-").upper()] = value
    return address


def organizer_from_sender(sender: str) -> Person:
    """The academy's mail sender ("Academy LMS <no-reply@academy.local>") as the ORGANIZER."""
    name, email = parseaddr(sender)
    return Person(email=email or "no-reply@academy.local", name=name)


def _event(
    session: SessionEvent,
    *,
    with_links: bool,
    organizer: Person,
    attendees: Sequence[tuple[Person, str]],
    stamp: datetime,
) -> Event:
    zone = venue_zone(session.timezone)
    link = session.meeting_url if with_links else None
    location = session.venue or (link or "")
    description = session.agenda.strip()
    if link:
        description = f"{description}\n\n{link}".strip()
    event = Event.new(
        uid=session.uid,
        sequence=session.sequence,
        summary=session.title,
        start=session.starts_at.astimezone(zone),
        end=session.ends_at.astimezone(zone),
        stamp=stamp,
        status=STATUS.CANCELLED if session.cancelled else STATUS.CONFIRMED,
        description=description or None,
        location=location or None,
        url=link,
        last_modified=session.updated_at.astimezone(UTC) if session.updated_at else None,
    )
    event.add("organizer", _address(organizer))
    for person, role in attendees:
        event.add(
            "attendee",
            _address(person, role=role, partstat="NEEDS-ACTION", rsvp="FALSE", cutype="INDIVIDUAL"),
        )
    return event


def _calendar(
    method: str,
    sessions: Iterable[SessionEvent],
    *,
    with_links: bool,
    organizer: Person,
    attendees: Sequence[tuple[Person, str]] = (),
    name: str | None = None,
    now: datetime | None = None,
) -> str:
    stamp = (now or datetime.now(UTC)).astimezone(UTC).replace(microsecond=0)
    calendar = Calendar()
    calendar.add("prodid", PRODID)
    calendar.add("version", "2.0")
    calendar.add("calscale", "GREGORIAN")
    calendar.add("method", method)
    if name:
        calendar.add("x-wr-calname", name)
    first: date | None = None
    last: date | None = None
    for session in sessions:
        calendar.add_component(
            _event(session, with_links=with_links, organizer=organizer, attendees=attendees, stamp=stamp)
        )
        start, end = session.starts_at.date(), session.ends_at.date()
        first = start if first is None or start < first else first
        last = end if last is None or end > last else last
    if first is not None and last is not None:
        # The zone's rules over the sessions' span (with a year's margin), not 1970-2038: a feed stays small.
        calendar.add_missing_timezones(
            first_date=first - timedelta(days=366), last_date=last + timedelta(days=366)
        )
    return calendar.to_ical().decode("utf-8")


def published_calendar(
    sessions: Iterable[SessionEvent],
    *,
    name: str,
    organizer: Person,
    with_links: bool,
    now: datetime | None = None,
) -> str:
    """A run's calendar or a person's feed (METHOD:PUBLISH): no attendees, nothing to answer."""
    return _calendar(Method.PUBLISH, sessions, with_links=with_links, organizer=organizer, name=name, now=now)


def invitation(
    session: SessionEvent,
    attendee: Person,
    *,
    organizer: Person,
    chair: bool = False,
    now: datetime | None = None,
) -> str:
    """METHOD:REQUEST for one person; sent again with the session's raised SEQUENCE as an update."""
    role = "CHAIR" if chair else "REQ-PARTICIPANT"
    return _calendar(
        Method.REQUEST, [session], with_links=True, organizer=organizer, attendees=[(attendee, role)], now=now
    )


def cancellation(
    session: SessionEvent,
    attendee: Person,
    *,
    organizer: Person,
    chair: bool = False,
    now: datetime | None = None,
) -> str:
    """METHOD:CANCEL for one person: the event with STATUS:CANCELLED and its raised SEQUENCE."""
    role = "CHAIR" if chair else "REQ-PARTICIPANT"
    cancelled = SessionEvent(**{**session.__dict__, "cancelled": True})
    return _calendar(
        Method.CANCEL,
        [cancelled],
        with_links=False,
        organizer=organizer,
        attendees=[(attendee, role)],
        now=now,
    )


def method_of(ics: str) -> str | None:
    """The METHOD of a document (for the mail part's ``method`` parameter), or None."""
    for line in ics.splitlines():
        if line.upper().startswith("METHOD:"):
            return line.partition(":")[2].strip().upper() or None
    return None
