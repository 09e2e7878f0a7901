"""The trainee journey in a real browser: register, sign in, open a course, complete a lesson."""

from __future__ import annotations

import re
from collections.abc import Callable
from typing import Any

import pytest
from sqlalchemy import select

from lms.courses.models import Course
from lms.notifications.models import OutgoingMail
from lms.orgs.models import Authority


@pytest.mark.browser
def test_trainee_registers_reads_and_progresses(
    page: Any, live_server: str, demo_course: Course, make_authority: Callable[..., Authority], tmp_path
) -> None:
    authority = make_authority("UA", name="State Border Guard Service of Ukraine")
    from lms.extensions import db

    db.session.commit()

    page.goto(f"{live_server}/register")
    page.get_by_label("Given name").fill("Olena")
    page.get_by_label("Family name").fill("Koval")
    page.get_by_label("Your name in your own script").fill("Олена Коваль")
    page.get_by_label("Country").select_option(authority.country_code)
    page.get_by_label("Authority").select_option(str(authority.id))
    page.get_by_label("Email").fill("olena@dpsu.example")
    page.get_by_label("Password", exact=True).fill("a long enough password")
    page.get_by_label("Repeat the password").fill("a long enough password")
    page.get_by_role("button", name="Create account").click()
    page.wait_for_url(f"{live_server}/dashboard")

    # New accounts confirm their email before they can enrol: follow the link from the mail.
    db.session.rollback()  # end this thread's read snapshot so the server's commit is visible
    mail = db.session.scalar(select(OutgoingMail).where(OutgoingMail.recipient == "olena@dpsu.example"))
    assert mail is not None
    link = re.search(r"/confirm-email/[A-Za-z0-9_\-]+", mail.body)
    assert link is not None, mail.body
    page.goto(f"{live_server}{link.group(0)}")
    page.get_by_role("button", name="Confirm my email address").click()

    page.get_by_role("button", name="Sign out").click()
    page.get_by_role("link", name="Sign in").click()
    page.get_by_label("Email").fill("olena@dpsu.example")
    page.get_by_label("Password").fill("a long enough password")
    page.get_by_role("button", name="Sign in").click()
    page.wait_for_url(f"{live_server}/dashboard")

    page.get_by_role("link", name="Catalogue").first.click()
    page.get_by_role("link", name=demo_course.title).click()
    page.get_by_role("button", name="Enrol in this course").click()
    first_lesson = demo_course.modules[0].lessons[0]
    page.wait_for_url(f"**/lessons/{first_lesson.id}")
    assert page.get_by_role("heading", level=1).inner_text() == first_lesson.title
    progress = page.locator(".lesson-aside progress")
    assert progress.get_attribute("value") == "0"

    page.get_by_role("button", name="Mark as complete").click()
    page.wait_for_url(f"**/lessons/{demo_course.modules[0].lessons[1].id}")
    assert progress.get_attribute("value") != "0"
    page.screenshot(path=str(tmp_path / "lesson.png"), full_page=True)

    page.get_by_role("link", name="My courses").click()
    card = page.locator(".card", has_text=demo_course.title)
    assert "1 of" in card.inner_text()
