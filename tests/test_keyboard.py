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
from lms.enrolment import runs as enrolment_runs
from lms.enrolment import self_service as enrolment_self_service
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
    run = enrolment_runs.default_run(demo_course.id)
    assert run is not None
    enrolment = enrolment_self_service.self_enrol(user, run, language="en")
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


# --- reordering in the authoring editor ------------------------------------------------------------------

FOCUSED = """() => { const e = document.activeElement;
  return {label: e.getAttribute('aria-label') || (e.innerText || '').trim(), name: e.name || '',
          visible: e.matches(':focus-visible')}; }"""


def press_until(page: Any, key: str, label: str, limit: int = 150) -> None:
    for _ in range(limit):
        page.keyboard.press(key)
        if page.evaluate(FOCUSED)["label"] == label:
            return
    raise AssertionError(f"{label!r} never reached with {key}")


def sign_in_by_keyboard(page: Any, live_server: str, user: User) -> None:
    page.goto(f"{live_server}/login")
    tab_to(page, lambda a: a["name"] == "email")
    page.keyboard.type(user.email)
    page.keyboard.press("Tab")
    page.keyboard.type(TEST_PASSWORD)
    page.keyboard.press("Enter")
    page.wait_for_url("**/dashboard")


def test_lessons_and_modules_are_reordered_with_the_keyboard_only(
    page: Any, live_server: str, make_user: Callable[..., User]
) -> None:
    from playwright.sync_api import expect

    from lms.authoring import drafts as authoring_drafts
    from tests.authoring_support import build_course

    trainer = make_user("trainer")
    course = build_course(trainer)  # "First steps": Welcome, Documents; "Going further": Risk

    def saved_order() -> tuple[list[str], list[str]]:
        db.session.rollback()
        doc = authoring_drafts.get_draft(db.session.get(Course, course.id)).document
        first = next(m for m in doc["modules"] if m["slug"] == "first-steps")
        return [m["slug"] for m in doc["modules"]], [lesson["slug"] for lesson in first["lessons"]]

    def move_and_check(key: str, message: str, order: tuple[list[str], list[str]], focus: str) -> None:
        with page.expect_navigation():  # the form posts and the editor comes back
            page.keyboard.press(key)
        page.get_by_role("status").filter(has_text=message).wait_for()
        assert saved_order() == order
        # Focus is back on the moved item: the same button, or the other one when it reached the end.
        focused = page.locator(":focus")
        expect(focused).to_have_accessible_name(focus)
        expect(focused).to_have_role("button")
        assert page.evaluate(FOCUSED)["visible"], "focus is not visible after the move"

    sign_in_by_keyboard(page, live_server, trainer)
    page.goto(f"{live_server}/authoring/courses/{course.id}")
    # Every move button has a name that says what it moves and where; an end that cannot move is disabled.
    expect(page.get_by_role("button", name="Move Welcome up")).to_be_disabled()
    expect(page.get_by_role("button", name="Move Risk down")).to_be_disabled()

    press_until(page, "Tab", "Move Documents up")
    move_and_check("Enter", "Lesson moved.", (["first-steps", "going-further"], ["documents", "welcome"]),
                   "Move Documents down")  # fmt: skip
    move_and_check("Space", "Lesson moved.", (["first-steps", "going-further"], ["welcome", "documents"]),
                   "Move Documents up")  # fmt: skip
    press_until(page, "Shift+Tab", "Move Welcome down")
    move_and_check("Enter", "Lesson moved.", (["first-steps", "going-further"], ["documents", "welcome"]),
                   "Move Welcome up")  # fmt: skip

    press_until(page, "Tab", "Move Going further up")
    move_and_check("Enter", "Module moved.", (["going-further", "first-steps"], ["documents", "welcome"]),
                   "Move Going further down")  # fmt: skip
    move_and_check("Space", "Module moved.", (["first-steps", "going-further"], ["documents", "welcome"]),
                   "Move Going further up")  # fmt: skip
    # The page shows the saved order, and the history names each move.
    assert page.locator("#module-first-steps .authoring-lessons > li > a").first.inner_text() == "Documents"
    expect(page.locator(".history")).to_contain_text("module 'going-further' moved down")


def test_quiz_entries_are_reordered_with_the_keyboard_only(
    page: Any, live_server: str, make_user: Callable[..., User]
) -> None:
    from playwright.sync_api import expect

    from lms.authoring import drafts as authoring_drafts
    from lms.authoring import quiz_edits as authoring_quiz_edits
    from tests.authoring_support import build_course

    trainer = make_user("trainer")
    course = build_course(trainer)  # quiz "check": q-capital, q-true, q-count

    def saved_order() -> list[str]:
        db.session.rollback()
        doc = authoring_drafts.get_draft(db.session.get(Course, course.id)).document
        return [slot["question"] for slot in authoring_quiz_edits.find_quiz(doc, "check")["slots"]]

    sign_in_by_keyboard(page, live_server, trainer)
    page.goto(f"{live_server}/authoring/courses/{course.id}/quizzes/check")
    press_until(page, "Tab", "Move q-true up")
    with page.expect_navigation():
        page.keyboard.press("Enter")
    page.get_by_role("status").filter(has_text="Moved.").wait_for()
    assert saved_order() == ["q-true", "q-capital", "q-count"]
    expect(page.locator(":focus")).to_have_accessible_name("Move q-true down")  # it is first now
    with page.expect_navigation():
        page.keyboard.press("Space")
    page.get_by_role("status").filter(has_text="Moved.").wait_for()
    assert saved_order() == ["q-capital", "q-true", "q-count"]
    expect(page.locator(":focus")).to_have_accessible_name("Move q-true down")
