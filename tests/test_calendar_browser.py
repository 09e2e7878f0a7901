"""The calendar subscription page and the international event pages in a browser (phone width), in
English and Arabic: a person makes their subscription URL, enters their passport details, and axe finds
no violation on any of these pages."""

from __future__ import annotations

import uuid
from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any

import pytest

from lms.auth.models import Role, User
from lms.enrolment import self_service
from lms.enrolment.models import EnrolmentMethod
from lms.extensions import db
from lms.orgs.models import Country
from lms.sessions.models import ParticipantDetails, TrainingSession
from tests.a11y_support import axe_violations, choose_language, describe
from tests.conftest import browser_sign_in
from tests.enrolment_support import make_course, make_run

pytestmark = pytest.mark.browser
PHONE = {"width": 390, "height": 844}


def _event_people(make_user: Callable[..., User]) -> tuple[User, User, int, int]:
    db.session.add(Country(code="GE", name="Georgia", names={"ar": "جورجيا"}, groups=[]))
    db.session.flush()
    run = make_run(make_course(), EnrolmentMethod.OPEN, is_international=True, title="Regional workshop")
    db.session.add(
        TrainingSession(
            run_id=run.id, title="Day 1", starts_at=datetime(2038, 1, 12, 7, tzinfo=UTC),
            ends_at=datetime(2038, 1, 12, 15, tzinfo=UTC), timezone="Europe/Chisinau", venue_name="Academy",
            uid=f"{uuid.uuid4()}@t", check_in_secret="s" * 32,
        )
    )  # fmt: skip
    trainee = make_user(given_name="Nino", family_name="Beridze", native_name="ნინო ბერიძე")
    admin = make_user(Role.ADMIN)
    enrolment = self_service.self_enrol(trainee, run)
    db.session.add(ParticipantDetails(enrolment_id=enrolment.id, dietary_needs="vegetarian"))
    db.session.commit()
    return trainee, admin, run.id, enrolment.id


def _check(page: Any, where: str, found: dict[str, list[dict[str, Any]]]) -> None:
    assert page.locator("h1").count() == 1, where
    scroll = page.evaluate("() => document.documentElement.scrollWidth > window.innerWidth + 1")
    assert not scroll, f"{where}: wider than the phone"
    if violations := axe_violations(page):
        found[where] = violations


def test_calendar_and_event_pages_in_english_and_arabic(
    page: Any, live_server: str, make_user: Callable[..., User]
) -> None:
    trainee, admin, run_id, enrolment_id = _event_people(make_user)
    page.set_viewport_size(PHONE)
    browser_sign_in(page, live_server, trainee)
    found: dict[str, list[dict[str, Any]]] = {}
    for language in ("en", "ar"):
        choose_language(page, live_server, language)
        page.goto(f"{live_server}/account/calendar")
        _check(page, f"{language} calendar page", found)
        page.locator("main form button[type=submit]").first.click()
        page.wait_for_load_state()
        assert page.locator("#calendar-webcal").input_value().startswith("webcal://")
        _check(page, f"{language} calendar URL shown", found)
        page.goto(f"{live_server}/runs/{run_id}/event/participants/{enrolment_id}")
        _check(page, f"{language} details form", found)
        page.fill("#passport_name", "NINO BERIDZE")
        page.fill("#passport_number", "13AB45678")
        page.select_option("#nationality", "GE")
        page.locator("main form button[type=submit]").click()
        page.wait_for_load_state()
        assert f"/runs/{run_id}/event" in page.url
        _check(page, f"{language} event page", found)
    browser_sign_in_again(page, live_server, admin)
    for language in ("en", "ar"):
        choose_language(page, live_server, language)
        page.goto(f"{live_server}/runs/{run_id}/event")
        assert "vegetarian" in page.content()
        _check(page, f"{language} event page (admin)", found)
    assert not found, describe(found)
    db.session.rollback()
    details = db.session.get(ParticipantDetails, enrolment_id)
    assert details is not None and details.passport_number == "13AB45678"


def browser_sign_in_again(page: Any, live_server: str, user: User) -> None:
    page.context.clear_cookies()
    browser_sign_in(page, live_server, user)
