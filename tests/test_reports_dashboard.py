"""The trainee dashboard: progress, next lesson, quiz results, deadline and certificate per enrolment."""

from __future__ import annotations

import re

from flask import Flask

from lms.certificates.codes import grouped
from lms.certificates.models import Certificate
from lms.extensions import db
from tests.conftest import _TEST_PASSWORD_HASH, login
from tests.reports_support import build_world


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
