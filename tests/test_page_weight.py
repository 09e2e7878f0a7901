"""Light pages (issue 11): the lesson page and the dashboard, opened cold in Chromium, stay under budget.

Budget for each: under 100 KB transferred for HTML + CSS + JS (compressed, headers included, lesson
images excluded) and fewer than 10 requests. Measured on a first visit with an empty cache and no
service worker: the worst case of a trainee on a slow link."""

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
from tests.conftest import TEST_PASSWORD

pytestmark = pytest.mark.browser

MAX_BYTES = 100 * 1024
MAX_REQUESTS = 10


def measure(browser: Any, storage: Any, url: str) -> tuple[int, int, dict[str, str]]:
    context = browser.new_context(storage_state=storage, service_workers="block")
    page = context.new_page()
    requests: list[Any] = []
    page.on("requestfinished", lambda request: requests.append(request))
    page.goto(url, wait_until="networkidle")
    total = 0
    encodings: dict[str, str] = {}
    for request in requests:
        if request.resource_type == "image":
            continue
        sizes = request.sizes()
        total += sizes["responseBodySize"] + sizes["responseHeadersSize"]
        response = request.response()
        encodings[request.resource_type] = response.headers.get("content-encoding", "") if response else ""
    count = len(requests)
    context.close()
    return total, count, encodings


def test_lesson_page_and_dashboard_are_within_budget(
    browser: Any, live_server: str, demo_course: Course, make_user: Callable[..., User]
) -> None:
    user = make_user("trainee")
    run = enrolment_runs.default_run(demo_course.id)
    assert run is not None
    enrolment_self_service.self_enrol(user, run, language="en")
    db.session.commit()
    lessons = [lesson for _, items in published_outline(demo_course) for lesson in items]
    longest = max(lessons, key=lambda lesson: len(lesson.body_html or ""))

    context = browser.new_context(service_workers="block")
    page = context.new_page()
    page.goto(f"{live_server}/login")
    page.fill("#email", user.email)
    page.fill("#password", TEST_PASSWORD)
    page.locator("main form button[type=submit]").click()
    page.wait_for_url("**/dashboard")
    storage = context.storage_state()
    context.close()

    for url in (f"{live_server}/courses/{demo_course.slug}/lessons/{longest.id}", f"{live_server}/dashboard"):
        size, count, encodings = measure(browser, storage, url)
        print(f"{url}: {size} bytes, {count} requests")  # shown with -s: the margin left
        assert size < MAX_BYTES, f"{url}: {size} bytes transferred (budget {MAX_BYTES})"
        assert count < MAX_REQUESTS, f"{url}: {count} requests (budget under {MAX_REQUESTS})"
        assert encodings.get("document") == "gzip", encodings
        assert encodings.get("stylesheet") == "gzip", encodings
        assert encodings.get("script") == "gzip", encodings
