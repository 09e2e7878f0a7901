"""Taking a 12-question timed quiz (issue 18): one clock from the server's deadline that stays in view, a
question navigator that follows the answers, and ordering questions that can be dragged while their
drop-downs keep working (with the keyboard, and without JavaScript)."""

from __future__ import annotations

import math
from collections.abc import Callable
from types import SimpleNamespace
from typing import Any

import pytest
from sqlalchemy import select

from lms.auth.models import Role, User
from lms.courses.models import Course
from lms.enrolment import runs as enrolment_runs
from lms.enrolment import self_service as enrolment_self_service
from lms.enrolment.models import Enrolment
from lms.extensions import db
from lms.quizzes import services as quiz_services
from lms.quizzes.models import QuizAttempt
from tests.conftest import browser_sign_in

pytestmark = pytest.mark.browser

DRAW_SEED = 2


@pytest.fixture(autouse=True)
def _draw_an_ordering_question(monkeypatch: pytest.MonkeyPatch) -> None:
    """The final assessment draws 3 of 5 questions per tag: a fixed seed draws the ordering one."""
    monkeypatch.setattr(quiz_services, "secrets", SimpleNamespace(randbits=lambda bits: DRAW_SEED))


def start_final(page: Any, live_server: str, course: Course, user: User) -> QuizAttempt:
    run = enrolment_runs.default_run(course.id)
    assert run is not None
    enrolment_self_service.self_enrol(user, run, language="en")
    db.session.commit()
    browser_sign_in(page, live_server, user)
    page.goto(f"{live_server}/courses/{course.slug}/quizzes/final-assessment")
    page.locator(".quiz-page form button[type=submit]").click()  # "Start attempt 1", in any language
    page.wait_for_url("**/quiz-attempts/**")
    return saved_attempt(user)


def saved_attempt(user: User) -> QuizAttempt:
    db.session.rollback()  # what the server committed
    attempt = db.session.scalar(
        select(QuizAttempt)
        .join(Enrolment, QuizAttempt.enrolment_id == Enrolment.id)
        .where(Enrolment.user_id == user.id)
    )
    assert attempt is not None
    return attempt


def ordering_position(attempt: QuizAttempt) -> int:
    return next(item.position for item in attempt.questions if item.frozen["type"] == "ordering")


def shown_clocks(page: Any) -> list[str]:
    """Texts on the page (not the hidden live region for screen readers) that tell the time left."""
    return page.evaluate(
        """() => {
            const found = [];
            const walker = document.createTreeWalker(document.body, NodeFilter.SHOW_TEXT);
            while (walker.nextNode()) {
                const node = walker.currentNode;
                const hidden = node.parentElement.closest('.visually-hidden, [hidden]');
                if (/minute\\(s\\) left/.test(node.textContent) && !hidden) {
                    found.push(node.textContent.trim());
                }
            }
            return found;
        }"""
    )


def in_viewport(page: Any, selector: str) -> bool:
    box = page.locator(selector).bounding_box()
    viewport = page.viewport_size
    return box is not None and box["y"] >= 0 and box["y"] + box["height"] <= viewport["height"]


def test_one_clock_in_view_and_a_navigator_that_follows_the_answers(
    page: Any, live_server: str, demo_course: Course, make_user: Callable[..., User]
) -> None:
    page.clock.install()  # the page's clock is moved on by hand below, not waited for
    attempt = start_final(page, live_server, demo_course, make_user(Role.TRAINEE))
    assert page.locator("section.question").count() == 12

    # One clock: the only "minute(s) left" on the page, rounded as the server's deadline says.
    clock = page.locator(".quiz-deadline")
    seconds = int(clock.get_attribute("data-seconds-left"))
    minutes = math.ceil(seconds / 60)
    assert len(shown_clocks(page)) == 1, shown_clocks(page)
    assert f"About {minutes} minute(s) left." in clock.inner_text()
    assert clock.get_attribute("role") == "timer"
    page.clock.fast_forward(5 * 60 * 1000)
    page.clock.run_for(6000)
    assert f"About {minutes - 5} minute(s) left." in clock.inner_text()
    assert len(shown_clocks(page)) == 1, shown_clocks(
        page
    )  # the announcement is hidden text, not a second clock
    assert page.locator(".quiz-timer-announcement").evaluate("e => e.classList.contains('visually-hidden')")

    # The navigator: a link to each question, all unanswered at first.
    links = page.locator(".quiz-navigator a")
    assert links.count() == 12
    assert page.locator(".quiz-navigator a.unanswered").count() == 12
    assert "0 of 12 answered" in page.locator(".quiz-answered-count").inner_text()
    assert links.first.inner_text().strip().startswith("1")
    assert "Question 1, not answered" in links.first.text_content()

    # Answering the first question marks it.
    first = page.locator("section.question").first
    field = first.locator("input[type=radio], input[type=checkbox], input[type=text], select").first
    if field.get_attribute("type") in ("radio", "checkbox"):
        field.check()
    elif field.evaluate("e => e.tagName") == "SELECT":
        field.select_option(index=1)
    else:
        field.fill("42")
    assert "answered" in (links.first.get_attribute("class") or "").split()
    assert "Question 1, answered" in links.first.text_content()
    assert "1 of 12 answered" in page.locator(".quiz-answered-count").inner_text()

    # The last question is one click away, and the clock is still in view down there (sticky).
    links.last.click()
    page.wait_for_url("**#q12-title")
    assert in_viewport(page, "#q12-title")
    assert in_viewport(page, ".quiz-deadline")
    assert in_viewport(page, ".quiz-navigator")
    page.keyboard.press("End")
    assert in_viewport(page, ".quiz-deadline")

    # A page loaded later shows what was saved as answered.
    page.get_by_role("button", name="Save answers").click()
    page.wait_for_url(f"**/quiz-attempts/{attempt.id}")
    assert page.locator(".quiz-navigator a.answered").count() == 1
    assert "1 of 12 answered" in page.locator(".quiz-answered-count").inner_text()


def test_ordering_items_are_dragged_into_order_and_the_drop_downs_follow(
    page: Any, live_server: str, demo_course: Course, make_user: Callable[..., User]
) -> None:
    user = make_user(Role.TRAINEE)
    attempt = start_final(page, live_server, demo_course, user)
    name = f"q{ordering_position(attempt)}"
    section = page.locator(f'section[aria-labelledby="{name}-title"]')
    items = section.locator("ol.ordering > li")
    count = items.count()
    assert count >= 3
    texts = [items.nth(i).locator("span[dir]").inner_text() for i in range(count)]
    assert section.locator(".drag-handle").count() == count
    assert "Drag the items into order" in section.locator("p.hint:visible").inner_text()

    # Drag the last item above the first one.
    handle = items.nth(count - 1).locator(".drag-handle").bounding_box()
    target = items.nth(0).bounding_box()
    page.mouse.move(handle["x"] + handle["width"] / 2, handle["y"] + handle["height"] / 2)
    page.mouse.down()
    page.mouse.move(target["x"] + 20, target["y"] + 4, steps=8)
    page.mouse.up()

    expected = [texts[-1], *texts[:-1]]
    assert [items.nth(i).locator("span[dir]").inner_text() for i in range(count)] == expected
    # every drop-down now says the item's place in the list
    for i in range(count):
        assert items.nth(i).locator("select").input_value() == str(i + 1)
    assert "answered" in (
        page.locator(f'.quiz-navigator a[data-question="{name}"]').get_attribute("class") or ""
    )

    # The keyboard's way still works: a drop-down changed by hand is what is saved.
    items.nth(0).locator("select").focus()
    page.keyboard.press("ArrowDown")  # place 1 -> 2
    page.get_by_role("button", name="Save answers").click()
    page.wait_for_url(f"**/quiz-attempts/{attempt.id}")
    answer = next(item.answer for item in saved_attempt(user).questions if f"q{item.position}" == name)
    # answers are kept per item in the order shown by the server: the last item was given place 2 by hand
    assert answer[count - 1] == 2
    assert answer[0] == 2  # the first item, moved down by the drop, is second too until the trainee fixes it
    assert sorted(answer[1:-1]) == list(range(3, count + 1))


def test_ordering_questions_work_without_javascript(
    browser: Any, live_server: str, demo_course: Course, make_user: Callable[..., User]
) -> None:
    context = browser.new_context(java_script_enabled=False)
    page = context.new_page()
    page.set_default_timeout(10_000)
    try:
        user = make_user(Role.TRAINEE)
        attempt = start_final(page, live_server, demo_course, user)
        name = f"q{ordering_position(attempt)}"
        section = page.locator(f'section[aria-labelledby="{name}-title"]')
        assert section.locator(".drag-handle").count() == 0
        assert page.locator(".quiz-navigator a").count() == 12  # plain links, JavaScript or not
        selects = section.locator("select")
        count = selects.count()
        for part in range(count):
            selects.nth(part).select_option(str(count - part))
        page.get_by_role("button", name="Save answers").click()
        page.wait_for_url(f"**/quiz-attempts/{attempt.id}")
        answer = next(item.answer for item in saved_attempt(user).questions if f"q{item.position}" == name)
        assert answer == [count - part for part in range(count)]
        assert 'class="answered"' in page.content()  # the navigator says so after the reload
    finally:
        context.close()


@pytest.mark.parametrize("language", ["en", "ar"])
def test_quiz_page_fits_a_phone(
    browser: Any, live_server: str, demo_course: Course, make_user: Callable[..., User], language: str
) -> None:
    context = browser.new_context(viewport={"width": 390, "height": 844})
    page = context.new_page()
    page.set_default_timeout(10_000)
    try:
        start_final(page, live_server, demo_course, make_user(Role.TRAINEE, preferred_language=language))
        assert page.locator("html").get_attribute("lang") == language
        # nothing makes the page scroll sideways (the navigator's numbers scroll inside their own row)
        assert page.evaluate("() => document.documentElement.scrollWidth") <= 390
        status = page.locator(".quiz-status").bounding_box()
        assert status is not None and status["x"] >= 0 and status["x"] + status["width"] <= 390
        page.locator(".quiz-navigator a").last.click()
        assert in_viewport(page, ".quiz-deadline")
        assert in_viewport(page, "#q12-title")  # not hidden under the bar
    finally:
        context.close()
