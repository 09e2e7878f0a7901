"""A session across midnight (20:00-01:00 at the venue) is one session: typed on the form, shown with both
days, counted whole in the attendance minutes (issue 20)."""

from __future__ import annotations

from collections.abc import Callable
from datetime import date, datetime, timedelta

from flask import Flask
from sqlalchemy import select

from lms.auth.models import Role, User
from lms.db import utcnow
from lms.extensions import db
from lms.sessions.attendance import record_attendance
from lms.sessions.models import AttendanceSource, TrainingSession
from lms.sessions.services import schedule_session
from tests.enrolment_support import UserClient, make_course
from tests.sessions_support import CHISINAU, in_person, place, workshop_run

DAY = date(2027, 6, 7)  # summer: Chisinau +03:00


def test_the_form_takes_an_evening_session_until_one_in_the_morning(
    app: Flask, make_user: Callable[..., User]
) -> None:
    run = workshop_run(make_course(), DAY, days=2)
    admin = UserClient(app, make_user(Role.ADMIN, timezone=CHISINAU))
    data = {
        "title": "Night shift at the border crossing", "day": (DAY + timedelta(days=1)).isoformat(),
        "starts_at": "20:00", "ends_at": "01:00", "timezone": CHISINAU, "format": "in_person",
        "venue_name": "Leușeni crossing point", "venue_city": "Leușeni", "venue_country": "", "agenda": "",
    }  # fmt: skip
    response = admin.post(f"/runs/{run.id}/sessions/new", data=data)
    assert response.status_code == 302, response.get_data(as_text=True)
    db.session.rollback()
    session = db.session.scalar(select(TrainingSession).where(TrainingSession.run_id == run.id))
    assert session is not None and session.minutes == 300  # on the run's last day, into the next
    page = admin.get(f"/runs/{run.id}").get_data(as_text=True)
    assert "Jun 8, 2027, 8:00\u202fPM – Jun 9, 2027, 1:00\u202fAM" in page
    edit = admin.get(f"/sessions/{session.id}/edit").get_data(as_text=True)
    assert 'value="2027-06-08"' in edit and 'value="20:00"' in edit and 'value="01:00"' in edit
    data["title"] = "Night shift, renamed"
    assert admin.post(f"/sessions/{session.id}/edit", data=data).status_code == 302  # saved as it was shown
    db.session.rollback()
    assert db.session.get(TrainingSession, session.id).minutes == 300  # type: ignore[union-attr]


def test_attendance_counts_the_whole_night(app: Flask, make_user: Callable[..., User]) -> None:
    past = utcnow().date() - timedelta(days=10)
    run = workshop_run(make_course(), past, days=1, completion_requires_lessons=False)
    evening = datetime.combine(past, datetime.min.time()).replace(hour=20)
    session = schedule_session(
        run, in_person(past, starts_local=evening, ends_local=evening + timedelta(hours=5)), actor_id=None
    )
    trainee = make_user()
    enrolment = place(trainee, run)
    record_attendance(session, enrolment, "present", source=AttendanceSource.ROLL_CALL, actor_id=None)
    db.session.commit()
    assert session.minutes == 300 and run.session_minutes == 300
    assert enrolment.attended_minutes == 300
