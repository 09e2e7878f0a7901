"""Every route declares who may use it; walk the URL map as an anonymous visitor and as each role."""

from __future__ import annotations

import functools
import re
import tempfile
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import select
from werkzeug.routing import Rule
from werkzeug.routing.converters import NumberConverter

from lms import create_app
from lms.auth.access import ANONYMOUS, AUTHENTICATED, PUBLIC, rules_for_endpoint
from lms.auth.models import Role, User
from lms.authoring import assets as authoring_assets
from lms.courses.models import Course, Lesson, Module
from lms.db import utcnow
from lms.enrolment import self_service as enrolment_self_service
from lms.enrolment.runs import default_run
from lms.extensions import db
from lms.packages import services as package_services
from lms.quizzes import services as quiz_services
from lms.quizzes.models import Question, QuestionBank, Quiz
from lms.sessions import services as session_services
from lms.sessions import sheets
from tests.authoring_support import png_bytes
from tests.conftest import login
from tests.package_zips import package_12
from tests.sessions_support import in_person

ROLES = (Role.TRAINEE, Role.TRAINER, Role.FOCAL_POINT, Role.ADMIN)


def routes(app: Flask) -> list[Rule]:
    return [rule for rule in app.url_map.iter_rules() if rule.endpoint != "static"]


def sample_url(rule: Rule) -> str:
    values = {}
    for argument in rule.arguments:
        converter = rule._converters[argument]  # the converter decides which sample fits
        values[argument] = 999999 if type(converter).__name__ in {"IntegerConverter"} else "no-such-thing"
    built = rule.build(values, append_unknown=False)
    assert built is not None
    return built[1]


def method_of(rule: Rule) -> str:
    methods = (rule.methods or set()) - {"HEAD", "OPTIONS"}
    return "GET" if "GET" in methods else sorted(methods)[0]


def test_every_route_declares_an_access_rule(app: Flask) -> None:
    missing = [rule.endpoint for rule in routes(app) if rules_for_endpoint(app, rule.endpoint) is None]
    assert missing == []


def test_a_route_without_a_rule_is_refused(make_app: Callable[..., Flask], tmp_path) -> None:
    other = make_app(TESTING=True, INSTANCE_PATH=str(tmp_path), SECRET_KEY="x")
    other.add_url_rule("/forgotten", "forgotten", lambda: "secret data")
    response = other.test_client().get("/forgotten")
    assert response.status_code == 403
    assert b"secret data" not in response.data


def test_anonymous_visitors_reach_only_public_routes(app: Flask) -> None:
    client = app.test_client()
    for rule in routes(app):
        declared = rules_for_endpoint(app, rule.endpoint) or frozenset()
        response = client.open(sample_url(rule), method=method_of(rule))
        if PUBLIC in declared or ANONYMOUS in declared:
            assert response.status_code != 403, rule.endpoint
            assert "/login?next" not in response.headers.get("Location", ""), rule.endpoint
        else:
            assert response.status_code == 302, rule.endpoint
            assert response.headers["Location"].startswith("/login"), rule.endpoint


@pytest.mark.parametrize("role", ROLES)
def test_each_role_reaches_only_its_routes(app: Flask, make_user: Callable[..., User], role: str) -> None:
    user = make_user(role)
    client = app.test_client()
    login(client, user)
    for rule in routes(app):
        if rule.endpoint == "auth.logout":
            continue  # would end the session the walk relies on
        declared = rules_for_endpoint(app, rule.endpoint) or frozenset()
        response = client.open(sample_url(rule), method=method_of(rule))
        if ANONYMOUS in declared:
            assert response.status_code == 403, rule.endpoint
        elif PUBLIC in declared or AUTHENTICATED in declared or role in declared:
            assert "/login" not in response.headers.get("Location", ""), rule.endpoint
        else:
            assert response.status_code == 403, (rule.endpoint, role)


# --- The trainer of another course (issue 18) ------------------------------------------------------------
#
# @allow says which roles may use a route; which course a trainer may reach is the object-level rule in
# lms/authoring/access.py (course_trainer). Every rule whose arguments name a course's object (course, run,
# quiz, question, attempt, lesson, module, bank, enrolment, a course slug) is requested with course B's real
# ids as the trainer of course A: a trainer route must refuse (403/404) with every method it takes, and B's
# own trainer must not be refused. On every other route (a learner's, a focal point's, an admin's) the trainer
# of course A must get what a signed-in person without roles gets. The list comes from the URL map, so a
# route added later is covered without touching this file; an argument this file has no sample for fails
# below with its name.

COURSE_ARGUMENTS = frozenset(
    {"course_id", "run_id", "quiz_id", "question_id", "attempt_id", "lesson_id", "module_id", "bank_id",
     "enrolment_id", "quiz_slug", "session_id", "scan_id"}
)  # fmt: skip
REFUSED = (403, 404)
PLACEHOLDER = re.compile(r"(<[^>]+>)")


def names_course_object(rule: Rule) -> bool:
    return bool(set(rule.arguments) & COURSE_ARGUMENTS) or rule.rule.startswith("/courses/<")


@functools.cache
def course_object_rules() -> list[str]:
    """Read from an app of its own at collection (the session's app is a fixture, not made yet)."""
    with tempfile.TemporaryDirectory() as instance:
        app = create_app(
            {
                "TESTING": True,
                "INSTANCE_PATH": instance,
                "SQLALCHEMY_DATABASE_URI": "sqlite://",
                "SECRET_KEY": "x",
            }
        )
        found = sorted(rule.rule for rule in routes(app) if names_course_object(rule))
        with app.app_context():
            db.engine.dispose()
    return found


@dataclass(frozen=True)
class CourseB:
    """Real rows of one course, for requests as the trainer of another."""

    course_id: int
    slug: str
    run_id: int
    module_slug: str
    lesson_id: int
    lesson_slug: str
    quiz_id: int
    quiz_slug: str
    bank_slug: str
    question_id: int
    question_key: str
    enrolment_id: int
    attempt_id: int
    asset_name: str
    session_id: int
    scan_id: int
    package_id: int  # a SCORM package in the module (issue 25)


@pytest.fixture
def course_b(demo_course: Course, make_user: Callable[..., User], tmp_path: Path) -> CourseB:
    run = default_run(demo_course.id)
    assert run is not None
    module = db.session.scalar(
        select(Module).where(Module.course_id == demo_course.id).order_by(Module.position)
    )
    assert module is not None
    lesson = db.session.scalar(select(Lesson).where(Lesson.module_id == module.id).order_by(Lesson.position))
    quiz = db.session.scalar(select(Quiz).where(Quiz.course_id == demo_course.id).order_by(Quiz.position))
    bank = db.session.scalar(select(QuestionBank).where(QuestionBank.course_id == demo_course.id))
    assert lesson is not None and quiz is not None and bank is not None
    question = db.session.scalar(select(Question).where(Question.bank_id == bank.id).order_by(Question.id))
    assert question is not None
    enrolment = enrolment_self_service.self_enrol(make_user(Role.TRAINEE), run)
    attempt, _new = quiz_services.start_attempt(enrolment, quiz)
    asset = authoring_assets.store_asset(None, demo_course, "map.png", png_bytes())
    session = session_services.schedule_session(run, in_person(utcnow().date()), actor_id=None)
    scan = sheets.store_scan(session, "signed.pdf", b"%PDF-1.4\n%signed sheet\n", actor_id=enrolment.user_id)
    zipped = tmp_path / "package.zip"
    zipped.write_bytes(package_12())
    package = package_services.import_package(module, zipped, actor=None).package
    db.session.commit()
    return CourseB(
        demo_course.id, demo_course.slug, run.id, module.slug, lesson.id, lesson.slug, quiz.id, quiz.slug,
        bank.slug, question.id, question.key, enrolment.id, attempt.id, asset.name, session.id, scan.id,
        package.id,
    )  # fmt: skip


def course_b_url(rule: Rule, b: CourseB, *, strict: bool) -> str:
    """The rule built with course B's ids; a `<slug>` is the slug of what the path segment before it names.

    strict (a trainer route): every argument needs a real course-B value, or B's own trainer would be
    refused for want of one; elsewhere an argument without one gets the walk's sample above."""
    fixed: dict[str, Any] = {
        "course_id": b.course_id, "run_id": b.run_id, "lesson_id": b.lesson_id, "quiz_id": b.quiz_id,
        "quiz_slug": b.quiz_slug, "question_id": b.question_id, "key": b.question_key,
        "enrolment_id": b.enrolment_id, "attempt_id": b.attempt_id, "name": b.asset_name,
        "kind": "lessons", "where": "bank", "index": 0, "operation": "move",
        "session_id": b.session_id, "scan_id": b.scan_id, "package_id": b.package_id,
    }  # fmt: skip
    slug_after = {"courses": b.slug, "modules": b.module_slug, "lessons": b.lesson_slug,
                  "quizzes": b.quiz_slug, "banks": b.bank_slug, "bank": b.bank_slug}  # fmt: skip
    values: dict[str, Any] = {}
    previous = ""
    for token in PLACEHOLDER.split(rule.rule):
        if not token.startswith("<"):
            previous = token.strip("/").rsplit("/", 1)[-1] or previous
            continue
        argument = token.strip("<>").rsplit(":", 1)[-1]
        if argument == "slug" and previous in slug_after:
            values[argument] = slug_after[previous]
        elif argument in fixed:
            values[argument] = fixed[argument]
        else:
            assert not strict, f"{rule.rule}: teach course_b_url a course-B value for <{argument}>"
            number = isinstance(rule._converters[argument], NumberConverter)
            values[argument] = 999999 if number else "no-such-thing"
        previous = str(values[argument])
    built = rule.build(values, append_unknown=False)
    assert built is not None
    return built[1]


def signed_in(app: Flask, user: User) -> FlaskClient:
    client = app.test_client()
    login(client, user)
    return client


def test_course_object_rules_include_the_trainer_routes_of_issue_18() -> None:
    rules = course_object_rules()
    for path in ("/trainer/quizzes/<int:quiz_id>",
                 "/trainer/quizzes/<int:quiz_id>/questions/<int:question_id>/regrade",
                 "/reports/runs/<int:run_id>", "/reports/runs/<int:run_id>/export",
                 "/authoring/courses/<int:course_id>", "/courses/<slug>/translations",
                 "/runs/<int:run_id>/sessions", "/sessions/<int:session_id>/attendance",
                 "/sessions/<int:session_id>/sign-in-sheets/<int:scan_id>"):  # fmt: skip
        assert path in rules


@pytest.mark.parametrize("path", course_object_rules())
def test_the_trainer_of_another_course_gets_nothing_of_it(
    app: Flask,
    course_b: CourseB,
    make_user: Callable[..., User],
    make_trainer: Callable[..., User],
    path: str,
) -> None:
    rule = next(rule for rule in routes(app) if rule.rule == path)
    declared = rules_for_endpoint(app, rule.endpoint) or frozenset()
    url = course_b_url(rule, course_b, strict=Role.TRAINER in declared)
    course_a = Course(slug="course-a", title="Course A")
    db.session.add(course_a)
    db.session.commit()
    outsider = signed_in(app, make_trainer(course_a))
    methods = sorted((rule.methods or set()) - {"HEAD", "OPTIONS"})
    if Role.TRAINER in declared:
        for method in methods:
            response = outsider.open(url, method=method)
            assert response.status_code in REFUSED, (method, url, response.status_code)
        own = signed_in(app, make_trainer(db.session.get(Course, course_b.course_id)))
        response = own.open(url, method=method_of(rule))
        response.close()  # a file download (a sign-in sheet scan) holds the file open until closed
        assert response.status_code not in REFUSED and response.status_code < 500, (url, response.status_code)
        assert "/login" not in response.headers.get("Location", ""), url
    else:  # a learner's, focal point's or admin's route: being a trainer elsewhere must add nothing
        nobody = signed_in(app, make_user(Role.TRAINEE))
        for method in methods:
            as_trainer = outsider.open(url, method=method).status_code
            assert as_trainer == nobody.open(url, method=method).status_code, (method, url)
