"""A trainer builds a course in Chromium (two modules, a lesson with an image, a quiz of three question
types), previews it, publishes it; a trainee enrols, sees the lesson with its image and takes the quiz."""

from __future__ import annotations

import tempfile
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import select

from lms.auth.models import Role, User
from lms.authoring.models import CourseVersion
from lms.courses.models import Course
from lms.extensions import db
from lms.quizzes.models import QuizAttempt
from tests.authoring_support import png_bytes
from tests.conftest import TEST_PASSWORD
from tests.test_quiz_browser import answer_correctly, current_attempt

SCREENSHOTS = Path(tempfile.gettempdir())


def sign_in(page: Any, live_server: str, user: User) -> None:
    page.goto(f"{live_server}/login")
    page.get_by_label("Email").fill(user.email)
    page.get_by_label("Password").fill(TEST_PASSWORD)
    page.get_by_role("button", name="Sign in").click()
    page.wait_for_url(f"{live_server}/dashboard")


def add_question(page: Any, type_label: str, fields: dict[str, str]) -> None:
    page.get_by_role("link", name=type_label, exact=True).click()
    for label, value in fields.items():
        page.get_by_label(label, exact=True).fill(value)
    page.get_by_role("button", name="Save in the draft").click()
    page.wait_for_selector("text=Question saved in the draft.")


@pytest.mark.browser
def loaded_width(image: Any) -> int:
    """The image's natural width once it has loaded: lesson images are lazy (loading="lazy"), so the
    browser fetches one only near the viewport, and asking at once is a race."""
    image.scroll_into_view_if_needed()
    image.evaluate(
        "img => (img.complete && img.naturalWidth) ? null"
        " : new Promise(done => img.addEventListener('load', done, {once: true}))"
    )
    return int(image.evaluate("img => img.naturalWidth"))


def test_trainer_builds_previews_and_publishes_a_course_a_trainee_takes_it(
    page: Any, browser: Any, live_server: str, make_user: Callable[..., User], tmp_path: Path
) -> None:
    trainer = make_user(Role.TRAINER)
    trainee = make_user(Role.TRAINEE)
    sign_in(page, live_server, trainer)
    page.get_by_role("link", name="Authoring").click()
    page.get_by_label("Title").fill("Interview skills")
    page.get_by_label("Short name (in addresses and file names)").fill("interview-skills")
    page.get_by_role("button", name="Create the course").click()
    page.wait_for_selector("text=Course created as a draft.")

    for title, slug in (("Preparing", "preparing"), ("Conducting", "conducting")):
        form = page.locator("form.add-module-form")
        form.get_by_label("Title").fill(title)
        form.get_by_label("Short name").fill(slug)
        form.get_by_role("button", name="Add module").click()
        page.wait_for_selector("text=Module added.")

    # The first lesson, with an uploaded image.
    page.get_by_label("New lesson title").first.fill("Before the interview")
    page.locator("#lesson-slug-preparing").fill("before")
    page.locator("#module-preparing").get_by_role("button", name="Add lesson").click()
    page.wait_for_selector("text=Lesson added: now write its text.")
    image = tmp_path / "Room layout.png"
    image.write_bytes(png_bytes(40, 30))
    page.set_input_files("#upload-file", str(image))
    page.get_by_role("button", name="Upload").click()
    page.wait_for_selector("text=Uploaded.")
    address = "/courses/interview-skills/files/room-layout.png"
    page.get_by_label("Text (Markdown)").fill(
        f"## Set up the room\n\n![Room layout]({address})\n\nSit at an angle."
    )
    page.get_by_role("button", name="Preview").click()
    preview = page.locator(".lesson-preview")
    preview.get_by_role("heading", name="Set up the room").wait_for()
    assert loaded_width(preview.locator("img")) == 40
    page.get_by_role("button", name="Save in the draft").click()
    page.wait_for_selector("text=Lesson saved in the draft.")

    # The second module's lesson.
    page.get_by_role("link", name="Interview skills").click()
    page.locator("#lesson-title-conducting").fill("Asking questions")
    page.locator("#lesson-slug-conducting").fill("asking")
    page.locator("#module-conducting").get_by_role("button", name="Add lesson").click()
    page.get_by_label("Text (Markdown)").fill("Open questions first, closed questions to confirm.")
    page.get_by_role("button", name="Save in the draft").click()
    page.wait_for_selector("text=Lesson saved in the draft.")

    # A quiz with three question types.
    page.get_by_role("link", name="Interview skills").click()
    page.get_by_label("Quiz title").fill("Quick check")
    page.locator("#quiz-slug").fill("quick-check")
    page.get_by_role("button", name="Add quiz").click()
    page.wait_for_selector("text=Quiz added: now add its questions.")
    add_question(
        page,
        "Single choice",
        {
            "Question id": "first-question",
            "Question": "Which question opens an interview?",
            "Choices": "* Tell me about your journey.\nDid you pay a smuggler?",
        },
    )
    add_question(
        page,
        "True or false",
        {
            "Question id": "interpreter",
            "Question": "An interpreter may be a family member.",
            "Correct answer": "false",
        },
    )
    add_question(
        page,
        "Number",
        {
            "Question id": "breaks",
            "Question": "Minutes between breaks in a long interview?",
            "Correct answer": "60",
            "Tolerance": "15",
        },
    )
    page.screenshot(path=str(SCREENSHOTS / "authoring-quiz.png"), full_page=True)

    # Preview as trainee: graded, nothing recorded.
    page.get_by_role("link", name="Preview as trainee").click()
    page.get_by_label("Tell me about your journey.").check()  # questions come in the quiz's order
    page.check('input[name="q2"][value="false"]')
    page.fill('input[name="q3"]', "60")
    page.get_by_role("button", name="Grade my answers").click()
    page.wait_for_selector(".preview-score")
    assert "Score: 3 of 3 points (100.0%). Passed." in page.locator(".preview-score").inner_text()
    db.session.rollback()
    assert db.session.scalar(select(QuizAttempt.id)) is None

    # Publish.
    page.get_by_role("link", name="Interview skills").click()
    page.screenshot(path=str(SCREENSHOTS / "authoring-editor.png"), full_page=True)
    page.get_by_label("What changed (kept in the version history)").fill("First version of the course")
    page.get_by_role("button", name="Publish", exact=True).click()
    page.wait_for_selector("text=Version 1 is published")
    db.session.rollback()
    course = db.session.scalar(select(Course).where(Course.slug == "interview-skills"))
    assert course is not None and course.is_published
    assert (
        db.session.scalar(select(CourseVersion.note).where(CourseVersion.course_id == course.id))
        == "First version of the course"
    )

    # The trainee enrols, reads the lesson with its image and takes the quiz.
    context = browser.new_context()
    other = context.new_page()
    other.set_default_timeout(10_000)
    sign_in(other, live_server, trainee)
    other.goto(f"{live_server}/courses/interview-skills")
    other.get_by_role("button", name="Enrol in this course").click()
    other.wait_for_url("**/lessons/**")
    other.get_by_role("heading", name="Set up the room").wait_for()
    assert loaded_width(other.locator(".lesson-body img")) == 40
    other.screenshot(path=str(SCREENSHOTS / "authoring-trainee-lesson.png"), full_page=True)
    other.goto(f"{live_server}/courses/interview-skills/quizzes/quick-check")
    other.get_by_role("button", name="Start").first.click()
    other.wait_for_url("**/quiz-attempts/**")
    answer_correctly(other, current_attempt(trainee))
    other.get_by_role("button", name="Submit attempt").click()
    other.wait_for_url("**/review")
    assert "Passed." in other.locator(".attempt-score").inner_text()
    context.close()
