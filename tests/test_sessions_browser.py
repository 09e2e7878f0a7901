"""The sessions pages in a phone-sized browser, in English and Arabic: axe finds nothing, and an admin
schedules a session through the form (issue 20)."""

from __future__ import annotations

from typing import Any

import pytest
from sqlalchemy import select

from lms.demo.sessions_demo import WEEKLY, WORKSHOP
from lms.enrolment.models import CourseRun
from lms.extensions import db
from lms.sessions.models import TrainingSession
from tests.a11y_support import axe_violations, choose_language, describe, load_academy, sign_in

pytestmark = pytest.mark.browser
PHONE = {"width": 390, "height": 844}


def run_id(title: str) -> int:
    found = db.session.scalar(select(CourseRun.id).where(CourseRun.title == title))
    assert found is not None
    return found


def walk(page: Any, base: str, paths: list[str]) -> dict[str, list[dict[str, Any]]]:
    found: dict[str, list[dict[str, Any]]] = {}
    for language in ("en", "ar"):
        choose_language(page, base, language)
        for path in paths:
            response = page.goto(base + path)
            assert response is not None and response.status == 200, path
            if violations := axe_violations(page, contrast=language == "en"):
                found[f"{language} {path}"] = violations
            wide = page.evaluate("document.documentElement.scrollWidth > window.innerWidth + 1")
            assert not wide, f"{language} {path} scrolls sideways on a phone"
    return found


def test_admin_pages_and_scheduling_on_a_phone(page: Any, live_server: str) -> None:
    load_academy()
    workshop = run_id(WORKSHOP)
    session_id = db.session.scalar(select(TrainingSession.id).where(TrainingSession.run_id == workshop))
    page.set_viewport_size(PHONE)
    sign_in(page, live_server, "admin")
    found = walk(page, live_server, [f"/runs/{workshop}/sessions", f"/runs/{workshop}/sessions/new",
                                     f"/sessions/{session_id}/edit", f"/sessions/{session_id}/cancel",
                                     "/trainer/sessions", f"/admin/course-runs/{workshop}/edit"])  # fmt: skip
    assert not found, describe(found)
    choose_language(page, live_server, "en")
    page.goto(f"{live_server}/runs/{workshop}/sessions/new")
    page.fill("#title", "Follow-up clinic")
    run = db.session.get(CourseRun, workshop)
    assert run is not None and run.starts_on is not None
    page.fill("#day", run.starts_on.isoformat())
    page.fill("#starts_at", "18:00")
    page.fill("#ends_at", "19:00")
    page.select_option("#timezone", "Europe/Chisinau")
    page.fill("#venue_name", "Hotel Codru, room 3")
    page.locator("main form button[type=submit]").click()
    page.wait_for_load_state()
    assert "The session was scheduled." in page.content()
    assert "Follow-up clinic" in page.content()


def test_participant_pages_on_a_phone(page: Any, live_server: str) -> None:
    load_academy()
    weekly = run_id(WEEKLY)
    page.set_viewport_size(PHONE)
    sign_in(page, live_server, "trainee")
    found = walk(page, live_server, [f"/runs/{weekly}", "/dashboard"])
    assert not found, describe(found)
    choose_language(page, live_server, "en")
    page.goto(f"{live_server}/runs/{weekly}")
    assert page.locator("a.meeting-link").count() >= 1  # Olena holds a place: she sees the link
    page.goto(f"{live_server}/dashboard")
    assert "Next session" in page.content()
