"""Calendars (issue 20): the .ics documents, invitation mail with text/calendar, the run calendar and the
personal feed with its secret token. Sessions are made with the ORM and the sessions' signals sent here
(their services are written elsewhere), exactly as lms.sessions.services sends them."""

from __future__ import annotations

import uuid
from collections.abc import Callable, Iterator
from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from flask import Flask
from icalendar import Calendar
from sqlalchemy import event, select

from lms.audit.models import AuditRecord
from lms.auth.models import Role, User
from lms.db import utcnow
from lms.enrolment import nominations, self_service
from lms.enrolment.models import CourseRun, EnrolmentMethod, EnrolmentStatus
from lms.extensions import db
from lms.notifications.models import OutgoingMail
from lms.sessions import calendar as ics
from lms.sessions import calendar_feeds, invitations
from lms.sessions.models import CalendarFeed, SessionTrainer, TrainingSession
from lms.sessions.signals import session_cancelled, session_changed, session_scheduled
from tests.conftest_mail import Inbox, smtp_server
from tests.enrolment_support import UserClient, make_course, make_run

CHISINAU = ZoneInfo("Europe/Chisinau")
TBILISI = ZoneInfo("Asia/Tbilisi")
SECRET_LINK = "https://meet.example.org/secret-room-42"


def add_session(run: CourseRun, starts_at: datetime, hours: int = 3, **fields: object) -> TrainingSession:
    values: dict[str, object] = {
        "run_id": run.id,
        "title": "Risk analysis workshop",
        "starts_at": starts_at.astimezone(UTC),
        "ends_at": (starts_at + timedelta(hours=hours)).astimezone(UTC),
        "timezone": "Europe/Chisinau",
        "venue_name": "Border Academy, room 2",
        "venue_city": "Chisinau",
        "meeting_url": SECRET_LINK,
        "agenda_md": "- Document checks\n- Risk profiles",
        "uid": f"{uuid.uuid4()}@academy.test",
        "check_in_secret": "x" * 32,
    }
    values.update(fields)
    session = TrainingSession(**values)
    db.session.add(session)
    db.session.flush()
    return session


def parse(text: str | bytes) -> Calendar:
    return Calendar.from_ical(text)


@pytest.fixture
def run(app: Flask) -> CourseRun:
    return make_run(make_course(), EnrolmentMethod.OPEN, modality="in_person")


# --- the documents (pure) ---------------------------------------------------------------------------


def event_at(starts: datetime, ends: datetime, **fields: object) -> ics.SessionEvent:
    values: dict[str, object] = {
        "uid": "s1@academy.test", "sequence": 0, "title": "Day 1", "starts_at": starts, "ends_at": ends,
        "timezone": "Europe/Chisinau", "venue": "Room 2, Chisinau", "meeting_url": SECRET_LINK,
        "agenda": "Opening", "cancelled": False,
    }  # fmt: skip
    values.update(fields)
    return ics.SessionEvent(**values)  # type: ignore[arg-type]


def test_a_chisinau_session_seen_from_tbilisi_across_the_dst_change() -> None:
    """Moldova moves to summer time on 29 March 2026 (03:00 -> 04:00); Georgia has none (UTC+4).
    A session on each side: the .ics says 09:00 in Chisinau for both, which is 11:00 then 10:00 in Tbilisi."""
    before = event_at(datetime(2026, 3, 28, 9, tzinfo=CHISINAU), datetime(2026, 3, 28, 17, tzinfo=CHISINAU))
    after = event_at(
        datetime(2026, 3, 30, 9, tzinfo=CHISINAU), datetime(2026, 3, 30, 17, tzinfo=CHISINAU), uid="s2@a"
    )
    text = ics.published_calendar(
        [before, after], name="Workshop", organizer=ics.Person("n@a.test", "Academy"), with_links=False
    )
    assert "DTSTART;TZID=Europe/Chisinau:20260328T090000" in text
    assert "DTSTART;TZID=Europe/Chisinau:20260330T090000" in text
    parsed = parse(text)
    assert [tz.tz_name for tz in parsed.timezones] == ["Europe/Chisinau"]  # a VTIMEZONE for the venue
    starts = [event.start for event in parsed.events]
    assert starts[0] == before.starts_at and starts[1] == after.starts_at  # the same instants
    assert [s.astimezone(TBILISI).hour for s in starts] == [11, 10]
    assert [s.astimezone(UTC).hour for s in starts] == [7, 6]
    # the VTIMEZONE alone (not the zoneinfo database) gives the right offsets on both sides of the change
    rules = parsed.timezones[0].to_ical().decode()
    assert "TZOFFSETTO:+0300" in rules and "TZOFFSETTO:+0200" in rules


def test_public_documents_never_carry_the_meeting_link() -> None:
    online = event_at(
        datetime(2026, 5, 4, 10, tzinfo=CHISINAU), datetime(2026, 5, 4, 12, tzinfo=CHISINAU), venue=""
    )
    organizer = ics.Person("n@a.test", "Academy")
    public = ics.published_calendar([online], name="x", organizer=organizer, with_links=False)
    private = ics.published_calendar([online], name="x", organizer=organizer, with_links=True)
    assert SECRET_LINK not in public.replace("\r\n ", "")
    assert SECRET_LINK in private.replace("\r\n ", "")
    assert str(parse(private).events[0]["LOCATION"]) == SECRET_LINK  # an online session's place is its link


def test_invitation_update_and_cancellation() -> None:
    event = event_at(datetime(2026, 5, 4, 10, tzinfo=CHISINAU), datetime(2026, 5, 4, 12, tzinfo=CHISINAU))
    anna = ics.Person("anna@agency.test", "Anna Петренко")
    organizer = ics.organizer_from_sender("Border Academy <no-reply@academy.test>")
    first = parse(ics.invitation(event, anna, organizer=organizer))
    moved = ics.SessionEvent(
        **{**event.__dict__, "sequence": 1, "starts_at": event.starts_at + timedelta(hours=1)}
    )
    update = parse(ics.invitation(moved, anna, organizer=organizer))
    cancel = parse(
        ics.cancellation(ics.SessionEvent(**{**moved.__dict__, "sequence": 2}), anna, organizer=organizer)
    )
    assert [str(c["METHOD"]) for c in (first, update, cancel)] == ["REQUEST", "REQUEST", "CANCEL"]
    assert {c.events[0]["UID"] for c in (first, update, cancel)} == {"s1@academy.test"}
    assert [int(c.events[0]["SEQUENCE"]) for c in (first, update, cancel)] == [0, 1, 2]
    assert str(cancel.events[0]["STATUS"]) == "CANCELLED"
    attendee = first.events[0]["ATTENDEE"]
    assert str(attendee) == "mailto:anna@agency.test" and attendee.params["CN"] == "Anna Петренко"
    assert str(first.events[0]["ORGANIZER"]) == "mailto:no-reply@academy.test"
    assert ics.method_of(ics.cancellation(event, anna, organizer=organizer)) == "CANCEL"


# --- invitation mail --------------------------------------------------------------------------------


@pytest.fixture
def inbox(app: Flask) -> Iterator[Inbox]:
    with smtp_server(app, run_jobs_at_once=False) as received:
        yield received


def test_scheduling_changing_and_cancelling_mail_every_participant(
    app: Flask, run: CourseRun, make_user: Callable[..., User], inbox: Inbox
) -> None:
    anna = make_user(preferred_language="ru", timezone="Asia/Tbilisi", given_name="Анна")
    trainer = make_user(Role.TRAINER)
    outsider = make_user()
    self_service.self_enrol(anna, run)
    soon = datetime.now(CHISINAU).replace(microsecond=0) + timedelta(days=10)
    session = add_session(run, soon)
    db.session.add(SessionTrainer(session_id=session.id, user_id=trainer.id))
    db.session.flush()
    session_scheduled.send(session)
    session.starts_at += timedelta(hours=1)
    session.ends_at += timedelta(hours=1)
    session.sequence += 1
    session_changed.send(session, changed=["starts_at", "ends_at"])
    session.cancelled_at = utcnow()
    session.sequence += 1
    session_cancelled.send(session)
    db.session.commit()
    mails = db.session.scalars(select(OutgoingMail).order_by(OutgoingMail.id)).all()
    assert {m.recipient for m in mails} == {anna.email, trainer.email}
    assert outsider.email not in {m.recipient for m in mails}
    to_anna = [m for m in mails if m.recipient == anna.email]
    assert [ics.method_of(m.calendar_ics or "") for m in to_anna] == ["REQUEST", "REQUEST", "CANCEL"]
    sequences = [int(parse(m.calendar_ics or "").events[0]["SEQUENCE"]) for m in to_anna]
    assert sequences == [0, 1, 2]
    assert to_anna[0].language == "ru"
    assert "Asia/Tbilisi" in to_anna[0].body  # her own zone beside the venue's
    from lms.notifications.services import send_due_mail

    sent, failed = send_due_mail()
    assert (sent, failed) == (6, 0)
    message = inbox.to(anna.email)[0]
    assert message.get_content_type() == "multipart/mixed"
    calendar_part = next(p for p in message.walk() if p.get_content_type() == "text/calendar")
    assert calendar_part.get_param("method") == "REQUEST"
    assert parse(calendar_part.get_content()).events[0]["UID"] == session.uid
    attachment = next(p for p in message.walk() if p.get_filename() == "invite.ics")
    assert b"BEGIN:VCALENDAR" in attachment.get_content()
    assert Inbox.body(message)  # the text part is there for clients without calendars
    cancelled = inbox.to(anna.email)[2]
    part = next(p for p in cancelled.walk() if p.get_content_type() == "text/calendar")
    assert part.get_param("method") == "CANCEL"
    db.session.rollback()
    assert all(m.calendar_ics is None for m in db.session.scalars(select(OutgoingMail)))  # gone once sent


def test_a_session_already_over_mails_nobody(
    app: Flask, run: CourseRun, make_user: Callable[..., User]
) -> None:
    self_service.self_enrol(make_user(), run)
    session = add_session(run, datetime.now(CHISINAU) - timedelta(days=3))
    session_scheduled.send(session)
    assert db.session.scalar(select(db.func.count()).select_from(OutgoingMail)) == 0


def test_a_new_place_brings_the_invitations_of_future_sessions(
    app: Flask, make_user: Callable[..., User]
) -> None:
    run = make_run(make_course(), EnrolmentMethod.REQUEST, modality="in_person")
    soon = datetime.now(CHISINAU) + timedelta(days=5)
    future = [add_session(run, soon), add_session(run, soon + timedelta(days=1))]
    add_session(run, soon + timedelta(days=2), cancelled_at=utcnow())
    add_session(run, datetime.now(CHISINAU) - timedelta(days=2))
    trainee, admin = make_user(), make_user(Role.ADMIN)
    enrolment = self_service.request_place(trainee, run)
    assert db.session.scalar(select(db.func.count()).select_from(OutgoingMail).where(
        OutgoingMail.kind == "session_invitation")) == 0  # fmt: skip
    nominations.approve(enrolment, admin, None)
    assert enrolment.status == EnrolmentStatus.ENROLLED
    invitations = db.session.scalars(
        select(OutgoingMail).where(
            OutgoingMail.kind == "session_invitation", OutgoingMail.recipient == trainee.email
        )
    ).all()
    uids = sorted(parse(m.calendar_ics or "").events[0]["UID"] for m in invitations)
    assert uids == sorted(s.uid for s in future)


# --- the run calendar and the feed (pages) ----------------------------------------------------------


def signed_in(app: Flask, user: User) -> UserClient:
    db.session.rollback()
    return UserClient(app, user)


def test_the_run_calendar_gives_the_link_to_participants_only(
    app: Flask, run: CourseRun, make_user: Callable[..., User], make_trainer: Callable[..., User]
) -> None:
    participant, other_trainee = make_user(), make_user()
    focal_elsewhere = make_user(Role.FOCAL_POINT)
    own_trainer = make_trainer(run.course)
    other_course = make_course(slug="other-course")
    other_trainer = make_trainer(other_course)
    self_service.self_enrol(participant, run)
    add_session(run, datetime.now(CHISINAU) + timedelta(days=3), format="hybrid")
    db.session.commit()
    run_id = run.id
    url = f"/runs/{run_id}/calendar.ics"
    assert url in signed_in(app, participant).get(f"/runs/{run_id}").get_data(
        as_text=True
    )  # the run page links it
    for person in (participant, own_trainer, make_user(Role.ADMIN)):
        response = signed_in(app, person).get(url)
        assert response.status_code == 200 and response.mimetype == "text/calendar"
        assert SECRET_LINK in response.get_data(as_text=True).replace("\r\n ", ""), person.email
    for person in (other_trainee, focal_elsewhere, other_trainer):
        response = signed_in(app, person).get(url)
        assert response.status_code == 200
        text = response.get_data(as_text=True)
        assert SECRET_LINK not in text.replace("\r\n ", "")
        assert parse(text).events[0]["SUMMARY"] == "Risk analysis workshop"
    db.session.get(CourseRun, run_id).course.is_published = False
    db.session.commit()
    assert signed_in(app, other_trainee).get(url).status_code == 404  # not in the catalogue: nothing
    assert signed_in(app, participant).get(url).status_code == 200
    assert app.test_client().get(url).status_code == 302  # anonymous: sign in first
    assert signed_in(app, participant).get("/runs/999999/calendar.ics").status_code == 404
    assert signed_in(app, participant).get("/runs/99999999999999999/calendar.ics").status_code == 404


def make_feed(app: Flask, user: User) -> str:
    client = signed_in(app, user)
    page = client.post("/account/calendar").get_data(as_text=True)
    marker = "/calendar/"
    start = page.index(marker, page.index("https://") if "https://" in page else page.index("http://"))
    return page[start + len(marker) : page.index(".ics", start)]


def test_the_personal_feed(app: Flask, run: CourseRun, make_user: Callable[..., User]) -> None:
    anna, boris = make_user(), make_user()
    self_service.self_enrol(anna, run)
    mine = add_session(run, datetime.now(CHISINAU) + timedelta(days=3), title="Anna's day")
    other_run = make_run(make_course(slug="second"), EnrolmentMethod.OPEN)
    self_service.self_enrol(boris, other_run)
    add_session(other_run, datetime.now(CHISINAU) + timedelta(days=4), title="Boris's day")
    trained = add_session(other_run, datetime.now(CHISINAU) + timedelta(days=5), title="Anna trains")
    db.session.add(SessionTrainer(session_id=trained.id, user_id=anna.id))
    db.session.commit()
    anna_id = anna.id

    token = make_feed(app, anna)
    client = app.test_client()  # a calendar app: no cookie
    response = client.get(f"/calendar/{token}.ics")
    assert response.status_code == 200
    titles = sorted(str(e["SUMMARY"]) for e in parse(response.data).events)
    assert titles == ["Anna trains", "Anna's day"]  # Boris's session is not hers
    assert SECRET_LINK in response.get_data(as_text=True).replace("\r\n ", "")
    db.session.rollback()
    feed = db.session.get(CalendarFeed, anna_id)
    assert feed is not None and feed.last_used_at is not None
    assert feed.token_hash == calendar_feeds.token_hash(token) and token not in feed.token_hash
    first_use = feed.last_used_at
    client.get(f"/calendar/{token}.ics")
    db.session.rollback()
    assert db.session.get(CalendarFeed, anna_id).last_used_at == first_use  # at most once an hour

    replacement = make_feed(app, db.session.get(User, anna_id))
    assert client.get(f"/calendar/{token}.ics").status_code == 404  # the replaced token is dead
    assert client.get(f"/calendar/{replacement}.ics").status_code == 200
    for odd in ("no-such-token", "x" * 500, "é", "a.b"):
        assert client.get(f"/calendar/{odd}.ics").status_code == 404
    assert client.get("/calendar/%00.ics").status_code in (400, 404)
    signed_in(app, db.session.get(User, anna_id)).post("/account/calendar/remove")
    assert client.get(f"/calendar/{replacement}.ics").status_code == 404
    actions = db.session.scalars(
        select(AuditRecord.action).where(AuditRecord.subject_type == "calendar_feed")
    )
    assert list(actions) == ["calendar_feed.created", "calendar_feed.replaced", "calendar_feed.removed"]
    assert mine.uid  # the session is still there: removing the feed touches nothing else


def test_the_subscription_page(app: Flask, make_user: Callable[..., User]) -> None:
    anna = make_user()
    client = signed_in(app, anna)
    assert "Make my subscription URL" in client.get("/account/calendar").get_data(as_text=True)
    page = client.post("/account/calendar").get_data(as_text=True)
    assert "webcal://" in page and "/calendar/" in page
    again = client.get("/account/calendar").get_data(as_text=True)
    assert "webcal://" not in again and "Replace the URL" in again  # shown once
    assert app.test_client().get("/account/calendar").status_code == 302
    assert app.test_client().post("/account/calendar").status_code == 302


def count_statements(action: Callable[[], object]) -> int:
    statements: list[str] = []

    def record(*args: object) -> None:
        statements.append(str(args[2]))

    event.listen(db.engine, "before_cursor_execute", record)
    try:
        action()
    finally:
        event.remove(db.engine, "before_cursor_execute", record)
    return len(statements)


def test_the_feed_and_the_invitations_read_in_a_fixed_number_of_queries(
    app: Flask, make_user: Callable[..., User]
) -> None:
    """The feed reads its sessions and their countries in two queries, however many sessions; the mail
    to everyone in a session reads its people in two (the rest are the messages' own INSERTs)."""
    counts = []
    for size in (2, 6):
        run = make_run(make_course(slug=f"c{size}"), EnrolmentMethod.OPEN)
        people = [make_user() for _ in range(size)]
        for person in people:
            self_service.self_enrol(person, run)
        soon = datetime.now(CHISINAU) + timedelta(days=3)
        sessions = [add_session(run, soon + timedelta(days=day), venue_country="UA") for day in range(size)]
        db.session.commit()
        calendar_feeds.personal_calendar(people[0])  # the academy's settings are read once per process
        db.session.expire_all()
        feed = count_statements(lambda person=people[0]: calendar_feeds.personal_calendar(person))
        db.session.expire_all()
        mailing = count_statements(lambda session=sessions[0]: invitations.mail_everyone(
            invitations.InvitationKind.INVITATION, session))  # fmt: skip
        db.session.rollback()
        counts.append((feed, mailing - size))  # one INSERT per message
    assert counts[0] == counts[1], counts
