"""Offline, beyond the saved lessons (issue 18): the web app manifest, "My courses" kept on the device, the
academy's own offline page for the rest of the menu, and a page that was not saved saying only that."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest

from lms.auth.models import User
from lms.courses.models import Course
from lms.courses.queries import published_outline
from lms.enrolment import runs as enrolment_runs
from lms.enrolment import self_service as enrolment_self_service
from lms.extensions import db
from tests.conftest import browser_sign_in

pytestmark = pytest.mark.browser

SAVED_COPY = "this is the copy saved on this device"
NOT_SAVED = "This page has not been saved on this device"
WORKER_ACTIVE = "async () => (await navigator.serviceWorker.getRegistrations()).some(r => r.active)"


def enrol_and_sign_in(page: Any, live_server: str, course: Course, user: User) -> None:
    run = enrolment_runs.default_run(course.id)
    assert run is not None
    enrolment_self_service.self_enrol(user, run, language="en")
    db.session.commit()
    browser_sign_in(page, live_server, user)
    page.wait_for_url("**/dashboard")


def test_manifest_is_linked_and_its_icons_load(page: Any, live_server: str) -> None:
    page.goto(f"{live_server}/")
    href = page.locator('link[rel="manifest"]').get_attribute("href")
    assert href
    response = page.request.get(f"{live_server}{href}")
    assert response.ok
    assert response.headers["content-type"].startswith("application/manifest+json")
    manifest = response.json()
    assert manifest["name"] and manifest["short_name"]
    assert manifest["start_url"] == "/dashboard"
    assert manifest["scope"] == "/"
    assert manifest["display"] == "standalone"
    assert manifest["theme_color"] == page.locator('meta[name="theme-color"]').get_attribute("content")
    sizes = {icon["sizes"] for icon in manifest["icons"]}
    assert {"192x192", "512x512"} <= sizes
    assert any("maskable" in icon["purpose"] for icon in manifest["icons"])
    for icon in manifest["icons"]:
        image = page.request.get(f"{live_server}{icon['src']}")
        assert image.ok and image.headers["content-type"] == "image/png", icon


def test_dashboard_and_main_menu_offline(
    page: Any, live_server: str, demo_course: Course, make_user: Callable[..., User]
) -> None:
    enrol_and_sign_in(page, live_server, demo_course, make_user("trainee"))
    course_url = f"{live_server}/courses/{demo_course.slug}"
    # the worker is active (not navigator.serviceWorker.ready: it never settles on a page out of scope)
    page.wait_for_function(WORKER_ACTIVE)
    page.goto(course_url)  # read once online: the worker keeps it
    page.goto(f"{live_server}/dashboard")  # and "My courses", now through the worker too
    assert page.evaluate("() => navigator.serviceWorker.controller !== null")

    page.context.set_offline(True)
    # "My courses" from the main menu: the copy saved on this device, not the browser's error page
    page.goto(course_url)
    page.get_by_role("navigation", name="Main").first.get_by_role("link", name="My courses").click()
    page.wait_for_url("**/dashboard")
    assert page.locator("h1").inner_text() == "My courses"
    page.get_by_text(SAVED_COPY).wait_for()
    assert demo_course.title in page.locator(".card h2").first.inner_text()

    # the rest of the menu: the academy's own offline page
    page.goto(f"{live_server}/certificates")
    assert page.locator("h1").inner_text() == "You are offline"
    page.goto(f"{live_server}/runs")
    assert page.locator("h1").inner_text() == "You are offline"

    page.context.set_offline(False)


def test_a_page_not_saved_does_not_claim_to_be_the_saved_copy(
    page: Any, live_server: str, demo_course: Course, make_user: Callable[..., User]
) -> None:
    enrol_and_sign_in(page, live_server, demo_course, make_user("trainee"))
    lessons = [lesson for _, items in published_outline(demo_course) for lesson in items]
    course_url = f"{live_server}/courses/{demo_course.slug}"
    page.goto(course_url)
    page.wait_for_function(WORKER_ACTIVE)
    page.goto(course_url)  # now through the worker

    page.context.set_offline(True)
    page.goto(f"{course_url}/lessons/{lessons[-1].id}")  # never opened, never saved
    assert page.locator("h1").inner_text() == "You are offline"
    assert NOT_SAVED in page.content()
    assert SAVED_COPY not in page.locator("main").inner_text()
    page.context.set_offline(False)
