"""What a learner tripped over (issue 18): English course content on Arabic pages, the way to a final
assessment from the dashboard, and a language chosen on the page before signing in."""

from __future__ import annotations

import re
import time
from collections.abc import Callable
from typing import Any

import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import select

from lms.auth.models import Role, User
from lms.courses.models import Course, Lesson, Module
from lms.enrolment import runs as enrolment_runs
from lms.enrolment import self_service as enrolment_self_service
from lms.enrolment.models import Enrolment, LessonCompletion
from lms.extensions import db
from lms.quizzes.models import Quiz
from lms.security import totp
from lms.security.models import TwoFactorCredential
from tests.conftest import TEST_PASSWORD, browser_sign_in, login


def enrol(user: User, course: Course, language: str = "en") -> Enrolment:
    run = enrolment_runs.default_run(course.id)
    assert run is not None
    enrolment = enrolment_self_service.self_enrol(user, run, language=language)
    db.session.commit()
    return enrolment


def complete_every_lesson(enrolment: Enrolment, course: Course) -> None:
    lessons = db.session.scalars(select(Lesson.id).join(Module).where(Module.course_id == course.id)).all()
    for lesson_id in lessons:
        db.session.add(LessonCompletion(enrolment_id=enrolment.id, lesson_id=lesson_id))
    db.session.commit()


def computed_direction(page: Any, selector: str) -> list[tuple[str, str | None, str | None, str]]:
    """(text, dir attribute, lang attribute, computed direction) of every element the selector finds."""
    return page.eval_on_selector_all(
        selector,
        """elements => elements.map(e => [e.textContent.trim(), e.getAttribute('dir'), e.getAttribute('lang'),
                                     getComputedStyle(e).direction])""",
    )


def assert_own_direction(page: Any, selector: str, expected: int | None = None) -> None:
    found = computed_direction(page, selector)
    assert found, selector
    if expected is not None:
        assert len(found) == expected, (selector, found)
    for text, direction, _lang, computed in found:
        assert direction == "auto", (selector, text)
        # the direction of the text's first letter: English left to right, an Arabic translation right to left
        first_letter = re.search(r"[^\W\d_]", text)
        assert first_letter is not None, (selector, text)
        own = "rtl" if "\u0600" <= first_letter.group() <= "\u06ff" else "ltr"
        assert computed == own, (selector, text)


@pytest.mark.browser
def test_english_course_content_on_arabic_pages_runs_left_to_right(
    page: Any, live_server: str, demo_course: Course, make_user: Callable[..., User]
) -> None:
    user = make_user(Role.TRAINEE, preferred_language="ar")
    enrol(user, demo_course, "en")
    browser_sign_in(page, live_server, user)

    page.goto(f"{live_server}/dashboard")
    assert page.locator("html").get_attribute("dir") == "rtl"
    assert_own_direction(page, ".card h2", 1)  # the course title
    assert_own_direction(page, ".quiz-result span")  # "Pre-test: what do you know already?"
    assert_own_direction(page, ".next-lesson a", 1)
    # the question mark stays at the end of the pre-test's title (at its right, as in English)
    pretest = page.locator(".quiz-result span").filter(has_text="Pre-test").first
    box = pretest.bounding_box()
    assert box is not None
    assert page.evaluate(
        """span => { const range = document.createRange(); const text = span.firstChild;
                   range.setStart(text, text.length - 1); range.setEnd(text, text.length);
                   const mark = range.getBoundingClientRect(); const whole = span.getBoundingClientRect();
                   return mark.right >= whole.right - 1; }""",
        pretest.element_handle(),
    )

    page.goto(f"{live_server}/courses/{demo_course.slug}")
    assert_own_direction(page, ".course-page h1", 1)
    assert_own_direction(page, ".course-page .lead", 1)
    assert_own_direction(page, ".outline .module-title[lang]")
    assert_own_direction(page, ".outline .lesson-list li")  # lessons and quizzes: the entry takes its title's

    page.locator(".outline .lesson-list a").first.click()
    page.wait_for_load_state()
    assert_own_direction(page, ".breadcrumb a", 1)
    lesson = computed_direction(page, "article.lesson")[0]
    assert (lesson[2], lesson[3]) == ("en", "ltr")  # the body's own language and direction

    page.goto(f"{live_server}/")
    assert_own_direction(page, ".course-card h2")
    assert_own_direction(page, ".course-card h2 + p")

    quiz = db.session.scalar(select(Quiz).where(Quiz.course_id == demo_course.id, Quiz.role == "final"))
    assert quiz is not None
    page.goto(f"{live_server}/courses/{demo_course.slug}/quizzes/{quiz.slug}")
    assert_own_direction(page, ".quiz-page h1", 1)
    page.locator(".quiz-page form button[type=submit]").click()
    page.wait_for_url("**/quiz-attempts/**")
    assert_own_direction(page, "h1 bdi", 1)
    # the options of the choice questions (not True/False) and the items of ordering ones (which are drawn)
    assert_own_direction(
        page, ".answer-options:not(.answer-inline) .choice span, .ordering li > span:not(.drag-handle)"
    )


def test_certificates_and_reports_mark_names_and_titles_with_their_direction() -> None:
    """The lists that show names and titles isolate them (the browser test above covers the learner's
    pages; these templates are checked for the marks so that no list loses them)."""
    from lms.config import TEMPLATES_DIR

    expected = {
        "certificates/mine.html": '<bdi dir="auto">{{ c.course_title }}</bdi>',
        "certificates/admin_list.html": '<bdi dir="auto">{{ c.course_title }}</bdi>',
        "reports/_progress.html": '<bdi dir="auto">{{ row.name }}</bdi>',
        "reports/index.html": "<td dir=\"auto\">{{ item.course.text('title', language) }}</td>",
    }
    for name, mark in expected.items():
        assert mark in (TEMPLATES_DIR / name).read_text(encoding="utf-8"), name


@pytest.mark.browser
def test_dashboard_leads_to_the_final_assessment_once_every_lesson_is_done(
    page: Any, live_server: str, demo_course: Course, make_user: Callable[..., User]
) -> None:
    user = make_user(Role.TRAINEE)
    enrolment = enrol(user, demo_course)
    complete_every_lesson(enrolment, demo_course)
    browser_sign_in(page, live_server, user)

    page.goto(f"{live_server}/dashboard")
    card = page.locator(".card").first
    assert "100%" in card.inner_text()
    link = card.get_by_role("link", name="Take the final assessment")
    link.click()
    page.wait_for_url("**/quizzes/final-assessment")
    assert page.get_by_role("button", name="Start attempt 1").is_visible()

    # the course page says the same, with the same way there
    page.goto(f"{live_server}/courses/{demo_course.slug}")
    assert (
        page.locator(".course-page .final-assessment-link")
        .get_attribute("href", timeout=0)
        .endswith("/quizzes/final-assessment")
    )


@pytest.mark.browser
def test_language_chosen_before_signing_in_beats_the_saved_one(
    page: Any, live_server: str, make_user: Callable[..., User]
) -> None:
    user = make_user(Role.TRAINEE, preferred_language="ru")
    page.goto(f"{live_server}/login")
    page.locator("#language-select").select_option("ar")
    page.locator(".language-form button").click()
    page.wait_for_url("**/login")
    assert page.locator("html").get_attribute("lang") == "ar"
    page.fill("#email", user.email)
    page.fill("#password", TEST_PASSWORD)
    page.locator("main form button[type=submit]").click()
    page.wait_for_url("**/dashboard")
    assert page.locator("html").get_attribute("lang") == "ar"  # not Russian, saved long ago
    db.session.rollback()  # see what the server committed
    assert user.preferred_language == "ar"  # and saved: mails follow it too

    # signed in, the switcher saves with a POST (its form carries the CSRF token)
    assert page.locator(".language-form").get_attribute("method") == "post"
    page.locator("#language-select").select_option("fr")
    page.locator(".language-form button").click()
    page.wait_for_url("**/dashboard")
    assert page.locator("html").get_attribute("lang") == "fr"
    db.session.rollback()
    assert user.preferred_language == "fr"


def test_the_language_switcher_does_not_write_on_get(
    client: FlaskClient, login_as: Callable[[User], FlaskClient], make_user: Callable[..., User]
) -> None:
    user = make_user(Role.TRAINEE, preferred_language="ru")
    signed_in = login_as(user)
    assert signed_in.get("/language?language=ar").status_code == 405
    db.session.refresh(user)
    assert user.preferred_language == "ru"


def test_language_chosen_before_signing_in_with_a_second_factor_is_kept(
    app: Flask, make_user: Callable[..., User]
) -> None:
    admin = make_user(Role.ADMIN, preferred_language="ru")
    client = app.test_client()
    login(client, admin)
    client.get("/account/two-factor")
    db.session.rollback()
    credential = db.session.get(TwoFactorCredential, admin.id)
    assert credential is not None
    secret = credential.secret
    assert (
        client.post("/account/two-factor", data={"code": totp.code_at(secret, time.time() - 30)}).status_code
        == 302
    )
    client.post("/logout")

    client.post("/language", data={"language": "ar", "next": "/login"})
    response = client.post("/login", data={"email": admin.email, "password": TEST_PASSWORD})
    assert response.headers["Location"] == "/login/two-factor"
    assert '<html lang="ar"' in client.get("/login/two-factor").get_data(as_text=True)
    assert client.post("/login/two-factor", data={"code": totp.code_at(secret)}).status_code == 302
    assert '<html lang="ar"' in client.get("/dashboard").get_data(as_text=True)
    db.session.rollback()
    assert admin.preferred_language == "ar"
