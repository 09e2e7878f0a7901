"""How sessions read on the pages (issue 20): the venue is one isolate (its comma stays put in Arabic), the
focal point sees one card per session with their staff in it, the dashboard's next session gives the run
and the place on lines of their own."""

from __future__ import annotations

from collections.abc import Callable
from datetime import date
from typing import Any

from flask import Flask

from lms.auth.models import Role, User
from lms.enrolment import self_service
from lms.extensions import db
from lms.sessions.services import schedule_session
from tests.enrolment_support import UserClient, make_course
from tests.sessions_support import in_person, workshop_run

DAY = date(2038, 6, 7)  # far ahead: the session must still be the next one whenever the suite runs
VENUE = '<bdi dir="auto" class="session-venue">Hotel Codru, conference hall, Chișinău</bdi>'


def test_the_venue_line_the_focal_point_cards_and_the_next_session(
    app: Flask, make_user: Callable[..., User], make_authority: Callable[..., Any]
) -> None:
    run = workshop_run(make_course(), DAY, days=2)
    schedule_session(run, in_person(DAY), actor_id=None)
    schedule_session(run, in_person(DAY, 14, 16, title="Afternoon"), actor_id=None)
    home = make_authority()
    ion = make_user(
        Role.TRAINEE, authority=home, given_name="Ion", family_name="Rusu", preferred_language="ar"
    )
    ana = make_user(Role.TRAINEE, authority=home, given_name="Ana", family_name="Ceban")
    for person in (ion, ana):
        self_service.self_enrol(person, run)
    focal = make_user(Role.FOCAL_POINT, authority=home)
    db.session.commit()
    trainee = UserClient(app, ion)
    page = trainee.get(f"/runs/{run.id}").get_data(as_text=True)
    assert 'dir="rtl"' in page and VENUE in page  # one isolate: "name, city" in its own direction
    dashboard = trainee.get("/dashboard").get_data(as_text=True)
    card = dashboard[dashboard.index('class="card next-session"') :].split("</div>")[0]
    assert f"<bdi>{run.title}</bdi>" in card and VENUE in card
    authority = UserClient(app, focal).get("/authority").get_data(as_text=True)
    section = authority[authority.index('id="staff-sessions-heading"') :]
    assert section.count('<li class="card">') == 2  # one card per session, not one row per person
    assert section.count("Ana Ceban, Ion Rusu") == 2
