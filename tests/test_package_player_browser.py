"""The package player in Chromium (issue 25): SCORM 1.2 and 2004 packages written by the tests play in the
sandboxed frame; score and completion arrive in the database, the module's progress moves, reopening
resumes at the saved location; a hostile package cannot read the cookie, the player page or the academy
with the session."""

from __future__ import annotations

from typing import Any

import pytest
from flask import Flask

from lms.enrolment.models import LessonCompletion
from lms.extensions import db
from lms.packages.runtime.models import PackageAttempt
from tests.conftest import browser_sign_in
from tests.package_support import PAGE_ASSET, PAGE_HOSTILE, enrol, package_course

pytestmark = pytest.mark.browser


def _attempt_row() -> PackageAttempt | None:
    db.session.rollback()
    return db.session.query(PackageAttempt).one_or_none()


def _play(page: Any, live_server: str, url: str) -> Any:
    page.goto(f"{live_server}{url}")
    frame = page.frame_locator("#package-player iframe")
    frame.locator("#out").wait_for()
    return frame


def test_a_scorm_12_package_stores_score_and_completion_and_resumes(
    app: Flask, make_user: Any, live_server: str, page: Any
) -> None:
    setup = package_course(scorm_version="1.2")
    trainee = make_user()
    enrolment = enrol(setup.course, trainee)
    browser_sign_in(page, live_server, trainee)
    frame = _play(page, live_server, setup.play_url)
    # SetValue before Initialize: refused with SCORM 1.2's code 301, the package goes on
    frame.locator("#out").filter(has_text="early=false/301").wait_for()
    frame.locator("#finish").click()
    page.locator("#package-player[data-state=saved]").wait_for()
    attempt = _attempt_row()
    assert attempt is not None
    assert (attempt.completion_status, attempt.success_status, attempt.score_raw) == (
        "completed",
        "passed",
        85,
    )
    assert attempt.cmi["cmi.interactions.0.id"] == "q1"
    lessons = {
        row.lesson_id for row in db.session.query(LessonCompletion).filter_by(enrolment_id=enrolment.id)
    }
    assert lessons == {setup.lesson.id}  # the module's progress moved by the package's lesson
    frame = _play(page, live_server, setup.play_url)
    frame.locator("#out").filter(has_text="entry=resume location=page-3 suspend=answers=a,b").wait_for()


def test_a_scorm_2004_package_gets_the_error_codes_and_its_result_survives_a_dropped_connection(
    app: Flask, make_user: Any, live_server: str, page: Any
) -> None:
    setup = package_course(scorm_version="2004 4th")
    trainee = make_user()
    enrol(setup.course, trainee)
    browser_sign_in(page, live_server, trainee)
    frame = _play(page, live_server, setup.play_url)
    frame.locator("#out").filter(has_text="early=false/132").wait_for()  # SetValue before Initialize
    page.context.set_offline(True)  # the connection drops: the commit waits on the device
    frame.locator("#finish").click()
    frame.locator("#out").filter(has_text="late=false/133").wait_for()  # SetValue after Terminate
    page.locator("#package-player[data-state=offline]").wait_for()
    assert _attempt_row() is None
    assert "slide-7" in page.evaluate("Object.keys(localStorage).map(k => localStorage.getItem(k)).join()")
    page.context.set_offline(False)  # back: the page sends what waited ("online", or its next retry)
    page.locator("#package-player[data-state=saved]").wait_for()
    attempt = _attempt_row()
    assert attempt is not None
    assert (attempt.completion_status, attempt.success_status) == ("completed", "passed")
    assert str(attempt.score_scaled) == "0.90000" and attempt.location == "slide-7"
    frame = _play(page, live_server, setup.play_url)
    frame.locator("#out").filter(has_text="entry=resume location=slide-7").wait_for()


def test_a_hostile_package_cannot_reach_the_cookie_the_player_or_the_session(
    app: Flask, make_user: Any, live_server: str, page: Any
) -> None:
    setup = package_course(page=PAGE_HOSTILE)
    trainee = make_user()
    enrol(setup.course, trainee)
    browser_sign_in(page, live_server, trainee)
    # a readable cookie too, to show the sandbox, not HttpOnly alone, keeps cookies from package scripts
    page.evaluate("document.cookie = 'visible=yes; path=/'")
    frame = _play(page, live_server, setup.play_url)
    out = frame.locator("#out")
    out.filter(has_text="academy:").wait_for()
    text = out.inner_text()
    assert "cookie:blocked" in text and "visible" not in text
    assert "parent:blocked" in text
    assert "storage:blocked" in text
    assert "academy:signed-in" not in text


def test_an_asset_completes_its_lesson_when_opened(
    app: Flask, make_user: Any, live_server: str, page: Any
) -> None:
    setup = package_course(scorm_version="2004 4th", page=PAGE_ASSET, kind="asset")
    trainee = make_user()
    enrolment = enrol(setup.course, trainee)
    browser_sign_in(page, live_server, trainee)
    _play(page, live_server, setup.play_url)
    page.locator("#package-player[data-state=saved]").wait_for()
    db.session.rollback()
    lessons = {
        row.lesson_id for row in db.session.query(LessonCompletion).filter_by(enrolment_id=enrolment.id)
    }
    assert lessons == {setup.lesson.id}
