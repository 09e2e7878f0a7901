"""On a phone only tables scroll sideways, inside their own box that shows it (issue 18), on the admin's
pages too, and on the pages added since issue 18 (sessions, survey results, packages, webhooks, API tokens,
jobs). A run's page held its queue, waiting list and enrolled people in a bare seven-column table and the
trainer's quiz report its score distribution: the whole page scrolled sideways at 390 px; an English course's
page on an Arabic phone too (its outcomes, each marked dir=auto, put their bullets outside the page)."""

from __future__ import annotations

from typing import Any

import pytest
from sqlalchemy import select

from lms.courses.models import Course
from lms.enrolment.models import CourseRun
from lms.extensions import db
from lms.quizzes.models import Quiz
from lms.sessions.models import TrainingSession
from tests.a11y_support import choose_language, load_academy
from tests.a11y_support import sign_in as academy_sign_in
from tests.test_a11y_pages import _ids

pytestmark = pytest.mark.browser

SCROLLS_SIDEWAYS = "() => document.documentElement.scrollWidth > window.innerWidth + 1"
# every table wider than its box is inside a .table-scroll (or a lesson's body, which scrolls the same way)
BARE_WIDE_TABLES = """() => [...document.querySelectorAll('main table')].filter(t =>
    !t.closest('.table-scroll, .lesson-body')
    && t.getBoundingClientRect().width > t.parentElement.clientWidth + 1
).map(t => (t.querySelector('caption, th') || t).textContent.trim().slice(0, 40))"""


def admin_pages() -> list[str]:
    ids = _ids()
    runs = list(db.session.scalars(select(CourseRun.id).order_by(CourseRun.id)))
    session_runs = list(db.session.scalars(select(TrainingSession.run_id).distinct()))
    courses = list(db.session.scalars(select(Course).order_by(Course.id)))
    quizzes = list(db.session.scalars(select(Quiz.id).where(Quiz.course_id == ids["course"])))
    return [
        *(f"/courses/{course.slug}" for course in courses),
        *(f"/authoring/courses/{course.id}/preview" for course in courses),
        *(f"/trainer/quizzes/{quiz}" for quiz in quizzes),
        *(f"/admin/course-runs/{run}" for run in runs),
        *(f"/runs/{run}/sessions" for run in session_runs),
        *(f"/surveys/results/runs/{run}" for run in runs),
        f"/surveys/results/courses/{ids['course']}",
        f"/surveys/results/courses/{ids['course']}/over-time",
        "/reports/indicators",
        "/trainer/sessions",
        "/admin/survey-forms",
        "/integrations/webhooks",
        "/admin/api-tokens",
        "/admin/jobs",
        f"/reports/runs/{ids['run']}/packages",
        "/admin/course-runs",
        "/admin/certificates",
        "/admin/people",
    ]


@pytest.mark.parametrize("language", ["en", "ar"])
def test_admin_pages_fit_a_phone_and_only_tables_scroll(
    live_server: str, browser: Any, language: str
) -> None:
    load_academy()
    pages = admin_pages()
    context = browser.new_context(viewport={"width": 390, "height": 900}, service_workers="block")
    page = context.new_page()
    page.set_default_timeout(15_000)
    refused: list[str] = []  # the app's own CSP refusing its markup (the charts' inline style did)
    page.on("console", lambda m: refused.append(m.text) if "Content Security Policy" in m.text else None)
    academy_sign_in(page, live_server, "admin")
    choose_language(page, live_server, language)
    problems: dict[str, Any] = {}
    seen = 0
    for path in pages:
        response = page.goto(f"{live_server}{path}")
        if response is None or response.status != 200:
            continue
        seen += 1
        bare = page.evaluate(BARE_WIDE_TABLES)
        if bare or page.evaluate(SCROLLS_SIDEWAYS):
            problems[path] = bare or "the page scrolls sideways"
    context.close()
    assert seen >= 10, seen
    assert not problems, problems
    assert refused == [], refused
