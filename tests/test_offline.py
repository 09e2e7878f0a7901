"""Offline reading (issue 11): a trainee saves a course, loses the connection, reads a saved lesson,
marks it complete; back online, the completion reaches the server exactly once."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import Any

import pytest
from flask import Flask, request
from sqlalchemy import func, select
from werkzeug.wrappers import Response

from lms.auth.models import User
from lms.courses.models import Course
from lms.courses.queries import published_outline
from lms.enrolment import runs as enrolment_runs
from lms.enrolment import self_service as enrolment_self_service
from lms.enrolment.models import LessonCompletion
from lms.extensions import db
from tests.conftest import browser_sign_in
from tests.test_offline_pages import wait_for_offline_worker

pytestmark = pytest.mark.browser


@pytest.fixture
def lesson_requests(app: Flask) -> Iterator[list[str]]:
    """Paths of the lesson pages the server answered, to prove the offline reads never reached it."""
    seen: list[str] = []

    def note(response: Response) -> Response:
        if "/lessons/" in request.path:
            seen.append(f"{request.method} {request.path}")
        return response

    # appended directly: the session-wide app has served requests already, so after_request() refuses
    app.after_request_funcs.setdefault(None, []).append(note)
    yield seen
    app.after_request_funcs[None].remove(note)


def completions(lesson_id: int) -> int:
    db.session.rollback()  # see the live server's commits
    return db.session.scalar(
        select(func.count()).select_from(LessonCompletion).where(LessonCompletion.lesson_id == lesson_id)
    )


def test_saved_lesson_read_and_completed_offline_is_recorded_once(
    page: Any,
    live_server: str,
    demo_course: Course,
    make_user: Callable[..., User],
    lesson_requests: list[str],
) -> None:
    user = make_user("trainee")
    run = enrolment_runs.default_run(demo_course.id)
    assert run is not None
    enrolment_self_service.self_enrol(user, run, language="en")
    db.session.commit()
    lessons = [lesson for _, items in published_outline(demo_course) for lesson in items]
    second = lessons[1]
    course_url = f"{live_server}/courses/{demo_course.slug}"
    second_url = f"{course_url}/lessons/{second.id}"

    browser_sign_in(page, live_server, user)
    page.wait_for_url("**/dashboard")
    # the worker controls the first page (then every next one) before the course is read: the offline
    # reads below go through it (a page loaded while it installs may stay outside it)
    wait_for_offline_worker(page)

    page.goto(course_url)
    page.get_by_role("button", name="Save this course for offline reading").click()
    page.locator(".offline-status").filter(has_text="Saved on this device").wait_for()

    page.context.set_offline(True)
    lesson_requests.clear()
    page.goto(second_url)
    assert page.locator("h1").inner_text() == second.title
    page.get_by_text("this is the copy saved on this device").wait_for()
    assert lesson_requests == []  # served from the device, not the server

    page.get_by_role("button", name="Mark as complete").click()
    page.get_by_text("It will be sent when you are back online").wait_for()
    assert completions(second.id) == 0

    page.context.set_offline(False)
    page.evaluate("() => window.dispatchEvent(new Event('online'))")  # as the browser does on reconnecting
    page.wait_for_selector("body[data-offline-sent]")
    assert completions(second.id) == 1
    assert lesson_requests.count(f"POST /courses/{demo_course.slug}/lessons/{second.id}/complete") == 1

    page.goto(second_url)  # a later page load finds nothing left to send
    page.goto(course_url)
    assert completions(second.id) == 1
    assert page.evaluate("() => localStorage.getItem('lms-offline-completions')") == "{}"
    assert lesson_requests.count(f"POST /courses/{demo_course.slug}/lessons/{second.id}/complete") == 1
