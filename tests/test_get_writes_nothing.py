"""GET requests never write (issue 19 item 1; docs/architecture.md "The few writes outside the one commit").

Every GET route of the URL map is requested, with real ids of one course (its run, lesson, quiz, attempt,
session, package...), by an anonymous visitor, the trainee enrolled in it, its trainer, a focal point and
an admin, and every SQL statement the request sends is watched: an INSERT, UPDATE or DELETE fails the
test. The list comes from the URL map, so a GET route added later is walked without touching this file.

The GETs that write on purpose (a lazy state change the page itself is the event of) are named below and
walked too; their writes are tested where they are built.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import replace
from typing import Any

import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import select

from lms.auth.models import Role, User
from lms.courses.models import Course, Lesson
from lms.db import utcnow
from lms.enrolment.models import Enrolment
from lms.extensions import db
from tests import api_support
from tests.conftest import login
from tests.test_access_matrix import CourseB, course_b, course_b_url, routes  # noqa: F401  (course_b: a fixture)
from tests.test_performance_paths import recorded_statements

WRITE_VERBS = frozenset({"INSERT", "UPDATE", "DELETE", "REPLACE", "MERGE"})

# GETs that write by design (docs/architecture.md): each only when its event happens (a lesson of a
# course that completes on reading, the first view of the two-factor set-up, a quiz page finding an
# attempt whose time ran out). An API call also notes its token's last use, at most once a minute
# (lms.api.bearer): the walk's token was used a moment ago, so none of its calls may write.
DECLARED_WRITERS = frozenset(
    {"courses.lesson", "security.two_factor_setup", "quizzes.overview", "quizzes.take", "quizzes.review"}
)
NOT_WALKED = frozenset({"auth.logout"})  # it would end the session the walk relies on


def writes_of(statement: str) -> bool:
    words = statement.lstrip().split(None, 1)
    verb = words[0].upper() if words else ""
    if verb == "WITH":  # a CTE in front of the verb
        return any(f" {write} " in f" {statement.upper()} " for write in WRITE_VERBS)
    return verb in WRITE_VERBS


def writes_in(statements: list[str]) -> list[str]:
    return [statement[:120] for statement in statements if writes_of(statement)]


def get_rules(app: Flask) -> list[Any]:
    return [
        rule for rule in routes(app) if "GET" in (rule.methods or set()) and rule.endpoint not in NOT_WALKED
    ]


def walk(
    app: Flask, client: FlaskClient, b: CourseB, headers: dict[str, str] | None = None
) -> dict[str, list[str]]:
    """Every GET route once; the write statements each sent, by endpoint."""
    found: dict[str, list[str]] = {}
    package_lesson = db.session.scalar(select(Lesson).where(Lesson.package_id == b.package_id))
    assert package_lesson is not None
    as_package = replace(b, lesson_id=package_lesson.id, lesson_slug=package_lesson.slug)
    for rule in get_rules(app):
        # A lesson's routes with a page lesson and with a SCORM package's lesson (the player's pages).
        for values in (b, as_package) if "lesson_id" in rule.arguments else (b,):
            with recorded_statements() as statements:
                response = client.get(course_b_url(rule, values, strict=False), headers=headers)
                response.close()  # a file download holds its file open until closed
            written = writes_in(statements)
            if written and rule.endpoint not in DECLARED_WRITERS:
                found[rule.endpoint] = written
    return found


def test_the_declared_writers_are_routes(app: Flask) -> None:
    endpoints = {rule.endpoint for rule in routes(app)}
    assert endpoints >= DECLARED_WRITERS


def test_the_watch_sees_a_write(app: Flask) -> None:
    """The listener is not blind: a write on the app's engine is noted."""
    with recorded_statements() as statements:
        db.session.execute(db.text("UPDATE course SET title = title WHERE id = -1"))
        db.session.rollback()
    assert writes_in(statements) == ["UPDATE course SET title = title WHERE id = -1"]


@pytest.mark.parametrize(
    "who", ["anonymous", "trainee", "trainer", Role.FOCAL_POINT, Role.ADMIN, "api token"]
)
def test_no_get_route_writes(
    app: Flask,
    course_b: CourseB,  # noqa: F811  (the fixture imported above)
    make_user: Callable[..., User],
    make_trainer: Callable[..., User],
    who: str,
) -> None:
    client = app.test_client()
    headers = None
    if who == "api token":  # an admin's token with every scope, used a moment ago
        secret = api_support.personal(make_user(Role.ADMIN))
        api_support.token_of(secret).last_used_at = utcnow()  # its once-a-minute note is not due
        headers = api_support.bearer(secret)
    elif who == "trainee":  # the one enrolled in course B, with an attempt in progress
        enrolment = db.session.get(Enrolment, course_b.enrolment_id)
        assert enrolment is not None
        login(client, enrolment.user)
    elif who == "trainer":
        login(client, make_trainer(db.session.get(Course, course_b.course_id)))
    elif who != "anonymous":
        login(client, make_user(who))
    db.session.commit()
    assert walk(app, client, course_b, headers) == {}
