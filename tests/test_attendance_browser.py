"""Issue 20 "Done when", on a phone (390 x 844): a trainer takes a roll call, one mark while offline that is
sent when the connection returns; a trainee checks in with the room's QR URL (refused with an expired
code first), and completion and the certificate follow for a run that requires attendance."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from datetime import timedelta
from typing import Any

import pytest
from sqlalchemy import select

from lms.auth.models import Role, User
from lms.certificates.models import Certificate
from lms.db import utcnow
from lms.enrolment.models import Enrolment, EnrolmentStatus
from lms.extensions import db
from lms.sessions import check_in as codes
from lms.sessions.models import Attendance
from tests.a11y_support import axe_violations, choose_language, describe
from tests.attendance_support import a_session, place, workshop
from tests.conftest import browser_sign_in

pytestmark = pytest.mark.browser
PHONE = {"width": 390, "height": 844}


@pytest.fixture
def phone(browser: Any) -> Iterator[Any]:
    context = browser.new_context(viewport=PHONE, is_mobile=True, has_touch=True)
    context.set_default_timeout(10_000)
    yield context
    context.close()


def fresh(model: type, row_id: int) -> Any:
    db.session.rollback()  # the live server wrote in its own transactions: read them, not the cached rows
    return db.session.get(model, row_id)


def test_a_roll_call_with_one_mark_taken_offline(
    live_server: str, phone: Any, make_user: Callable[..., User], make_trainer: Callable[..., User]
) -> None:
    course, run = workshop()
    session = a_session(run, minutes=120)
    here = place(run, make_user(given_name="Olena", family_name="Kovalenko", native_name="Олена Коваленко"))
    away = place(run, make_user(given_name="Nino", family_name="Beridze", native_name="ნინო ბერიძე"))
    trainer = make_trainer(course)
    page = phone.new_page()
    browser_sign_in(page, live_server, trainer)
    page.goto(f"{live_server}/sessions/{session.id}/attendance")

    first = page.locator(f'.roll-call-line[data-enrolment="{here.id}"]')
    first.get_by_label("Present", exact=True).check()
    first.locator(".roll-call-state").get_by_text("sent", exact=True).wait_for()
    db.session.rollback()
    row = db.session.scalar(select(Attendance).where(Attendance.enrolment_id == here.id))
    assert row is not None and (row.status, row.minutes, row.source) == ("present", 120, "roll_call")

    phone.set_offline(True)
    second = page.locator(f'.roll-call-line[data-enrolment="{away.id}"]')
    second.get_by_label("Late", exact=True).check()  # partial: asks for the minutes first
    second.get_by_text("Give the minutes attended").wait_for()
    second.get_by_label("Minutes attended").fill("75")
    second.get_by_label("Minutes attended").press("Tab")
    second.get_by_text("saved on the device, not sent yet").wait_for()
    assert page.locator("#roll-call-offline").is_visible()
    assert fresh(Enrolment, away.id).attended_minutes == 0  # nothing reached the server

    phone.set_offline(False)
    second.locator(".roll-call-state").get_by_text("sent", exact=True).wait_for()
    assert not page.locator("#roll-call-offline").is_visible()
    assert fresh(Enrolment, away.id).attended_minutes == 75
    assert page.evaluate("Object.keys(localStorage).filter(k => k.startsWith('lms.roll-call')).length") == 0


def test_check_in_with_the_qr_code_then_completion_and_certificate_follow(
    live_server: str, phone: Any, make_user: Callable[..., User], make_trainer: Callable[..., User]
) -> None:
    course, run = workshop(completion_requires_lessons=False, min_attendance_percent=80)
    session = a_session(run, minutes=120)
    trainee = make_user(Role.TRAINEE, given_name="Fatima", family_name="Al-Zahra")
    enrolment = place(run, trainee)
    trainer = make_trainer(course)

    screen = phone.new_page()
    browser_sign_in(screen, live_server, trainer)
    screen.goto(f"{live_server}/sessions/{session.id}/check-in-screen")
    assert screen.locator(".check-in-qr svg").count() == 1
    shown = screen.locator(".check-in-code").inner_text()
    now = utcnow()
    recent = {codes.typed_code(session.check_in_secret, session.id, codes.window_of(now) - n) for n in (0, 1)}
    assert shown in recent

    other = phone.browser.new_context(viewport=PHONE, is_mobile=True, has_touch=True)
    try:
        page = other.new_page()
        page.set_default_timeout(10_000)
        browser_sign_in(page, live_server, trainee)
        expired = codes.qr_code(
            session.check_in_secret, session.id, codes.window_of(now - timedelta(minutes=2))
        )
        page.goto(f"{live_server}/check-in/{session.id}/{expired}")
        page.get_by_text("This check-in code has expired").wait_for()
        assert page.get_by_role("button", name="Check in").count() == 0
        assert fresh(Enrolment, enrolment.id).attended_minutes == 0

        scanned = codes.qr_code(session.check_in_secret, session.id, codes.window_of(utcnow()))
        page.goto(f"{live_server}/check-in/{session.id}/{scanned}")  # what the phone's camera opens
        page.get_by_role("button", name="Check in").click()
        page.get_by_text(f"You are checked in to {session.title}: present.").wait_for()

        assert fresh(Enrolment, enrolment.id).status == EnrolmentStatus.COMPLETED
        certificate = db.session.scalar(select(Certificate).where(Certificate.user_id == trainee.id))
        assert certificate is not None and certificate.run_id == run.id
        page.goto(f"{live_server}/certificates")
        page.get_by_text(certificate.course_title).first.wait_for()

        page.goto(f"{live_server}/check-in/{session.id}/{scanned}")
        page.get_by_text("You have already checked in to this session.").wait_for()
    finally:
        other.close()


def test_the_attendance_pages_pass_axe_in_english_and_arabic(
    live_server: str, browser: Any, make_user: Callable[..., User], make_trainer: Callable[..., User],
    tmp_path: Any,
) -> None:  # fmt: skip
    course, run = workshop()
    session = a_session(run, minutes=90)
    trainee = make_user(Role.TRAINEE, given_name="Leila", family_name="Haddad", native_name="ليلى حداد")
    enrolment = place(run, trainee)
    place(run, make_user(given_name="Nino", family_name="Beridze", native_name="ნინო ბერიძე"))
    trainer = make_trainer(course)
    code = codes.qr_code(session.check_in_secret, session.id, codes.window_of(utcnow()))
    found: dict[str, list[dict[str, Any]]] = {}
    for person, paths in (
        (trainer, [f"/sessions/{session.id}/attendance", f"/sessions/{session.id}/check-in-screen"]),
        (trainee, [f"/check-in/{session.id}/{code}", f"/check-in/{session.id}/expired", "/check-in"]),
    ):
        context = browser.new_context(viewport=PHONE, is_mobile=True, has_touch=True)
        try:
            page = context.new_page()
            browser_sign_in(page, live_server, person)
            for language in ("en", "ar"):
                choose_language(page, live_server, language)
                for path in paths:
                    page.goto(f"{live_server}{path}")
                    found[f"{language} {path}"] = axe_violations(page)
                    width = page.evaluate("document.documentElement.scrollWidth")
                    assert width <= PHONE["width"], (language, path, width)  # nothing scrolls sideways
                    page.screenshot(path=tmp_path / f"{language}-{path.strip('/').replace('/', '-')}.png")
        finally:
            context.close()
    assert not any(found.values()), describe(found)
    assert fresh(Enrolment, enrolment.id).attended_minutes == 0  # looking at the pages wrote nothing
