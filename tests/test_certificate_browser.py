"""The journey a person clicks through: complete a course, download the PDF, verify it logged out."""

from __future__ import annotations

import re
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from pypdf import PdfReader

from lms.auth.models import Role, User
from lms.courses.models import Course
from tests.conftest import TEST_PASSWORD
from tests.test_certificates import tiny_course

__all__ = ["tiny_course"]  # the fixture, shared with test_certificates

CODE = re.compile(r"\b[0-9A-HJKMNP-TV-Z]{4}-[0-9A-HJKMNP-TV-Z]{4}-[0-9A-HJKMNP-TV-Z]{4}\b")


@pytest.mark.browser
def test_trainee_completes_downloads_and_a_stranger_sees_valid(
    live_server: str, page: Any, browser: Any, make_user: Callable[..., User], tiny_course: Course,
    tmp_path: Path,
) -> None:  # fmt: skip
    trainee = make_user(Role.TRAINEE, given_name="Leila", family_name="Haddad", native_name="ليلى حداد")
    page.goto(f"{live_server}/login")
    page.get_by_label("Email").fill(trainee.email)
    page.get_by_label("Password").fill(TEST_PASSWORD)
    page.get_by_role("button", name="Sign in").click()

    page.goto(f"{live_server}/courses/{tiny_course.slug}")
    page.get_by_role("button", name="Enrol in this course").click()
    for _ in range(2):  # each lesson: mark complete, which moves on to the next
        page.get_by_role("button", name="Mark as complete").click()
        page.wait_for_load_state()
    page.get_by_text("You have completed this course.").wait_for()
    page.goto(f"{live_server}/dashboard")
    page.get_by_role("link", name=re.compile(r"^Certificate [0-9A-Z]{4}-")).click()
    with page.expect_download() as download_info:
        page.get_by_role("link", name="PDF").click()
    pdf_file = tmp_path / "certificate.pdf"
    download_info.value.save_as(pdf_file)
    text = PdfReader(pdf_file).pages[0].extract_text()
    assert "ليلى حداد" in text
    match = CODE.search(text)
    assert match is not None, text

    stranger = browser.new_context()  # no cookies: logged out
    try:
        public = stranger.new_page()
        public.goto(f"{live_server}/verify/{match.group(0)}")
        result = public.locator(".verify-result")
        assert result.get_attribute("data-state") == "valid"
        assert "Valid" in result.inner_text()
        assert "Leila Haddad" in public.content()
        public.screenshot(path=tmp_path / "certificate-verify.png", full_page=True)
    finally:
        stranger.close()
    page.screenshot(path=tmp_path / "certificate-mine.png", full_page=True)
