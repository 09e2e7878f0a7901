"""No server error on odd input: every route's path arguments and every query parameter a route reads,
given out-of-range ids, impossible dates, negative pages and odd strings, as each role.

A fuzzing walk of the URL map (like tests/test_access_matrix.py): one request per rule, argument and
value, with the other arguments naming real rows so that the odd value reaches the view's own code. The
query parameters are the ones each route actually reads: a first request with no parameters records
which names the view looked up in ``request.args``, then each of them gets each odd value.
"""

from __future__ import annotations

import csv
import io
import tempfile
import zipfile
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import urlencode

import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import select
from werkzeug.datastructures import ImmutableMultiDict
from werkzeug.routing import Rule
from werkzeug.test import TestResponse

from lms.auth.access import ANONYMOUS, AUTHENTICATED, PUBLIC, rules_for_endpoint
from lms.auth.models import Role, User
from lms.authoring.models import CourseTrainer
from lms.certificates.models import Certificate
from lms.extensions import db
from lms.packages import services as package_services
from lms.quizzes.models import QuizAttempt
from lms.quizzes.question_types import AnswerRejected, index_in_range
from lms.request_input import DATABASE_INT_MAX
from tests.authoring_support import build_course
from tests.conftest import _TEST_PASSWORD_HASH, login
from tests.package_zips import package_12
from tests.reports_support import build_world

ROLES = (Role.ADMIN, Role.TRAINER, Role.FOCAL_POINT, Role.TRAINEE)  # widest first

# /readyz answers 503 on purpose while a readiness check fails (no worker in the tests): not an error.

# Ids no row can have: past PostgreSQL's INTEGER, past SQLite's 64-bit INTEGER, past both.
OUT_OF_RANGE_IDS = (str(DATABASE_INT_MAX + 1), str(2**63), str(2**64), "99999999999999999999")
ODD_IDS = (*OUT_OF_RANGE_IDS, "0", str(DATABASE_INT_MAX))
ODD_STRINGS = ("%00", "..%2F..", "x" * 3000, "%C2%B2", "%EF%BF%BF", "-1")
ODD_DAYS = ("9999-12-31", "0001-01-01", "2024-13-45")  # +1 day overflows, year 1, no such day
ODD_QUERY_VALUES = (
    *ODD_DAYS,
    "-1",
    "99999999999999999999",
    "²",  # str.isdigit() says yes, int() says no
    "\x00",  # PostgreSQL refuses NUL in text
    "x" * 3000,
)


@dataclass(frozen=True)
class Failure:
    role: str
    method: str
    url: str
    problem: str

    def __str__(self) -> str:
        return f"{self.role:12} {self.method:4} {self.url[:160]}: {self.problem}"


class RecordingArgs(ImmutableMultiDict):  # type: ignore[type-arg]
    """Query parameters that remember which names the view asked for."""

    asked: set[str] = set()

    def __getitem__(self, key: Any) -> Any:
        RecordingArgs.asked.add(key)
        return super().__getitem__(key)

    def get(self, key: Any, default: Any = None, type: Any = None) -> Any:
        RecordingArgs.asked.add(key)
        return super().get(key, default=default, type=type)

    def getlist(self, key: Any, type: Any = None) -> Any:
        RecordingArgs.asked.add(key)
        return super().getlist(key, type=type)

    def __contains__(self, key: object) -> bool:
        RecordingArgs.asked.add(str(key))
        return super().__contains__(key)


def routes(app: Flask) -> list[Rule]:
    return [rule for rule in app.url_map.iter_rules() if rule.endpoint not in {"static", "auth.logout"}]


def method_of(rule: Rule) -> str:
    methods = (rule.methods or set()) - {"HEAD", "OPTIONS"}
    return "GET" if "GET" in methods else sorted(methods)[0]


def is_integer_argument(rule: Rule, argument: str) -> bool:
    return type(rule._converters[argument]).__name__ == "IntegerConverter"


def build_url(rule: Rule, values: dict[str, str]) -> str:
    """The URL with the values put in as they are (already URL-encoded where they need to be): Rule.build
    would refuse an integer out of the converter's range, and the point is to send one."""
    path = rule.rule
    for argument in rule.arguments:
        converter = type(rule._converters[argument]).__name__
        spelled = {"IntegerConverter": "int", "PathConverter": "path"}.get(converter, "")
        placeholder = f"<{spelled}:{argument}>" if spelled else f"<{argument}>"
        path = path.replace(placeholder, values[argument])
    assert "<" not in path, path
    return path


def complete_body(response: TestResponse) -> str | None:
    """Read the whole body (a streamed export that breaks off raises here) and check a download parses."""
    data = response.get_data()
    if response.status_code != 200:
        return None
    mimetype = response.mimetype or ""
    if mimetype == "text/csv":
        rows = list(csv.reader(io.StringIO(data.decode("utf-8-sig"))))
        return None if rows else "empty CSV"
    if mimetype.endswith("spreadsheetml.sheet") or mimetype == "application/zip":
        try:
            with zipfile.ZipFile(io.BytesIO(data)) as archive:
                broken = archive.testzip()
        except zipfile.BadZipFile as error:
            return f"broken archive: {error}"
        return f"broken member {broken}" if broken else None
    return None


def check(
    client: FlaskClient, role: str, method: str, url: str, failures: list[Failure]
) -> TestResponse | None:
    try:
        response = client.open(url, method=method)
        problem = complete_body(response)
        response.close()  # a file download (a sign-in sheet scan) holds its file open until closed
    except Exception as error:  # the app raised: the server error this test looks for
        failures.append(Failure(role, method, url, f"{type(error).__name__}: {error}"[:300]))
        return None
    if response.status_code >= 500 and not (url.startswith("/readyz") and response.status_code == 503):
        failures.append(Failure(role, method, url, f"status {response.status_code}"))
    elif problem:
        failures.append(Failure(role, method, url, problem))
    return response


@pytest.fixture
def academy(app: Flask, make_user: Callable[..., User]) -> dict[str, Any]:
    """Real rows for the arguments that are not being fuzzed, and one signed-in client per role."""
    world = build_world(_TEST_PASSWORD_HASH)
    trainer = make_user(Role.TRAINER)
    draft_course = build_course(trainer)
    db.session.add(CourseTrainer(course_id=world.course.id, user_id=trainer.id, assigned_by_id=trainer.id))
    db.session.commit()
    users = {
        Role.ADMIN: make_user(Role.ADMIN),
        Role.TRAINER: trainer,
        Role.FOCAL_POINT: make_user(Role.FOCAL_POINT, authority=world.a1),
        Role.TRAINEE: world.people["p2"],
    }
    clients = {}
    for role, user in users.items():
        clients[role] = app.test_client()
        login(clients[role], user)
    clients[ANONYMOUS] = app.test_client()
    certificate = db.session.query(Certificate).first()
    assert certificate is not None
    attempt = db.session.scalars(
        select(QuizAttempt).where(QuizAttempt.enrolment_id == world.enrolments["p2r1"].id)
    ).first()
    assert attempt is not None
    sane = {
        "run_id": str(world.r1.id),
        "user_id": str(world.people["p2"].id),
        "authority_id": str(world.a1.id),
        "quiz_id": str(world.quizzes["pre_test"].id),
        "question_id": "1",
        "attempt_id": str(attempt.id),
        "enrolment_id": str(world.enrolments["p2r1"].id),
        "lesson_id": str(world.lessons[0].id),
        "role_id": "1",
        "index": "0",
        "code": certificate.code,
        "slug": world.course.slug,
        "quiz_slug": "pre_test",
    }
    authoring = {
        "course_id": str(draft_course.id),
        "slug": "welcome",
        "where": "quiz",
        "kind": "lesson",
        "key": "q1",
        "name": "picture.png",
        "operation": "up",
    }
    sane.update(newer_rows(world, users))
    return {"clients": clients, "sane": sane, "authoring": authoring, "course_id": str(world.course.id)}


def newer_rows(world: Any, users: dict[str, User]) -> dict[str, str]:
    """Real rows for the routes added after the walk was written (sessions, sign-in sheets, survey forms
    and invitations, webhooks, background imports, API tokens), so that their other arguments and their
    query parameters reach the view instead of stopping at a 404."""
    from datetime import date

    from lms.api import tokens
    from lms.enrolment.models import EnrolmentImport
    from lms.integrations.subscriptions import NewSubscription, create_subscription
    from lms.sessions import services as session_services
    from lms.sessions import sheets
    from tests.sessions_support import in_person
    from tests.survey_support import complete, invitation_of, make_form, make_run_with_surveys

    session = session_services.schedule_session(world.r1, in_person(date(2026, 3, 2)), actor_id=None)
    scan = sheets.store_scan(session, "signed.pdf", b"%PDF-1.4\n%signed sheet\n", actor_id=None)
    form = make_form("odd-input-form")
    survey_run = make_run_with_surveys()
    invitation = invitation_of(complete(users[Role.TRAINEE], survey_run))
    assert invitation is not None
    admin = users[Role.ADMIN]
    subscription, _secret = create_subscription(
        admin, NewSubscription("https://receiver.example.org/hook", ["enrolment.completed"])
    )
    job = EnrolmentImport(run_id=world.r1.id, actor_id=admin.id, mode="nominate", dry_run=True,
                          justification="x", language="en", rows_total=1)  # fmt: skip
    db.session.add(job)
    token = tokens.issue_personal(admin, tokens.TokenRequest("odd input", tuple(tokens.SCOPES), 30))
    zipped = Path(tempfile.mkdtemp()) / "package.zip"
    zipped.write_bytes(package_12())
    imported = package_services.import_package(world.lessons[0].module, zipped, actor=None)
    db.session.commit()
    package_lesson = next(lesson for lesson in world.lessons[0].module.lessons if lesson.package_id)
    return {
        "session_id": str(session.id),
        "scan_id": str(scan.id),
        "form_id": str(form.id),
        "item_id": str(form.items[0].id),
        "item_type": "text",
        "invitation_id": str(invitation.id),
        "subscription_id": str(subscription.id),
        "import_id": str(job.id),
        "token_id": str(token.token.id),
        "package_id": str(imported.package.id),
        "version_id": str(imported.version.id),
        "package_lesson_id": str(package_lesson.id),
    }


def sane_values(rule: Rule, academy: dict[str, Any]) -> dict[str, str]:
    values = dict(academy["sane"])
    if rule.endpoint.startswith("authoring"):
        values.update(academy["authoring"])
    values.setdefault("course_id", academy["course_id"])
    if "/play" in rule.rule or "/package-" in rule.rule:  # a lesson of a SCORM package
        values["lesson_id"] = values["package_lesson_id"]
    unknown = {
        argument: "1" if is_integer_argument(rule, argument) else "no-such-thing"
        for argument in rule.arguments
    }
    return {argument: values.get(argument, unknown[argument]) for argument in rule.arguments}


def roles_for(app: Flask, rule: Rule) -> tuple[str, ...]:
    declared = rules_for_endpoint(app, rule.endpoint) or frozenset()
    if ANONYMOUS in declared:
        return (ANONYMOUS,)
    if PUBLIC in declared or AUTHENTICATED in declared:
        return ROLES
    return tuple(role for role in ROLES if role in declared)


def test_out_of_range_ids_are_not_found_at_the_router(app: Flask) -> None:
    """The id converter itself refuses what no database row can hold, for anyone, before any view runs."""
    client = app.test_client()
    for value in OUT_OF_RANGE_IDS:
        for path in (f"/quiz-attempts/{value}", f"/runs/{value}", f"/admin/people/{value}"):
            assert client.get(path).status_code == 404, path
    assert client.get("/runs/-1").status_code == 404


def test_no_route_answers_a_server_error_to_odd_path_arguments(app: Flask, academy: dict[str, Any]) -> None:
    failures: list[Failure] = []
    for rule in routes(app):
        if not rule.arguments or rule.endpoint == "frontend.static":
            continue
        method = method_of(rule)
        base = sane_values(rule, academy)
        for role in roles_for(app, rule):
            client = academy["clients"][role]
            for argument in rule.arguments:
                odd = ODD_IDS if is_integer_argument(rule, argument) else ODD_STRINGS
                for value in odd:
                    url = build_url(rule, {**base, argument: value})
                    response = check(client, role, method, url, failures)
                    if response is not None and value in OUT_OF_RANGE_IDS and response.status_code != 404:
                        failures.append(Failure(role, method, url, f"status {response.status_code}, not 404"))
    assert not failures, "\n".join(map(str, failures))


def test_no_route_answers_a_server_error_to_odd_query_parameters(
    app: Flask, academy: dict[str, Any], monkeypatch: pytest.MonkeyPatch
) -> None:
    class RecordingRequest(app.request_class):  # type: ignore[name-defined,misc]
        parameter_storage_class = RecordingArgs

    monkeypatch.setattr(app, "request_class", RecordingRequest)
    failures: list[Failure] = []
    for rule in routes(app):
        allowed = roles_for(app, rule)
        if method_of(rule) != "GET" or not allowed:
            continue
        role = allowed[
            -1
        ]  # the narrowest (trainee, focal point, trainer, admin): it runs the scoping code too
        client = academy["clients"][role]
        path = build_url(rule, sane_values(rule, academy))
        RecordingArgs.asked = set()
        if (
            check(client, role, "GET", f"{path}?oddinput=1", failures) is None
        ):  # some views read args only if any
            continue
        asked = frozenset(RecordingArgs.asked)
        for name in sorted(asked - {"next", "oddinput"}):  # next=: a redirect target, tested elsewhere
            for value in ODD_QUERY_VALUES:
                check(client, role, "GET", f"{path}?{urlencode({name: value})}", failures)
                if "format" in asked and value in ODD_DAYS and name != "format":
                    # the spreadsheet streams: a day it cannot use must be refused before the 200 starts
                    check(
                        client, role, "GET", f"{path}?{urlencode({name: value, 'format': 'xlsx'})}", failures
                    )
    assert not failures, "\n".join(map(str, failures))


def test_a_day_out_of_range_is_refused_with_a_message(
    app: Flask, make_user: Callable[..., User], login_as: Callable[[User], FlaskClient]
) -> None:
    build_world(_TEST_PASSWORD_HASH)
    client = login_as(make_user(Role.ADMIN))
    message = "Enter a day (YYYY-MM-DD) between the years 1900 and 2999."
    page = client.get("/reports/indicators?date_to=9999-12-31")
    assert page.status_code == 400
    assert message in page.get_data(as_text=True)
    for export in ("/reports/indicators/export", "/reports/indicators/enrolments"):
        for format_ in ("csv", "xlsx"):
            response = client.get(f"{export}?date_to=9999-12-31&format={format_}")
            assert response.status_code == 400, (export, format_)  # refused before a download starts
            assert message in response.get_data(as_text=True)
    assert client.get("/admin/audit?until=9999-12-31").status_code == 400
    assert client.get("/admin/audit.csv?until=9999-12-31").status_code == 400
    assert client.get("/reports/indicators?date_from=2026-03-01&date_to=2999-12-31").status_code == 200


def test_odd_numbers_in_posted_forms_are_refused(
    app: Flask, make_user: Callable[..., User], login_as: Callable[[User], FlaskClient]
) -> None:
    world = build_world(_TEST_PASSWORD_HASH)
    admin = make_user(Role.ADMIN)
    course = build_course(admin)
    client = login_as(admin)
    for odd in ("²", "99999999999999999999"):
        decided = client.post(f"/admin/course-runs/{world.r1.id}/decide", data={"enrolment_ids": odd})
        assert decided.status_code == 302, odd
        assert (
            client.post("/authoring/assignments/remove", data={"course": odd, "trainer": odd}).status_code
            == 400
        )
        added = client.post(
            f"/authoring/courses/{course.id}/modules", data={"revision": odd, "slug": "m9", "title": "M"}
        )
        assert added.status_code < 500, odd


@pytest.mark.parametrize("odd", ["²", "٣٣", "9" * 5000])
def test_an_answer_with_odd_digits_is_rejected_not_a_crash(odd: str) -> None:
    with pytest.raises(AnswerRejected):
        index_in_range(odd, 3)


# --- The API (issue 24): a bearer token, not the page session, so the walks above stop at its 401 ------

ODD_MOMENTS = (
    "9999-12-31T23:59:59-14:00",  # past datetime.max in UTC
    "0001-01-01T00:00:00+14:00",  # before datetime.min in UTC
    "9999-12-31T23:59:59Z",
    "2026-02-30T00:00:00Z",
    "2026-03-01T00:00:00",  # no time zone
)


def test_no_api_route_answers_a_server_error_to_odd_input(
    app: Flask, academy: dict[str, Any], make_user: Callable[..., User]
) -> None:
    """Every operation of /api/v1/openapi.json (so an operation added later is walked too) with an
    admin's token of every scope: each path argument and each query parameter it declares gets the odd
    values, and the POSTs odd ids in their bodies. Out-of-range ids in the path are 404."""
    from tests.api_support import bearer, personal

    headers = bearer(personal(make_user(Role.ADMIN)))
    client = app.test_client()
    spec = client.get("/api/v1/openapi.json").get_json()
    sane = {**academy["sane"], "course_id": academy["course_id"], "person_id": academy["sane"]["user_id"]}
    failures: list[Failure] = []
    statuses: set[int] = set()

    def send(method: str, url: str, body: Any = None) -> TestResponse | None:
        try:
            response = client.open(url, method=method.upper(), headers=headers, json=body)
            response.get_data()
        except Exception as error:  # the app raised
            failures.append(Failure("api", method, url, f"{type(error).__name__}: {error}"[:300]))
            return None
        if response.status_code >= 500:
            failures.append(Failure("api", method, url, f"status {response.status_code}"))
        statuses.add(response.status_code)
        return response

    walked = 0
    for template, operations in spec["paths"].items():
        for method, operation in operations.items():
            parameters = operation.get("parameters", [])
            path_values = {p["name"]: sane.get(p["name"], "1") for p in parameters if p["in"] == "path"}
            body = {"run_id": 2**63, "person_id": 2**64, "justification": "x" * 3000, "reason": "\x00"}
            if method == "post":
                body = {name: body[name] for name in ("run_id", "person_id", "justification", "reason")}
            path = template.format(**path_values)
            send(method, path, body if method == "post" else None)
            for name in path_values:
                integer = any(p["name"] == name and p["schema"].get("type") == "integer" for p in parameters)
                for value in ODD_IDS if integer else ODD_STRINGS:
                    url = template.format(**{**path_values, name: value})
                    response = send(method, url, {} if method == "post" else None)
                    if response is not None and value in OUT_OF_RANGE_IDS and response.status_code != 404:
                        failures.append(
                            Failure("api", method, url, f"status {response.status_code}, not 404")
                        )
            for name in (p["name"] for p in parameters if p["in"] == "query"):
                for value in (*ODD_QUERY_VALUES, *ODD_MOMENTS, str(2**63), "0"):
                    send(method, f"{path}?{urlencode({name: value})}")
            walked += 1
    assert walked >= 13 and {200, 404, 422} <= statuses and 401 not in statuses  # the token is taken
    assert not failures, "\n".join(map(str, failures))
