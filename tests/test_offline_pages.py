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

# wait_for_function needs synchronous predicates: given an async one it receives a Promise, which is truthy,
# and returns at once without waiting (that is how the worker once went unwaited for under load).
# The worker (activated) controls this page: the next pages go through it and are saved.
WORKER_CONTROLS = "() => navigator.serviceWorker.controller !== null"
# ... and the academy's offline page is stored (each poll starts a new look into the cache if none is pending)
OFFLINE_PAGE_STORED = """() => {
  if (!window.offlineLook) {
    window.offlineLook = caches.match(new URL('/offline', location.href).href).then(page => {
      window.offlinePageStored = Boolean(page);
      window.offlineLook = null;
    });
  }
  return navigator.serviceWorker.controller !== null && window.offlinePageStored === true;
}"""


def wait_for_offline_worker(page: Any) -> None:
    """The worker controls the page and has the offline page: what the offline part of a test relies on."""
    page.wait_for_function(WORKER_CONTROLS)
    page.wait_for_function(OFFLINE_PAGE_STORED)


def assert_academy_offline_page(page: Any) -> None:
    """The academy's own offline page (translated, the person's menu), not the worker's last-resort one."""
    assert page.locator("h1").inner_text() == "You are offline"
    assert page.locator(".offline-page").count() == 1


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
    page.wait_for_function(WORKER_CONTROLS)
    page.goto(course_url)  # read once online, through the worker: it keeps it
    page.goto(f"{live_server}/dashboard")  # and "My courses"
    wait_for_offline_worker(page)

    page.context.set_offline(True)
    # the course as saved, then "My courses" from the main menu: copies saved on this device, not the
    # browser's error page
    page.goto(course_url)
    assert page.locator("h1").inner_text() == demo_course.title
    page.get_by_text(SAVED_COPY).wait_for()
    page.get_by_role("navigation", name="Main").first.get_by_role("link", name="My courses").click()
    page.wait_for_url("**/dashboard")
    assert page.locator("h1").inner_text() == "My courses"
    page.get_by_text(SAVED_COPY).wait_for()
    assert demo_course.title in page.locator(".card h2").first.inner_text()

    # the rest of the menu: the academy's own offline page
    page.goto(f"{live_server}/certificates")
    assert_academy_offline_page(page)
    page.goto(f"{live_server}/runs")
    assert_academy_offline_page(page)

    page.context.set_offline(False)


def test_the_next_person_on_the_same_browser_gets_the_offline_page_too(
    page: Any, live_server: str, demo_course: Course, make_user: Callable[..., User]
) -> None:
    # Signing out empties the saved pages, the offline page with them; the worker stays and stores it again,
    # for the next person, as they read a page online.
    second = make_user("trainee")  # made before the browser runs: SQLite has one writer at a time
    enrol_and_sign_in(page, live_server, demo_course, make_user("trainee"))
    wait_for_offline_worker(page)
    page.get_by_role("button", name="Sign out").click()
    page.wait_for_url(f"{live_server}/")  # the catalogue, signed out
    assert page.evaluate("async () => !(await caches.has('lms-pages-v1'))")
    browser_sign_in(page, live_server, second)
    page.wait_for_url("**/dashboard")
    page.goto(f"{live_server}/courses/{demo_course.slug}")
    wait_for_offline_worker(page)

    page.context.set_offline(True)
    page.goto(f"{live_server}/certificates")
    assert_academy_offline_page(page)
    assert page.locator(".who").inner_text() == second.full_name  # theirs, not the first person's
    page.context.set_offline(False)


def test_a_page_not_saved_does_not_claim_to_be_the_saved_copy(
    page: Any, live_server: str, demo_course: Course, make_user: Callable[..., User]
) -> None:
    enrol_and_sign_in(page, live_server, demo_course, make_user("trainee"))
    lessons = [lesson for _, items in published_outline(demo_course) for lesson in items]
    course_url = f"{live_server}/courses/{demo_course.slug}"
    page.wait_for_function(WORKER_CONTROLS)
    page.goto(course_url)  # through the worker: saved, its lessons not
    wait_for_offline_worker(page)

    page.context.set_offline(True)
    page.goto(f"{course_url}/lessons/{lessons[-1].id}")  # never opened, never saved
    assert_academy_offline_page(page)
    assert NOT_SAVED in page.content()
    assert SAVED_COPY not in page.locator("main").inner_text()

    # the offline page gone with the saved pages and nothing read online since: the worker's last resort is
    # still a page with that heading and the way to "My courses" (it used to be a bare text/plain "Offline")
    page.evaluate("() => caches.delete('lms-pages-v1')")
    page.goto(f"{live_server}/certificates")
    assert page.locator("h1").inner_text() == "You are offline"
    assert page.locator(".offline-page").count() == 0
    assert page.get_by_role("link", name="My courses").get_attribute("href") == "/dashboard"
    page.context.set_offline(False)
