"""Access matrix, XSS and CSRF walks generated from the URL map (issue 9).

The world has two of everything: two authorities (each with a focal point and a trainee), two
courses, and each trainee's enrolments, quiz attempt and certificate. Every route that takes an id
of something owned by a person or an authority is tried by the *other* party with the victim's ids:
the answer must be a refusal (403/404) and the database must be unchanged. A new route with an id
argument that nobody classified below makes the suite fail, as does a route without an access rule.
"""

from __future__ import annotations

import hashlib
import re
from collections.abc import Callable
from dataclasses import dataclass
from datetime import timedelta
from typing import Any

import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import func, select
from werkzeug.routing import Rule

from lms.auth.access import rules_for_endpoint
from lms.auth.models import Role, User, UserRole
from lms.certificates.models import Certificate
from lms.courses.models import Course
from lms.db import utcnow
from lms.enrolment import completion as enrolment_completion
from lms.enrolment import runs as enrolment_runs
from lms.enrolment import self_service as enrolment_self_service
from lms.enrolment.models import Enrolment
from lms.extensions import db
from lms.quizzes import services as quiz_services
from lms.quizzes.models import Quiz, QuizAttempt
from lms.surveys.models import ItemType, RunSurvey, SurveyForm, SurveyInvitation, SurveyItem, SurveyKind
from tests.conftest import TEST_PASSWORD
from tests.enrolment_support import make_course

# Arguments that name something belonging to one person or one authority: the other party must be
# refused. Arguments that name shared things (a course, a run, a lesson) are governed by role rules,
# which tests/test_access_matrix.py checks for every role, and for trainers by course_trainer (the walk
# as "the trainer of another course" there).
OWNED_ARGUMENTS = {
    "enrolment_id", "attempt_id", "user_id", "role_id", "authority_id", "code",
    "invitation_id",  # a survey invitation is one person's (tests/test_survey_taking.py too)
    "token_id", "person_id",  # API tokens and the API's people (issue 24): one person's
}  # fmt: skip
SHARED_ARGUMENTS = {
    "slug", "lesson_id", "run_id", "quiz_slug", "quiz_id", "question_id", "token", "filename", "course_id",
    "where", "key", "path", "kind", "version", "name", "job_id", "report", "language", "lang", "index",
    "operation",
    "rest",  # the API's catch-all: a path no API route matches (a 404 problem)
    "batch",  # a bulk issue's progress page: admins only, it names no person
    "import_id",  # a CSV import's progress page: its starter and admins (tests/test_csv_import_scale.py)
    # a run's sessions and their sign-in sheets: admins and the course's trainers, by course_trainer
    # (the walk as "the trainer of another course" in tests/test_access_matrix.py)
    "session_id", "scan_id",
    "check_in_code",  # the room's rotating code: names a session's moment, not a person
    "form_id", "item_id", "item_type",  # survey forms: admins only, they name no person
    # an authority's webhook subscription: its focal points and admins; another authority's focal point
    # gets 404 and changes nothing (tests/test_integrations_access.py walks every such route)
    "subscription_id",
    "package_id",  # a course's SCORM package: its trainers and admins (tests/test_packages_import.py)
    # a package version's files on the package host: the per-version key is the permission, course content
    # only, never a person's data (tests/test_package_offline.py)
    "version_id",
}  # fmt: skip
# Public by design: anyone holding a certificate code may verify it.
PUBLIC_BY_DESIGN = {"certificates.verify", "certificates.public_credential"}
# Tables a refused request may legitimately touch: rate-limit counters and request bookkeeping.
STATIC_CONTENT_TABLES = {"lesson", "question", "question_bank", "quiz_slot", "module", "course_version"}
VOLATILE_TABLES = {"rate_limit_counter", "verify_rate_window", "job", "jobs_job", "request_metric"}

XSS_PAYLOADS = (
    '<script>alert("xss1")</script>',
    '"><img src=x onerror=alert(2)>',
    "<svg onload=alert(3)>",
    "ليلى<script>تنبيه(4)</script>",
    'حداد"><b onmouseover=alert(5)>عربي</b>',
)
XSS_MARKERS = (
    "<script>alert",
    "<img src=x onerror",
    "<svg onload",
    "<script>تنبيه",
    "<b onmouseover",
)


@dataclass
class Party:
    authority_id: int
    focal_point: User
    trainee: User
    enrolment: Enrolment
    attempt: QuizAttempt
    certificate: Certificate
    invitation_id: int = 0


@dataclass
class World:
    a: Party
    b: Party
    trainer: User
    admin: User
    courses: tuple[Course, Course]


def _complete(user: User, course: Course) -> Enrolment:
    run = enrolment_runs.ensure_default_run(course)
    enrolment = enrolment_self_service.self_enrol(user, run, language="en")
    for module in course.modules:
        for lesson in module.lessons:
            enrolment_completion.complete_lesson(enrolment, lesson)
    db.session.commit()
    return enrolment


def _party(make_user: Callable[..., User], make_authority: Callable[..., Any], demo: Course, small: Course,
           country: str, names: dict[str, str]) -> Party:  # fmt: skip
    authority = make_authority(country, name=names.get("authority"))
    focal = make_user(Role.FOCAL_POINT, authority=authority)
    trainee = make_user(
        Role.TRAINEE,
        authority=authority,
        given_name=names.get("given", "Olena"),
        family_name=names.get("family", "Koval"),
        native_name=names.get("native"),
        position=names.get("position"),
    )
    run = enrolment_runs.ensure_default_run(demo)
    enrolment = enrolment_self_service.self_enrol(trainee, run, language="en")
    quiz = db.session.scalars(select(Quiz).where(Quiz.course_id == demo.id).order_by(Quiz.id)).first()
    assert quiz is not None
    attempt, _new = quiz_services.start_attempt(enrolment, quiz)
    db.session.commit()
    _complete(trainee, small)
    certificate = db.session.scalar(select(Certificate).where(Certificate.user_id == trainee.id))
    assert certificate is not None
    return Party(authority.id, focal, trainee, enrolment, attempt, certificate)


@pytest.fixture
def world(
    make_user: Callable[..., User],
    make_authority: Callable[..., Any],
    make_trainer: Callable[..., User],
    demo_course: Course,
) -> World:
    small = make_course("second-course")
    a = _party(make_user, make_authority, demo_course, small, "UA", {})
    b = _party(
        make_user, make_authority, demo_course, small, "JO",
        {"authority": XSS_PAYLOADS[1], "given": XSS_PAYLOADS[0], "family": XSS_PAYLOADS[3],
         "native": XSS_PAYLOADS[4], "position": XSS_PAYLOADS[2]},
    )  # fmt: skip
    trainer = make_trainer(
        demo_course, small
    )  # assigned: the XSS walk sees the trainer pages of both courses
    admin = make_user(Role.ADMIN)
    _invite_to_survey(small, (a, b))
    return World(a, b, trainer, admin, (demo_course, small))


def _invite_to_survey(course: Course, parties: tuple[Party, ...]) -> None:
    """Each party's trainee is asked the end-of-course survey of the course they completed."""
    form = SurveyForm(slug="walk-form", kind=SurveyKind.END_OF_COURSE, title={"en": "Walk"})
    form.items.append(SurveyItem(key="useful", type=ItemType.AGREEMENT, prompt={"en": "Useful"}))
    run = enrolment_runs.ensure_default_run(course)
    run_survey = RunSurvey(run_id=run.id, form=form, kind=SurveyKind.END_OF_COURSE)
    db.session.add(run_survey)
    db.session.flush()
    now = utcnow()
    for party in parties:
        enrolment = db.session.scalar(
            select(Enrolment).where(Enrolment.run_id == run.id, Enrolment.user_id == party.trainee.id)
        )
        assert enrolment is not None
        invitation = SurveyInvitation(
            run_survey_id=run_survey.id,
            enrolment_id=enrolment.id,
            opens_at=now,
            closes_at=now + timedelta(days=30),
        )
        db.session.add(invitation)
        db.session.flush()
        party.invitation_id = invitation.id
    db.session.commit()


def database_digest() -> str:
    """One hash of every row of every table (but the volatile ones): equal means nothing changed."""
    db.session.rollback()
    digest = hashlib.sha256()
    for table in db.metadata.sorted_tables:
        if table.name in VOLATILE_TABLES:
            continue
        if table.name in STATIC_CONTENT_TABLES:  # course content: large, and no owned-id route edits it
            count = db.session.scalar(select(func.count()).select_from(table))
            digest.update(f"{table.name}:{count}".encode())
            continue
        rows = db.session.execute(select(table).order_by(*table.primary_key.columns)).all()
        digest.update(f"{table.name}:{[tuple(map(str, r)) for r in rows]}".encode())
    db.session.rollback()
    return digest.hexdigest()


def signed_in(app: Flask, user: User) -> FlaskClient:
    client = app.test_client()
    response = client.post("/login", data={"email": user.email, "password": TEST_PASSWORD})
    assert response.status_code == 302, response.get_data(as_text=True)
    return client


def routes(app: Flask) -> list[Rule]:
    return [rule for rule in app.url_map.iter_rules() if rule.endpoint != "static"]


def victim_values(world: World, victim: Party) -> dict[str, Any]:
    role = db.session.scalar(select(UserRole).where(UserRole.user_id == victim.trainee.id))
    assert role is not None
    return {
        "enrolment_id": victim.enrolment.id,
        "attempt_id": victim.attempt.id,
        "user_id": victim.trainee.id,
        "role_id": role.id,
        "authority_id": victim.authority_id,
        "code": victim.certificate.code,
        "invitation_id": victim.invitation_id,
        "slug": world.courses[0].slug,
        "quiz_slug": "pre-test",
    }


def build(rule: Rule, values: dict[str, Any]) -> str:
    filled = {}
    for argument in rule.arguments:
        converter = rule._converters.get(argument)
        is_int = type(converter).__name__ == "IntegerConverter"
        filled[argument] = values.get(argument, 1 if is_int else "x")
    built = rule.build(filled, append_unknown=False)
    assert built is not None
    return built[1]


HOSTILE_FORM = {
    "reason": "hostile", "justification": "hostile", "action": "submit", "role": "admin",
    "authority_id": "1", "approve": "1", "decision": "approve", "show_reason_publicly": "y",
}  # fmt: skip


def methods_of(rule: Rule) -> list[str]:
    return sorted((rule.methods or set()) - {"HEAD", "OPTIONS"})


def test_every_id_argument_is_classified(app: Flask) -> None:
    """A new route whose argument nobody classified fails here: decide whether it names something
    owned (add to OWNED_ARGUMENTS, the walk below then checks it) or shared."""
    unknown = {
        (rule.endpoint, argument)
        for rule in routes(app)
        for argument in rule.arguments
        if argument not in OWNED_ARGUMENTS | SHARED_ARGUMENTS
    }
    assert unknown == set()
    missing = [rule.endpoint for rule in routes(app) if rules_for_endpoint(app, rule.endpoint) is None]
    assert missing == []


def test_other_parties_are_refused_and_nothing_changes(app: Flask, world: World) -> None:
    actors = {
        "trainee of the other authority": (world.a.trainee, world.b),
        "focal point of the other authority": (world.a.focal_point, world.b),
        "trainer": (world.trainer, world.b),
        "the victim's own focal point, on another authority's trainee": (world.b.focal_point, world.a),
    }
    checked = 0
    failures: list[str] = []
    for label, (actor, victim) in actors.items():
        client = signed_in(app, actor)
        values = victim_values(world, victim)
        for rule in routes(app):
            if rule.endpoint in PUBLIC_BY_DESIGN or rule.endpoint == "auth.logout":
                continue
            if not set(rule.arguments) & OWNED_ARGUMENTS:
                continue
            # the victim's certificate code is the only thing a focal point of the victim's own
            # authority may see; here the victim belongs to another authority
            for method in methods_of(rule):
                before = database_digest()
                url = build(rule, values)
                response = client.open(url, method=method, data=HOSTILE_FORM if method == "POST" else None)
                after = database_digest()
                checked += 1
                # the API (issue 24) takes bearer tokens only: a session gets 401 (tests/test_api_access.py)
                refusals = (401, 403, 404) if rule.endpoint.startswith("api.") else (403, 404)
                if response.status_code not in refusals:
                    failures.append(f"{label}: {method} {url} ({rule.endpoint}) -> {response.status_code}")
                if before != after:
                    failures.append(f"{label}: {method} {url} ({rule.endpoint}) changed the database")
    assert checked > 20
    assert failures == [], "\n".join(failures)


def test_trainees_cannot_reach_another_trainees_attempt_or_certificate(app: Flask, world: World) -> None:
    client = signed_in(app, world.a.trainee)
    assert client.get(f"/quiz-attempts/{world.b.attempt.id}").status_code in (403, 404)
    assert client.get(f"/quiz-attempts/{world.b.attempt.id}/review").status_code in (403, 404)
    assert client.get(f"/certificates/{world.b.certificate.code}.pdf").status_code in (403, 404)
    assert client.get(f"/certificates/{world.b.certificate.code}.json").status_code in (403, 404)
    own = client.get(f"/certificates/{world.a.certificate.code}.json")
    assert own.status_code == 200


# --- XSS ----------------------------------------------------------------------------------------


def _assert_no_markup(body: str, where: str) -> None:
    for marker in XSS_MARKERS:
        assert marker not in body, f"{marker!r} unescaped on {where}"
    assert 'href="javascript:' not in body.lower(), where


def test_user_text_is_escaped_wherever_someone_else_sees_it(app: Flask, world: World) -> None:
    """Names, positions, native names and authority names carry XSS payloads (Latin and Arabic);
    every page and export an admin, the focal point or a trainer opens shows them inert."""
    victim = world.b
    values = victim_values(world, victim)
    viewers = (world.admin, victim.focal_point, world.trainer)
    seen_payload = False
    for viewer in viewers:
        client = signed_in(app, viewer)
        for rule in routes(app):
            if "GET" not in (rule.methods or set()) or rule.endpoint in {
                "auth.logout",
                "ops.healthz",
                "ops.readyz",
            }:
                continue
            url = build(rule, values)
            for query in ("?q=%3Cscript%3Ealert(1)%3C/script%3E&search=%3Csvg%20onload=alert(3)%3E",):
                response = client.get(url + query)
                response.close()
                if response.status_code != 200 or response.mimetype not in ("text/html", "text/csv"):
                    continue
                body = response.get_data(as_text=True)
                if response.mimetype == "text/html":  # a CSV is data, not markup (nosniff, attachment)
                    _assert_no_markup(body, f"{rule.endpoint} as {sorted(viewer.role_names)}")
                if "&lt;script&gt;alert" in body or 'alert("xss1")' in body:
                    seen_payload = True
                if response.mimetype == "text/csv":
                    for cell in re.findall(r'(?:^|,)"?([=+@-][^,"\r\n]*)', body, flags=re.M):
                        assert not cell.startswith(("=", "+", "@")), f"formula in CSV {rule.endpoint}: {cell}"
    assert seen_payload  # the walk did reach pages that show the hostile names


# --- CSRF ---------------------------------------------------------------------------------------

CSRF_FIELD = re.compile(r'name="csrf_token"[^>]*value="([^"]+)"')


@pytest.fixture
def csrf_app(make_app: Callable[..., Flask], tmp_path: Any) -> Flask:
    return make_app(
        TESTING=True,
        INSTANCE_PATH=str(tmp_path),
        SECRET_KEY="csrf-walk",
        WTF_CSRF_ENABLED=True,
        LOG_REQUESTS=False,
    )


def _sign_in_with_token(app: Flask, user: User) -> FlaskClient:
    client = app.test_client()
    page = client.get("/login").get_data(as_text=True)
    match = CSRF_FIELD.search(page)
    assert match is not None
    response = client.post(
        "/login", data={"email": user.email, "password": TEST_PASSWORD, "csrf_token": match.group(1)}
    )
    assert response.status_code == 302
    return client


def test_every_state_changing_route_needs_the_csrf_token(csrf_app: Flask, world: World) -> None:
    values = victim_values(world, world.b)
    anonymous = csrf_app.test_client()
    admin = _sign_in_with_token(csrf_app, world.admin)
    posts = [
        rule for rule in routes(csrf_app) if {"POST", "PUT", "PATCH", "DELETE"} & set(rule.methods or ())
    ]
    assert len(posts) > 30
    failures = []
    before = database_digest()
    for rule in posts:
        url = build(rule, values)
        for client in (anonymous, admin):
            with csrf_app.app_context():
                response = client.post(url, data=HOSTILE_FORM)
            if rule.endpoint.startswith("api."):  # bearer tokens only, CSRF-exempt: no token is 401
                if response.status_code not in (401, 404):
                    failures.append(f"{rule.endpoint} -> {response.status_code}")
                continue
            if client is admin and response.status_code != 400:
                failures.append(f"{rule.endpoint} -> {response.status_code}")
            if client is anonymous and response.status_code not in (400, 302, 403):
                failures.append(f"anonymous {rule.endpoint} -> {response.status_code}")
    assert failures == []
    assert database_digest() == before  # no POST without a token changed anything
