"""GDPR and the sessions feature (issue 20): a person's data export holds their participant details,
their attendance and their calendar feed (never its token); erasure removes the passport data and needs
and the feed, and keeps the register's counts."""

from __future__ import annotations

import json
from collections.abc import Callable
from datetime import date

from flask import Flask
from sqlalchemy import select

from lms.auth.models import Role, User
from lms.enrolment import self_service
from lms.enrolment.models import CourseRun
from lms.extensions import db
from lms.sessions.attendance import record_attendance
from lms.sessions.models import (
    Attendance,
    AttendanceSource,
    CalendarFeed,
    ParticipantDetails,
    TrainingSession,
)
from tests.enrolment_support import UserClient
from tests.test_calendar import make_feed
from tests.test_events import event_run  # noqa: F401  # the fixture

DETAILS = {
    "passport_name": "NINO BERIDZE",
    "passport_number": "13AB45678",
    "nationality": "GE",
    "date_of_birth": date(1990, 4, 2),
    "dietary_needs": "vegetarian",
    "accessibility_needs": "step-free access",
}


def test_the_export_and_the_erasure(
    app: Flask,
    event_run: CourseRun,  # noqa: F811
    make_user: Callable[..., User],
) -> None:
    nino, admin = make_user(given_name="Nino"), make_user(Role.ADMIN)
    enrolment = self_service.self_enrol(nino, event_run)
    db.session.add(ParticipantDetails(enrolment_id=enrolment.id, attendance_mode="in_person", **DETAILS))
    session = db.session.scalar(select(TrainingSession).where(TrainingSession.run_id == event_run.id))
    assert session is not None
    record_attendance(
        session, enrolment, "late", minutes=300, source=AttendanceSource.ROLL_CALL, actor_id=admin.id
    )
    db.session.commit()
    token = make_feed(app, nino)
    client = UserClient(app, nino)
    text = client.get("/account/data.json").get_data(as_text=True)
    data = json.loads(text)
    [details] = data["participant_details"]
    assert details["passport_number"] == "13AB45678" and details["dietary_needs"] == "vegetarian"
    assert details["date_of_birth"] == "1990-04-02" and details["run"] == event_run.title
    [mark] = data["attendance"]
    assert (mark["session"], mark["status"], mark["minutes"]) == ("Day 1", "late", 300)
    [feed] = data["calendar_feeds"]
    assert feed["created_at"] and token not in text
    feed_row = db.session.get(CalendarFeed, nino.id)
    assert feed_row is not None and feed_row.token_hash not in text

    admin_client = UserClient(app, admin)
    assert admin_client.post(f"/admin/people/{nino.id}/erase", data={"reason": "Request"}).status_code == 302
    db.session.rollback()
    kept = db.session.get(ParticipantDetails, enrolment.id)
    assert kept is not None and kept.erased_at is not None and kept.attendance_mode == "in_person"
    assert all(getattr(kept, name) is None for name in DETAILS)
    assert db.session.get(CalendarFeed, nino.id) is None
    assert app.test_client().get(f"/calendar/{token}.ics").status_code == 404
    register = db.session.scalar(select(Attendance).where(Attendance.enrolment_id == enrolment.id))
    assert register is not None and register.minutes == 300  # the participant-days keep their count
