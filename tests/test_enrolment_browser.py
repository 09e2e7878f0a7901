"""The whole nomination flow in a real browser, with mail arriving at a real SMTP server:
a focal point nominates two colleagues, the admin approves one and rejects the other, and the
approved trainee signs in and finds the course."""

from __future__ import annotations

import tempfile
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from flask import Flask
from playwright.sync_api import expect

from lms.auth.models import Role, User
from lms.enrolment.models import EnrolmentMethod
from lms.extensions import db
from lms.orgs.models import Authority
from tests.conftest import TEST_PASSWORD
from tests.conftest_mail import Inbox, smtp_server
from tests.enrolment_support import make_course, make_run

# Screenshots of the main pages, to look at after a run.
SHOTS = Path(tempfile.gettempdir()) / "lms-enrolment-screens"


@pytest.fixture
def smtp_inbox(app: Flask) -> Iterator[Inbox]:
    with smtp_server(app) as inbox:
        yield inbox


def sign_in(page: Any, live_server: str, email: str) -> None:
    page.goto(f"{live_server}/login")
    page.get_by_label("Email").fill(email)
    page.get_by_label("Password").fill(TEST_PASSWORD)
    page.get_by_role("button", name="Sign in").click()
    page.wait_for_url(f"{live_server}/dashboard")


def sign_out(page: Any) -> None:
    page.get_by_role("button", name="Sign out").click()


@pytest.mark.browser
def test_focal_point_nominates_admin_decides_trainee_finds_the_course(
    page: Any,
    live_server: str,
    app: Flask,
    smtp_inbox: Inbox,
    make_user: Callable[..., User],
    make_authority: Callable[..., Authority],
) -> None:
    authority = make_authority("UA", code="ua-sbgs", name="State Border Guard Service of Ukraine")
    focal = make_user(Role.FOCAL_POINT, authority=authority, given_name="Iryna", family_name="Bondarenko")
    admin = make_user(Role.ADMIN, given_name="Marta", family_name="Novak")
    olena = make_user(authority=authority, given_name="Olena", family_name="Koval")
    andriy = make_user(authority=authority, given_name="Andriy", family_name="Shevchenko")
    course = make_course()
    run = make_run(course, EnrolmentMethod.NOMINATION, seats=4, title="First-line checks — Lviv cohort")
    emails = {u: u.email for u in (focal, admin, olena, andriy)}
    names = {u: u.full_name for u in (olena, andriy)}
    run_title, course_title = run.title, course.title
    db.session.close()  # the server's threads write; this session must not hold a snapshot
    SHOTS.mkdir(exist_ok=True)

    # The focal point nominates two colleagues.
    sign_in(page, live_server, emails[focal])
    page.get_by_role("link", name="My authority").click()
    card = page.locator(".run-card", has_text=run_title)
    card.get_by_role("link", name="Nominate staff").click()
    page.get_by_label(names[olena]).check()
    page.get_by_label(names[andriy]).check()
    page.get_by_label("Justification").first.fill("Both work on the first line at the Shehyni crossing")
    page.get_by_role("button", name="Nominate", exact=True).click()
    assert "Nominated: 2." in page.locator(".flashes").inner_text()
    page.screenshot(path=str(SHOTS / "nominate.png"), full_page=True)
    for person in (olena, andriy):
        assert smtp_inbox.subjects(emails[person]) == [f"You have been nominated for {run_title}"]
    sign_out(page)

    # The admin approves one and rejects the other, with a reason.
    sign_in(page, live_server, emails[admin])
    page.locator(
        ".nav-bar summary", has_text="Administration"
    ).click()  # the admin pages are one group of the menu
    page.get_by_role("link", name="Course runs").click()
    page.get_by_role("link", name=run_title).click()
    assert "Queue: nominations and requests (2)" in page.content()
    page.screenshot(path=str(SHOTS / "admin-queue.png"), full_page=True)
    page.get_by_label(f"Select {names[olena]}").check()
    page.get_by_role("button", name="Approve selected").click()
    assert "Enrolled: 1." in page.locator(".flashes").inner_text()
    page.get_by_label(f"Select {names[andriy]}").check()
    page.get_by_label("Reason (required to reject)").fill("Already trained in 2025")
    page.get_by_role("button", name="Reject selected").click()
    assert "Rejected: 1." in page.locator(".flashes").inner_text()
    seats = page.locator(".seats-table").inner_text()
    assert "State Border Guard Service of Ukraine" in seats
    page.screenshot(path=str(SHOTS / "admin-decided.png"), full_page=True)
    assert smtp_inbox.subjects(emails[olena])[-1] == f"Approved: you are enrolled in {run_title}"
    rejection = smtp_inbox.to(emails[andriy])[-1]
    assert " ".join(str(rejection["Subject"]).split()) == f"Not approved: {run_title}"
    assert "Already trained in 2025" in Inbox.body(rejection)
    sign_out(page)

    # The approved trainee signs in and finds the course.
    sign_in(page, live_server, emails[olena])
    assert course_title in page.locator("main").inner_text()
    page.get_by_role("link", name=course_title).first.click()
    expect(page.get_by_role("link", name="Start the course")).to_be_visible()
    page.get_by_role("link", name="Course runs").click()
    assert "Enrolled" in page.locator(".run-card", has_text=run_title).inner_text()
    page.screenshot(path=str(SHOTS / "trainee.png"), full_page=True)
    sign_out(page)

    # The rejected colleague sees the decision and its reason.
    sign_in(page, live_server, emails[andriy])
    assert course_title not in page.locator("main").inner_text()
    page.get_by_role("link", name="Course runs").click()
    page.get_by_role("link", name=run_title).click()
    assert "Already trained in 2025" in page.locator("main").inner_text()
