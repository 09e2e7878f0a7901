"""The admin indicator report in a real browser: filters, charts with their tables, suppression."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from playwright.sync_api import expect

from lms.auth.models import Role, User
from tests.conftest import _TEST_PASSWORD_HASH, TEST_PASSWORD
from tests.reports_support import build_world


@pytest.mark.browser
def test_admin_reads_the_indicator_report_with_charts(
    live_server: str, page: Any, make_user: Callable[..., User], tmp_path: Path
) -> None:
    world = build_world(_TEST_PASSWORD_HASH, extra_trainees=12)
    admin = make_user(Role.ADMIN)
    page.goto(f"{live_server}/login")
    page.get_by_label("Email").fill(admin.email)
    page.get_by_label("Password").fill(TEST_PASSWORD)
    page.get_by_role("button", name="Sign in").click()
    page.get_by_role("link", name="Reports").first.click()
    page.get_by_role("link", name="Indicators for donors").click()
    # expect() waits for the page the click opened; is_visible() asked the page still loading (CI, once)
    expect(page.get_by_role("img", name="Completion rate by country")).to_be_visible()
    expect(page.get_by_role("img", name="Participants by sex")).to_be_visible()
    expect(page.get_by_role("img", name="Completions over time")).to_be_visible()
    expect(page.get_by_role("table", name="Participants by sex")).to_be_visible()
    page.screenshot(path=str(tmp_path / "admin-report.png"), full_page=True)

    page.get_by_label("Course", exact=True).select_option(str(world.course.id))
    page.get_by_label("Suppress small cells (for publication)").check()
    page.get_by_label("Smallest number of persons shown").fill("3")
    page.get_by_role("search", name="Filters").get_by_role("button", name="Apply").click()
    page.wait_for_url("**suppress=y**")
    expect(page.get_by_text("Publication mode:")).to_be_visible()
    assert page.locator(".suppressed").count() > 0


@pytest.mark.browser
def test_chart_labels_stay_inside_their_chart_in_arabic(
    live_server: str, page: Any, make_user: Callable[..., User]
) -> None:
    """An SVG in a right-to-left page inherits `direction: rtl`, which turns text-anchor="end" around:
    the country names, meant to end where their bar starts, started there and hid under the bars."""
    build_world(_TEST_PASSWORD_HASH)
    admin = make_user(Role.ADMIN)
    page.goto(f"{live_server}/login")
    page.get_by_label("Email").fill(admin.email)
    page.get_by_label("Password").fill(TEST_PASSWORD)
    page.get_by_role("button", name="Sign in").click()
    page.context.request.post(f"{live_server}/language", form={"language": "ar", "next": "/"})
    page.goto(f"{live_server}/reports/indicators")
    assert page.locator("html").get_attribute("dir") == "rtl"
    misplaced = page.evaluate(
        """() => [...document.querySelectorAll('svg.chart text[text-anchor=end]')]
            .filter(t => t.textContent.trim())
            .filter(t => { const b = t.getBBox(); return b.x + b.width > t.x.baseVal[0].value + 1; })
            .map(t => t.textContent)"""
    )
    assert misplaced == [], misplaced
