"""User content keeps its own direction on Arabic pages everywhere it is shown (issue 18).

English course, run, quiz and session titles, people's and authorities' names and venues on a right-to-left
page were aligned against their own text ("?Pre-test"). The browser test in test_learner_rough_edges.py
measures the learner's pages; this one walks every main page of every role (and the pages added since:
sessions, surveys, packages, webhooks, API tokens) in Arabic and checks that each piece of such content
sits in an element that takes its own direction: a <bdi>, or an element with a dir attribute (auto, or ltr
for content known to be Latin), below <body>.
"""

from __future__ import annotations

from typing import Any

import lxml.html
import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import select

from lms.auth.models import User
from lms.courses.models import Course, Lesson, Module
from lms.demo.services import DEMO_PASSWORD
from lms.enrolment.models import CourseRun, Enrolment
from lms.extensions import db
from lms.orgs.models import Authority
from lms.quizzes.models import Quiz
from lms.sessions.models import TrainingSession
from lms.surveys.models import SurveyInvitation
from tests.a11y_support import ROLE_EMAILS, load_academy
from tests.conftest import login
from tests.test_a11y_pages import _ids, pages_for

SKIPPED_TAGS = {"script", "style", "title", "option", "textarea", "head"}


def user_content() -> set[str]:
    """Texts people typed (titles, names, places) that are written in Latin letters."""
    texts: set[str] = set()
    texts.update(db.session.scalars(select(Course.title)))
    texts.update(db.session.scalars(select(CourseRun.title)))
    texts.update(db.session.scalars(select(Module.title)))
    texts.update(db.session.scalars(select(Lesson.title)))
    texts.update(db.session.scalars(select(Quiz.title)))
    texts.update(db.session.scalars(select(TrainingSession.title)))
    texts.update(v for v in db.session.scalars(select(TrainingSession.venue_name)) if v)
    texts.update(db.session.scalars(select(Authority.name)))
    texts.update(user.full_name for user in db.session.scalars(select(User)))
    return {t for t in texts if len(t) >= 6 and t.isascii()}


def extra_pages(role: str, ids: dict[str, Any]) -> list[str]:
    """Pages added after the walk of test_a11y_pages was written."""
    run_ids = [
        *db.session.scalars(select(TrainingSession.run_id).distinct().order_by(TrainingSession.run_id)),
        ids["run"],
    ]
    if role == "trainee":
        person = db.session.scalar(select(User.id).where(User.email == ROLE_EMAILS["trainee"]))
        invitations = db.session.scalars(
            select(SurveyInvitation.id).join(Enrolment).where(Enrolment.user_id == person)
        )
        played = db.session.execute(
            select(Course.slug, Lesson.id).join(Module, Module.course_id == Course.id).join(Lesson)
            .where(Lesson.package_id.is_not(None))
        )  # fmt: skip
        return ["/account/api-tokens", *(f"/runs/{run}" for run in db.session.scalars(select(CourseRun.id))),
                *(f"/surveys/{invitation}" for invitation in invitations),
                *(f"/courses/{slug}/lessons/{lesson}/play" for slug, lesson in played)]  # fmt: skip
    if role == "focal_point":
        return ["/account/api-tokens"]
    if role == "trainer":
        return ["/trainer/sessions"]
    if role == "admin":
        return ["/trainer/sessions", "/admin/survey-forms", "/integrations/webhooks", "/admin/api-tokens",
                "/admin/integrations/xapi", "/admin/jobs", f"/reports/runs/{ids['run']}/packages",
                f"/surveys/results/courses/{ids['course']}",
                *(f"/runs/{run}/sessions" for run in run_ids),
                *(f"/surveys/results/runs/{run}" for run in run_ids),
                *(f"/admin/course-runs/{run}" for run in run_ids)]  # fmt: skip
    return []


def unmarked(html: str, texts: set[str]) -> list[str]:
    """Each piece of user content whose nearest bdi/dir element is the page itself."""
    tree = lxml.html.document_fromstring(html)
    body = tree.find("body")
    assert body is not None
    found: list[str] = []

    def check(owner: Any, text: str | None) -> None:
        if not text or not any(t in text for t in texts):
            return
        node = owner
        while node is not None and node.tag not in ("body", "html"):
            if node.tag in SKIPPED_TAGS:
                return
            if node.tag == "bdi" or node.get("dir") in ("auto", "ltr"):
                return
            node = node.getparent()
        found.append(f"<{owner.tag} class={owner.get('class')!r}> {' '.join(text.split())[:80]!r}")

    for element in body.iter():
        if not isinstance(element.tag, str):
            continue
        check(element, element.text)
        if element.getparent() is not None:
            check(element.getparent(), element.tail)
    return found


@pytest.mark.parametrize("role", ["trainee", "focal_point", "trainer", "admin"])
def test_user_content_on_arabic_pages_takes_its_own_direction(
    app: Flask, client: FlaskClient, role: str
) -> None:
    load_academy()
    ids = _ids()
    texts = user_content()
    person = db.session.scalar(select(User).where(User.email == ROLE_EMAILS[role]))
    assert person is not None
    person.preferred_language = "ar"
    db.session.commit()
    login(client, person, DEMO_PASSWORD)

    problems: dict[str, list[str]] = {}
    seen = 0
    for path in dict.fromkeys([*pages_for(role, ids), *extra_pages(role, ids)]):
        response = client.get(path)
        if response.status_code != 200 or not response.mimetype.startswith("text/html"):
            continue
        html = response.get_data(as_text=True)
        assert 'dir="rtl"' in html[:500], path
        seen += 1
        if found := unmarked(html, texts):
            problems[path] = found
    assert seen >= 3, seen
    assert not problems, "\n".join(f"{path}:\n  " + "\n  ".join(lines) for path, lines in problems.items())
