"""Small builders shared by the enrolment tests (not fixtures: plain functions over the session)."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from lms.courses.models import Course
from lms.db import utcnow
from lms.enrolment.models import (
    CourseRun,
    EnrolmentMethod,
    Modality,
    RunAuthorityQuota,
    RunEligibleAuthority,
    RunEligibleCountry,
)
from lms.extensions import db


def make_run(
    course: Course,
    method: str = EnrolmentMethod.NOMINATION,
    *,
    seats: int | None = 10,
    quotas: dict[int, int] | None = None,
    countries: tuple[str, ...] = (),
    authority_ids: tuple[int, ...] = (),
    **fields: Any,
) -> CourseRun:
    today = utcnow().date()
    values: dict[str, Any] = {
        "course_id": course.id,
        "title": f"{course.title} — spring cohort",
        "modality": Modality.ONLINE_SCHEDULED,
        "language": "en",
        "starts_on": today + timedelta(days=14),
        "ends_on": today + timedelta(days=44),
        "enrolment_opens_on": today - timedelta(days=7),
        "enrolment_closes_on": today + timedelta(days=7),
        "seats_total": seats,
        "enrolment_method": method,
        "open_to_all": not (countries or authority_ids),
    }
    values.update(fields)
    run = CourseRun(**values)
    db.session.add(run)
    db.session.flush()
    for authority_id, number in (quotas or {}).items():
        db.session.add(RunAuthorityQuota(run_id=run.id, authority_id=authority_id, seats=number))
    for code in countries:
        db.session.add(RunEligibleCountry(run_id=run.id, country_code=code))
    for authority_id in authority_ids:
        db.session.add(RunEligibleAuthority(run_id=run.id, authority_id=authority_id))
    db.session.commit()
    return run


def make_course(slug: str = "first-line-basics", lessons: int = 2) -> Course:
    """A small published course without a final assessment: finishing the lessons completes it."""
    from lms.courses.models import Lesson, Module

    course = Course(slug=slug, title="First-line check basics", summary="Short course", language="en")
    module = Module(slug="m1", title="Module one", position=0)
    for index in range(lessons):
        module.lessons.append(
            Lesson(slug=f"l{index}", title=f"Lesson {index + 1}", position=index, body_html="<p>x</p>")
        )
    course.modules.append(module)
    db.session.add(course)
    db.session.commit()
    return course


class UserClient:
    """A test client signed in as one person; each request runs in a fresh app context.

    The test's own app context stays pushed (tests/conftest.py), and Flask would reuse it, sharing
    ``g`` (and the signed-in user) between clients; a fresh context per request keeps people apart.
    Read the database afterwards with ``db.session.rollback()`` first to see what the request wrote.
    """

    def __init__(self, app: Any, user: Any) -> None:
        from tests.conftest import TEST_PASSWORD

        email = user.email
        # End the test session's read snapshot: a write after the requests' commits would fail on SQLite.
        db.session.rollback()
        self.app = app
        self.client = app.test_client()
        response = self.post("/login", data={"email": email, "password": TEST_PASSWORD})
        assert response.status_code == 302, response.get_data(as_text=True)

    def get(self, *args: Any, **kwargs: Any) -> Any:
        with self.app.app_context():
            return self.client.get(*args, **kwargs)

    def post(self, *args: Any, **kwargs: Any) -> Any:
        with self.app.app_context():
            return self.client.post(*args, **kwargs)
