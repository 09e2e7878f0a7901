"""Keyboard only (issue 11): sign in, complete a lesson, take and submit a quiz, with no mouse.

Every control is reached with Tab and operated with Enter, Space, arrow keys or typing, as a person
using a keyboard or a switch device would."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest
from sqlalchemy import select

from lms.auth.models import User
from lms.courses.models import Course
from lms.courses.queries import published_outline
from lms.enrolment import services as enrolment_services
from lms.enrolment.models import LessonCompletion
from lms.extensions import db
from lms.quizzes.models import QuizAttempt
from tests.conftest import TEST_PASSWORD

pytestmark = pytest.mark.browser

ACTIVE = """() => { const e = document.activeElement;
  return {tag: e.tagName, type: e.type || '', name: e.name || '', value: e.value || '',
          text: (e.innerText || '').trim(), inQuiz: !!e.closest('form.quiz-form')}; }"""


def tab_to(page: Any, matches: Callable[[dict[str, Any]], bool], limit: int = 60) -> dict[str, Any]:
    for _ in range(limit):
        page.keyboard.press("Tab")
        active = page.evaluate(ACTIVE)
        if matches(active):
            return dict(active)
    raise AssertionError("never reached by Tab")


def test_lesson_and_quiz_with_the_keyboard_only(
    page: Any, live_server: str, demo_course: Course, make_user: Callable[..., User]
) -> None:
    user = make_user("trainee")
    run = enrolment_services.default_run(demo_course.id)
    assert run is not None
    enrolment = enrolment_services.self_enrol(user, run, language="en")
    db.session.commit()
    first = next(lesson for _, items in published_outline(demo_course) for lesson in items)

    # The skip link is the first stop and takes focus to the main content.
    page.goto(f"{live_server}/login")
    page.keyboard.press("Tab")
    assert page.evaluate(ACTIVE)["text"] == "Skip to main content"
    page.keyboard.press("Enter")
    assert page.evaluate("() => document.activeElement.id") == "main"

    # Sending the empty form: the error summary takes focus (and is announced: role=alert).
    tab_to(page, lambda a: a["name"] == "email")
    page.keyboard.press("Enter")
    page.wait_for_selector("#error-summary")
    assert page.evaluate("() => document.activeElement.id") == "error-summary"
    assert page.get_attribute("#error-summary", "role") == "alert"

    tab_to(page, lambda a: a["name"] == "email")
    page.keyboard.type(user.email)
    page.keyboard.press("Tab")
    page.keyboard.type(TEST_PASSWORD)
    page.keyboard.press("Enter")
    page.wait_for_url("**/dashboard*")  # the skip link left #main in the URL

    # A lesson: Tab to "Mark as complete", press Enter.
    page.goto(f"{live_server}/courses/{demo_course.slug}/lessons/{first.id}")
    tab_to(page, lambda a: a["text"] == "Mark as complete")
    page.keyboard.press("Enter")
    page.get_by_text("Lesson marked complete.").wait_for()
    db.session.rollback()
    assert db.session.scalar(
        select(LessonCompletion.id).where(
            LessonCompletion.enrolment_id == enrolment.id, LessonCompletion.lesson_id == first.id
        )
    )

    # A quiz: start it, answer every question by its own means, submit.
    page.goto(f"{live_server}/courses/{demo_course.slug}/quizzes/pre-test")
    tab_to(page, lambda a: a["text"].startswith("Start attempt"))
    page.keyboard.press("Enter")
    page.wait_for_url("**/quiz-attempts/**")
    answered: set[str] = set()
    while True:
        active = tab_to(page, lambda a: a["inQuiz"] and a["type"] != "hidden")
        kind = active["type"]
        if kind == "radio":
            page.keyboard.press("ArrowDown")  # a radio group is one stop: arrows choose within it
        elif kind == "checkbox":
            page.keyboard.press("Space")
        elif kind.startswith("select"):
            page.keyboard.press("ArrowDown")
        elif kind == "text":
            page.keyboard.type("1")
        elif kind == "submit" and active["value"] == "submit":
            break
        answered.add(kind)
    assert answered - {"submit"}, "no question was answered"
    page.keyboard.press("Enter")
    page.wait_for_url("**/review")
    db.session.rollback()
    attempt = db.session.scalar(select(QuizAttempt).where(QuizAttempt.enrolment_id == enrolment.id))
    assert attempt is not None and attempt.is_finished
    assert page.locator("h1").count() == 1
