"""Calendar mail when places come and go outside the one-by-one path (issue 20): a seat given up
(withdrawn, rejected) brings METHOD:CANCEL for the run's future sessions; the CSV import's seats bring
the invitations, as place_taken does."""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

from flask import Flask
from icalendar import Calendar
from sqlalchemy import select

from lms.auth.models import Role, User
from lms.db import utcnow
from lms.enrolment import bulk_import, import_snapshot, nominations, self_service
from lms.enrolment.csv_import import parse_csv
from lms.enrolment.models import EnrolmentMethod
from lms.extensions import db
from lms.notifications.models import OutgoingMail
from lms.orgs.models import Authority
from lms.sessions import calendar as ics
from tests.enrolment_support import make_course, make_run
from tests.test_calendar import add_session

CHISINAU = ZoneInfo("Europe/Chisinau")


def calendar_mail(recipient: str) -> list[OutgoingMail]:
    return list(
        db.session.scalars(
            select(OutgoingMail)
            .where(OutgoingMail.recipient == recipient, OutgoingMail.calendar_ics.is_not(None))
            .order_by(OutgoingMail.id)
        )
    )


def test_a_withdrawn_or_rejected_seat_gets_the_cancellations(
    app: Flask, make_user: Callable[..., User]
) -> None:
    run = make_run(make_course(), EnrolmentMethod.OPEN, modality="in_person")
    soon = datetime.now(CHISINAU) + timedelta(days=5)
    future = [add_session(run, soon), add_session(run, soon + timedelta(days=1), sequence=3)]
    add_session(run, datetime.now(CHISINAU) - timedelta(days=2))  # over: no message
    add_session(run, soon + timedelta(days=2), cancelled_at=utcnow())  # cancelled already
    anna, boris, admin = make_user(), make_user(), make_user(Role.ADMIN)
    places = [self_service.self_enrol(anna, run), self_service.self_enrol(boris, run)]
    nominations.withdraw(places[0], anna)
    nominations.reject(places[1], admin, "Not eligible")
    for person in (anna, boris):
        mails = calendar_mail(person.email)
        assert [ics.method_of(m.calendar_ics or "") for m in mails] == ["REQUEST"] * 2 + ["CANCEL"] * 2
        requests = [Calendar.from_ical(m.calendar_ics or "").events[0] for m in mails[:2]]
        cancels = [Calendar.from_ical(m.calendar_ics or "").events[0] for m in mails[2:]]
        assert [str(e["UID"]) for e in cancels] == [s.uid for s in future]
        assert all(int(c["SEQUENCE"]) > int(r["SEQUENCE"]) for r, c in zip(requests, cancels, strict=True))
        assert all(m.kind == "session_cancelled" for m in mails[2:])


def test_a_seat_taken_again_is_invited_above_its_cancellation(
    app: Flask, make_user: Callable[..., User]
) -> None:
    """A calendar ignores a REQUEST whose SEQUENCE is not above the CANCEL it holds (RFC 5546)."""
    run = make_run(make_course(), EnrolmentMethod.OPEN, modality="in_person")
    session = add_session(run, datetime.now(CHISINAU) + timedelta(days=5))
    anna = make_user()
    nominations.withdraw(self_service.self_enrol(anna, run), anna)
    self_service.self_enrol(anna, run)
    events = [Calendar.from_ical(m.calendar_ics or "").events[0] for m in calendar_mail(anna.email)]
    assert [ics.method_of(m.calendar_ics or "") for m in calendar_mail(anna.email)] == [
        "REQUEST",
        "CANCEL",
        "REQUEST",
    ]
    first, cancel, again = (int(event["SEQUENCE"]) for event in events)
    assert first < cancel < again
    assert {str(event["UID"]) for event in events} == {session.uid}


def test_a_pending_place_withdrawn_was_invited_to_nothing(app: Flask, make_user: Callable[..., User]) -> None:
    run = make_run(make_course(), EnrolmentMethod.REQUEST, modality="in_person")
    add_session(run, datetime.now(CHISINAU) + timedelta(days=5))
    trainee = make_user()
    nominations.withdraw(self_service.request_place(trainee, run), trainee)
    assert calendar_mail(trainee.email) == []


def test_the_csv_import_seats_get_the_invitations(
    app: Flask, make_user: Callable[..., User], make_authority: Callable[..., Authority]
) -> None:
    make_authority("UA", code="ua-sbgs", name="State Border Guard Service of Ukraine")
    run = make_run(make_course(), EnrolmentMethod.NOMINATION, modality="in_person")
    soon = datetime.now(CHISINAU) + timedelta(days=5)
    future = [add_session(run, soon), add_session(run, soon + timedelta(days=1))]
    add_session(run, datetime.now(CHISINAU) - timedelta(days=2))
    db.session.commit()
    admin = make_user(Role.ADMIN)
    text = (
        "email,given_name,family_name,native_name,country,authority,position,sex,birth_year_band\n"
        "olha@dpsu.example.org,Olha,Tkachenko,,UA,ua-sbgs,Inspector,female,1990-1999\n"
        "serhiy@dpsu.example.org,Serhiy,Bondar,,UA,ua-sbgs,Inspector,male,1980-1989\n"
    )
    report = bulk_import.import_trainees(
        admin, run, parse_csv(text.encode()), import_snapshot.ImportMode.ENROL, "Cohort", dry_run=False
    )
    db.session.commit()
    assert report.written and not report.problems
    for email in ("olha@dpsu.example.org", "serhiy@dpsu.example.org"):
        mails = calendar_mail(email)
        assert [m.kind for m in mails] == ["session_invitation"] * 2
        uids = [str(Calendar.from_ical(m.calendar_ics or "").events[0]["UID"]) for m in mails]
        assert uids == [s.uid for s in future]


def test_nominations_by_csv_invite_nobody_until_approved(
    app: Flask, make_user: Callable[..., User], make_authority: Callable[..., Authority]
) -> None:
    make_authority("UA", code="ua-sbgs", name="State Border Guard Service of Ukraine")
    run = make_run(make_course(), EnrolmentMethod.NOMINATION, modality="in_person")
    add_session(run, datetime.now(CHISINAU) + timedelta(days=5))
    db.session.commit()
    admin = make_user(Role.ADMIN)
    text = "email,given_name,family_name,country,authority\nolha@dpsu.example.org,Olha,Tkachenko,UA,ua-sbgs\n"
    bulk_import.import_trainees(
        admin, run, parse_csv(text.encode()), import_snapshot.ImportMode.NOMINATE, "Cohort", dry_run=False
    )
    db.session.commit()
    assert calendar_mail("olha@dpsu.example.org") == []
