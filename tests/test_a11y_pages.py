"""axe-core on every main page, as each role, in English and in Arabic: zero violations (issue 11).

One test per role so that pytest-xdist spreads them; each loads the demo academy once, signs in and walks
its pages in English, then in Arabic. Colour contrast is checked in English only: the colours are the
same in every language, and that rule is the slowest of axe's. A new violation anywhere fails the test
with the rule, the page and the offending elements.
"""

from __future__ import annotations

from typing import Any

import pytest
from sqlalchemy import select

from lms.auth.models import User
from lms.certificates.models import Certificate
from lms.courses.models import Course, Lesson, Module
from lms.enrolment.models import CourseRun
from lms.extensions import db
from lms.orgs.models import Authority
from lms.quizzes.models import Quiz
from tests.a11y_support import axe_violations, choose_language, describe, load_academy, sign_in

pytestmark = pytest.mark.browser


def _ids() -> dict[str, Any]:
    course = db.session.scalar(select(Course).where(Course.slug == "ibm-foundations"))
    assert course is not None
    lesson_id = db.session.scalar(
        select(Lesson.id).join(Module).where(Module.course_id == course.id).order_by(Lesson.id)
    )
    quizzes = {q.slug: q.id for q in db.session.scalars(select(Quiz).where(Quiz.course_id == course.id))}
    return {
        "course": course.id,
        "lesson": lesson_id,
        "quiz_id": quizzes["pre-test"],
        "run": db.session.scalar(select(CourseRun.id).order_by(CourseRun.id.desc())),
        "certificate": db.session.scalar(select(Certificate.code).order_by(Certificate.id)),
        "person": db.session.scalar(select(User.id).where(User.email == "trainee@academy.test")),
        "authority": db.session.scalar(select(Authority.id).where(Authority.code == "ua-sbgs")),
    }


def pages_for(role: str, ids: dict[str, Any]) -> list[str]:
    course = "/courses/ibm-foundations"
    if role == "anonymous":
        return ["/", course, "/login", "/register", "/verify", f"/verify/{ids['certificate']}",
                "/forgot-password", "/offline"]  # fmt: skip
    # pages every signed-in person has (their navigation differs by role); the account pages once
    common = ["/", "/dashboard", "/certificates"]
    if role == "trainee":
        return [*common, course, f"{course}/lessons/{ids['lesson']}", f"{course}/quizzes/pre-test", "/runs",
                f"/runs/{ids['run']}", "/account", "/account/password", "/account/data",
                "/account/two-factor", "/offline"]  # fmt: skip
    if role == "focal_point":
        return [*common, "/authority", f"/authority/runs/{ids['run']}/nominate", "/reports/",
                "/reports/authority"]  # fmt: skip
    if role == "trainer":
        return [*common, "/trainer/quizzes", f"/trainer/quizzes/{ids['quiz_id']}", "/reports/", "/authoring/"]
    return [*common, "/admin/people", f"/admin/people/{ids['person']}", "/admin/people/new",
            "/admin/authorities", f"/admin/authorities/{ids['authority']}", "/admin/settings", "/admin/audit",
            "/admin/course-runs", f"/admin/course-runs/{ids['run']}", "/admin/course-runs/new",
            "/admin/certificates", "/admin/certificates/pending", "/admin/certificates/issue",
            f"/admin/certificates/{ids['certificate']}", "/reports/", "/reports/indicators",
            f"/reports/runs/{ids['run']}", "/authoring/", "/trainer/quizzes",
            *authoring(ids["course"])]  # fmt: skip


def authoring(course_id: int) -> list[str]:
    base = f"/authoring/courses/{course_id}"
    return [base, f"{base}/metadata", f"{base}/lessons/what-ibm-means", f"{base}/quizzes/pre-test",
            f"{base}/banks/core", f"{base}/preview", "/courses/ibm-foundations/translations",
            f"{base}/modules/the-ibm-concept/packages"]  # fmt: skip


Found = dict[str, list[dict[str, Any]]]


def check(page: Any, where: str, found: Found, contrast: bool) -> None:
    if violations := axe_violations(page, contrast=contrast):
        found[where] = violations


def walk(page: Any, base: str, role: str, ids: dict[str, Any], language: str, found: Found) -> None:
    contrast = language == "en"
    for path in pages_for(role, ids):
        response = page.goto(base + path)
        if response is not None and response.status == 404:  # a feature not built in this tree yet
            continue
        assert response is not None and response.status < 500, f"{path}: {response and response.status}"
        assert page.evaluate("document.documentElement.lang") == language, path
        check(page, f"{language} {path}", found, contrast)
    if role == "anonymous":  # a form with errors: the summary and the inline messages
        page.goto(base + "/login")
        page.locator("main form button[type=submit]").click()
        page.wait_for_load_state()
        check(page, f"{language} /login with errors", found, contrast)
    if role == "trainee":  # a quiz attempt (started in English, resumed in Arabic), then its review
        page.goto(f"{base}/courses/ibm-foundations/quizzes/pre-test")
        page.locator("main form button[type=submit]").first.click()
        page.wait_for_url("**/quiz-attempts/**")
        check(page, f"{language} quiz attempt", found, contrast)
        if language == "ar":
            page.locator("button[name=action][value=submit]").click()
            page.wait_for_url("**/review")
            for review_language in ("ar", "en"):
                choose_language(page, base, review_language)
                page.reload()
                check(page, f"{review_language} quiz review", found, review_language == "en")


@pytest.mark.parametrize("role", ["anonymous", "trainee", "focal_point", "trainer", "admin"])
def test_no_axe_violations(page: Any, live_server: str, role: str) -> None:
    load_academy()
    ids = _ids()
    if role != "anonymous":
        sign_in(page, live_server, role)
    found: Found = {}
    for language in ("en", "ar"):
        choose_language(page, live_server, language)
        walk(page, live_server, role, ids, language, found)
    assert not found, f"axe found violations as {role}:\n" + describe(found)
