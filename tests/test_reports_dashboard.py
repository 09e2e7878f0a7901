"""The trainee dashboard: progress, next lesson, quiz results, deadline and certificate per enrolment."""

from __future__ import annotations

import re
from collections.abc import Callable

from flask import Flask
from flask.testing import FlaskClient

from lms.auth.models import Role, User
from lms.certificates.codes import grouped
from lms.certificates.models import Certificate
from lms.courses.models import Course
from lms.extensions import db
from tests.conftest import _TEST_PASSWORD_HASH, login
from tests.reports_support import build_world
from tests.test_learning import enrol


def without_tags(html: str) -> str:
    """The text: titles and codes sit in <span lang>/<bdi> elements (issue 8: language, bidi)."""
    return re.sub(r"<[^>]+>", "", html)


def test_dashboard_shows_next_lesson_results_deadline_and_certificate(app: Flask) -> None:
    world = build_world(_TEST_PASSWORD_HASH)
    client = app.test_client()
    login(client, world.people["p2"])
    page = client.get("/dashboard").get_data(as_text=True)
    assert "50% complete · 2 of 4 lessons" in page
    assert f'href="/courses/{world.course.slug}/lessons/{world.lessons[2].id}"' in page
    assert "Next lesson:" in page and "Lesson 3" in page
    assert "Deadline: Jun 30, 2026" in page  # locale-formatted (issue 8)
    text = without_tags(page)
    assert "Pre Test: 40%" in text and "Post Test: 60%" in text and "Final: not taken" in text

    other = app.test_client()
    login(other, world.people["p1"])
    page = other.get("/dashboard").get_data(as_text=True)
    assert "Final: 85% (passed)" in without_tags(page)  # best of 75 and 85
    active = db.session.query(Certificate).filter_by(enrolment_id=world.enrolments["p1r1"].id).one()
    revoked = db.session.query(Certificate).filter_by(enrolment_id=world.enrolments["p1r2"].id).one()
    assert f"Certificate {grouped(active.code)}" in without_tags(page)
    assert revoked.code not in page  # a revoked certificate is not offered
    assert "Deadline: Apr 30, 2026" in page  # R2


def test_a_quiz_title_ending_in_a_question_mark_is_not_followed_by_a_colon(
    login_as: Callable[[User], FlaskClient], make_user: Callable[..., User], demo_course: Course
) -> None:
    client = login_as(make_user(Role.TRAINEE))
    enrol(client, demo_course)
    text = without_tags(client.get("/dashboard").get_data(as_text=True))
    assert "Pre-test: what do you know already? — not taken" in text and "?: " not in text
    assert re.search(r"Final assessment[^\n]*: not taken", text)  # other titles keep the colon
