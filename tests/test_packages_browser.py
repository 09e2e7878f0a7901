"""A trainer adds a SCORM package to a module in the browser (issue 25), and sees a refusal."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import select

from lms.auth.models import User
from lms.content.loader import load_course
from lms.content.services import sync_course
from lms.courses.models import Course, Lesson, Module
from lms.enrolment.models import LessonCompletion
from lms.extensions import db
from tests.conftest import PROJECT_ROOT, browser_sign_in
from tests.package_support import enrol
from tests.package_zips import package_12, write


@pytest.mark.browser
def test_trainer_uploads_a_package_and_sees_a_refusal(
    page: Any, live_server: str, make_trainer: Callable[..., User], tmp_path: Path
) -> None:
    course = Course(slug="scorm-browser", title="SCORM in the browser")
    course.modules.append(Module(slug="checks", title="Checks"))
    db.session.add(course)
    db.session.commit()
    trainer = make_trainer(course, preferred_language="ar")
    browser_sign_in(page, live_server, trainer)
    page.set_viewport_size({"width": 390, "height": 900})
    page.goto(f"{live_server}/authoring/courses/{course.id}/modules/checks/packages")
    assert page.locator("html").get_attribute("dir") == "rtl"
    page.set_input_files("#package-file", str(write(tmp_path, package_12())))
    page.locator("#package-file ~ button, form.upload-form button").last.click()
    page.wait_for_load_state()
    page.screenshot(path=str(tmp_path / "packages-ar-390.png"), full_page=True)
    assert page.locator(".package-items li").count() == 3
    assert page.evaluate("document.documentElement.scrollWidth <= window.innerWidth")
    page.set_input_files("#package-file", str(write(tmp_path, b"not a zip", "bad.zip")))
    page.locator("form.upload-form button").last.click()
    page.wait_for_load_state()
    assert page.locator(".package-items li").count() == 3
    assert page.locator(".flash, .alert").count() >= 1
    db.session.rollback()  # end the test's read transaction: see what the server committed
    titles = db.session.scalars(select(Lesson.title).order_by(Lesson.position)).all()
    assert titles == ["Introduction", "Documents", "Glossary"]


@pytest.mark.browser
def test_the_demo_package_plays_and_completes_its_lesson(
    page: Any, live_server: str, make_user: Callable[..., User]
) -> None:
    spec, problems = load_course(PROJECT_ROOT / "courses" / "document-fraud-first-line")
    assert spec is not None and not problems
    course = sync_course(spec).course
    db.session.commit()
    lesson = db.session.scalar(select(Lesson).where(Lesson.package_item_identifier == "mrz-practice"))
    assert lesson is not None
    trainee = make_user()
    enrolment = enrol(course, trainee)
    browser_sign_in(page, live_server, trainee)
    page.goto(f"{live_server}/courses/{course.slug}/lessons/{lesson.id}/play")
    frame = page.frame_locator("#package-player iframe")
    for field, digit in (("#q1", "6"), ("#q2", "2"), ("#q3", "9")):  # the ICAO Doc 9303 specimen
        frame.locator(field).fill(digit)
    frame.locator("button[type=submit]").click()
    frame.locator("#result").filter(has_text="3 of 3 right (100%): passed.").wait_for(timeout=5000)
    page.locator("#package-player[data-state=saved]").wait_for()
    db.session.rollback()  # see what the server committed
    done = db.session.scalars(
        select(LessonCompletion.lesson_id).where(LessonCompletion.enrolment_id == enrolment.id)
    ).all()
    assert done == [lesson.id]
