"""Fixtures: one app and schema per test session, every table emptied after each test.

The database is SQLite in a temporary folder by default, or PostgreSQL when LMS_TEST_DATABASE_URL is set
(`make test-postgres`, and CI).
"""

from __future__ import annotations

import itertools
import os
import re
import threading
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from flask import Flask, g
from flask.testing import FlaskClient
from sqlalchemy import Connection, create_engine, make_url, text
from werkzeug.serving import make_server

from lms import create_app
from lms.auth.models import Role, User, UserRole
from lms.auth.passwords import hash_password
from lms.authoring.models import CourseTrainer
from lms.content.loader import load_course
from lms.content.services import sync_course
from lms.courses.models import Course
from lms.courses.published import forget_snapshots
from lms.db import utcnow
from lms.enrolment.runs import ensure_default_run
from lms.extensions import db
from lms.ops import route_limits
from lms.orgs.models import Authority, Country
from lms.settings.services import clear_settings_cache

PROJECT_ROOT = Path(__file__).resolve().parent.parent
TEST_PASSWORD = "correct horse battery"
_TEST_PASSWORD_HASH = hash_password(TEST_PASSWORD)  # hashed once: argon2 is slow on purpose


def pytest_report_header(config: pytest.Config) -> str:
    url = os.environ.get("LMS_TEST_DATABASE_URL")
    if url:
        return f"database: {url}"
    return "database: SQLite (set LMS_TEST_DATABASE_URL for the PostgreSQL pass; skipped in this run)"


def database_url_for_this_worker(instance: Path) -> str:
    """SQLite: a file per test process. PostgreSQL: the given database, or under pytest-xdist one
    database per worker (test_gw0, test_gw1...), created on first use, so workers never share tables."""
    url = os.environ.get("LMS_TEST_DATABASE_URL")
    if not url:
        return f"sqlite:///{instance / 'test.sqlite'}"
    worker = os.environ.get("PYTEST_XDIST_WORKER")
    if not worker:
        return url
    parsed = make_url(url)
    name = f"{parsed.database}_{worker}"
    admin = create_engine(parsed.set(database="postgres"), isolation_level="AUTOCOMMIT")
    with admin.connect() as connection:
        exists = connection.execute(
            text("SELECT 1 FROM pg_database WHERE datname = :n"), {"n": name}
        ).scalar()
        if not exists:
            connection.execute(text(f'CREATE DATABASE "{name}"'))
    admin.dispose()
    return parsed.set(database=name).render_as_string(hide_password=False)


@pytest.fixture(scope="session")
def app(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Flask]:
    instance = tmp_path_factory.mktemp("instance")
    url = database_url_for_this_worker(instance)
    app = create_app(
        {
            "TESTING": True,
            "INSTANCE_PATH": str(instance),
            "SQLALCHEMY_DATABASE_URI": url,
            "WTF_CSRF_ENABLED": False,
            "SECRET_KEY": "test-secret-key",
            "SERVER_NAME": None,
        }
    )

    # Each test keeps one app context pushed (for db.session); Flask reuses it for the requests made
    # inside the test, so `g` would carry the signed-in user and other per-request state from one
    # request to the next. Production gets a fresh `g` per request: so do the tests.
    def fresh_request_globals() -> None:
        for name in list(vars(g)):
            delattr(g, name)

    app.before_request_funcs.setdefault(None, []).insert(0, fresh_request_globals)
    with app.app_context():
        db.drop_all()
        db.create_all()
    yield app
    with app.app_context():
        db.session.remove()
        db.drop_all()
        db.engine.dispose()


@pytest.fixture(autouse=True)
def _clean_database(request: pytest.FixtureRequest) -> Iterator[None]:
    if "app" not in request.fixturenames:
        yield
        return
    app: Flask = request.getfixturevalue("app")
    ctx = app.app_context()
    ctx.push()
    yield
    db.session.rollback()
    db.session.remove()
    tables = list(reversed(db.metadata.sorted_tables))
    with db.engine.begin() as connection:
        if connection.dialect.name == "postgresql":
            _truncate_written_tables(connection, [t.name for t in tables])
        else:
            for table in tables:
                connection.execute(table.delete())
    # Ids start again (PostgreSQL: RESTART IDENTITY): no outline snapshot may outlive its course rows.
    forget_snapshots()
    # The settings row is gone: settings a test saved must not close the next test's registration.
    clear_settings_cache()
    route_limits.limiter(app).reset()  # the per-address route limits (memory storage) start again too
    ctx.pop()


def _truncate_written_tables(connection: Connection, names: list[str]) -> None:
    """TRUNCATE (fresh files, ids from 1) the tables a test wrote to: those whose heap is not empty.

    PostgreSQL extends a table's file on the first row written and only TRUNCATE (or a VACUUM that finds
    the pages empty) shrinks it, so a table of size 0 has had nothing inserted since it was last emptied,
    not even a row rolled back or deleted again, and its sequence was not used by an INSERT. Truncating
    all ~80 tables took ~0.12-0.25 s a test, a quarter of the PostgreSQL suite; most tests write a handful.
    Not DELETE (tried in stop 23): the heap then reuses freed slots, and a SELECT without ORDER BY (92 in
    tests/) returns rows out of insertion order; a truncated table keeps that order reliable."""
    written = connection.execute(
        text(
            "SELECT relname FROM pg_class WHERE relkind = 'r'"
            " AND relnamespace = current_schema()::regnamespace"
            " AND relname = ANY(:names) AND pg_relation_size(oid) > 0"
        ),
        {"names": names},
    ).scalars()
    quoted = ", ".join(f'"{name}"' for name in written)
    if quoted:
        connection.execute(text(f"TRUNCATE {quoted} RESTART IDENTITY CASCADE"))


@pytest.fixture
def make_app(app: Flask) -> Iterator[Callable[..., Flask]]:
    """Another app on the test database (other settings: CSRF on, https, production errors). Its engine is
    disposed after the test: an open psycopg connection collected later warns inside an unrelated test.
    Its instance folder is the test app's (a temporary one per worker) unless given: never the project's
    instance/, where the jobs it queues would reach the development server's worker."""
    made: list[Flask] = []

    def make(**config: Any) -> Flask:
        defaults = {
            "SQLALCHEMY_DATABASE_URI": app.config["SQLALCHEMY_DATABASE_URI"],
            "INSTANCE_PATH": app.instance_path,
        }
        other = create_app({**defaults, **config})
        made.append(other)
        return other

    yield make
    for other in made:
        with other.app_context():
            db.engine.dispose()


@pytest.fixture
def fresh_user_per_request(app: Flask) -> Iterator[None]:
    """Several clients in one test: the test keeps one app context, so Flask-Login's user cache on `g`
    would carry one client's user into another's request. Drop it before each request."""

    def forget_user() -> None:
        g.pop("_login_user", None)

    app.before_request_funcs.setdefault(None, []).insert(0, forget_user)
    yield
    app.before_request_funcs[None].remove(forget_user)


@pytest.fixture
def client(app: Flask) -> FlaskClient:
    return app.test_client()


_counter = itertools.count(1)


@pytest.fixture
def make_authority() -> Callable[..., Authority]:
    def make(country_code: str = "UA", code: str | None = None, name: str | None = None) -> Authority:
        country = db.session.get(Country, country_code)
        if country is None:
            country = Country(code=country_code, name=f"Country {country_code}", names={}, groups=[])
            db.session.add(country)
        n = next(_counter)
        authority = Authority(
            code=code or f"{country_code.lower()}-auth{n}",
            name=name or f"State Border Guard Service {n}",
            kind="border_guard",
            country_code=country_code,
        )
        db.session.add(authority)
        db.session.flush()
        return authority

    return make


@pytest.fixture
def make_user(make_authority: Callable[..., Authority]) -> Callable[..., User]:
    def make(
        *roles: str, authority: Authority | None = None, email: str | None = None, **fields: Any
    ) -> User:
        authority = authority or make_authority()
        n = next(_counter)
        user = User(
            email=email or f"person{n}@agency.test",
            password_hash=_TEST_PASSWORD_HASH,
            given_name=fields.pop("given_name", f"Given{n}"),
            family_name=fields.pop("family_name", f"Family{n}"),
            country_code=authority.country_code,
            authority_id=authority.id,
            email_confirmed_at=fields.pop("email_confirmed_at", utcnow()),
            **fields,
        )
        for role in roles or (Role.TRAINEE,):
            bound = authority.id if role == Role.FOCAL_POINT else None
            user.roles.append(UserRole(role=role, authority_id=bound))
        db.session.add(user)
        db.session.commit()
        return user

    return make


@pytest.fixture
def make_trainer(make_user: Callable[..., User]) -> Callable[..., User]:
    """A trainer an admin assigned to these courses (course_trainer): trainer pages refuse other courses."""

    def make(*courses: Course, **fields: Any) -> User:
        trainer = make_user(Role.TRAINER, **fields)
        for course in courses:
            db.session.add(CourseTrainer(course_id=course.id, user_id=trainer.id))
        db.session.commit()
        return trainer

    return make


@pytest.fixture
def demo_course(app: Flask) -> Course:
    """The real IBM foundations course from courses/, synced as `make run` does."""
    spec, problems = load_course(PROJECT_ROOT / "courses" / "ibm-foundations")
    assert not problems, problems
    assert spec is not None
    course = sync_course(spec).course
    ensure_default_run(course)
    db.session.commit()
    return course


def login(client: FlaskClient, user: User, password: str = TEST_PASSWORD) -> None:
    response = client.post("/login", data={"email": user.email, "password": password})
    assert response.status_code == 302, response.get_data(as_text=True)


def browser_sign_in(page: Any, live_server: str, user: User) -> None:
    """Sign in through the page, as a person does (the browser tests' counterpart of ``login``)."""
    page.goto(f"{live_server}/login")
    page.fill("#email", user.email)
    page.fill("#password", TEST_PASSWORD)
    page.locator("main form button[type=submit]").click()
    page.wait_for_load_state()


@pytest.fixture
def login_as(client: FlaskClient) -> Callable[[User], FlaskClient]:
    def do_login(user: User) -> FlaskClient:
        login(client, user)
        return client

    return do_login


CSRF_FIELD = re.compile(r'name="csrf_token"[^>]*value="([^"]+)"')


class _ServedUntilClosed:
    """The live server's WSGI app: counts the requests in progress and, once closed, answers 503 without
    reaching the app. Closing a page fires `pagehide`, and the package player sends its waiting commit with
    fetch keepalive: that request can arrive after the test, on a kept-alive connection the server's
    shutdown does not end, and its transaction met the teardown's TRUNCATE (a deadlock on PostgreSQL, CI
    2026-12-06, and the next test found the last one's course)."""

    def __init__(self, app: Flask) -> None:
        self.app = app
        self.in_progress = 0
        self.closed = False
        self.idle = threading.Condition()

    def __call__(self, environ: dict[str, Any], start_response: Callable[..., Any]) -> Any:
        with self.idle:
            if self.closed:
                headers = [("Content-Type", "text/plain"), ("Connection", "close")]
                start_response("503 Service Unavailable", headers)
                return [b"the test is over"]
            self.in_progress += 1
        try:
            # The whole body is produced here: the count covers streamed responses' database work too.
            body = self.app(environ, start_response)
            try:
                return list(body)
            finally:
                if hasattr(body, "close"):
                    body.close()
        finally:
            with self.idle:
                self.in_progress -= 1
                self.idle.notify_all()

    def close(self, timeout: float = 30.0) -> None:
        with self.idle:
            self.closed = True
            if not self.idle.wait_for(lambda: self.in_progress == 0, timeout=timeout):
                still = self.in_progress
                raise AssertionError(f"{still} request(s) still running {timeout:.0f} s after the test")


@pytest.fixture
def live_server(app: Flask) -> Iterator[str]:
    """The app served on a free local port in a thread, for Playwright. After the test no request reaches
    the app and those in progress have ended, before the database is cleaned (`_ServedUntilClosed`)."""
    served = _ServedUntilClosed(app)
    server = make_server("127.0.0.1", 0, served, threaded=True)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_port}"
    served.close()
    server.shutdown()
    server.server_close()
    thread.join()


CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]


@pytest.fixture(scope="session")
def browser() -> Iterator[Any]:
    if not Path(CHROMIUM).exists():
        pytest.skip("Debian's chromium is not installed: run `make test`, which installs it")
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        yield browser
        browser.close()


@pytest.fixture
def page(browser: Any) -> Iterator[Any]:
    context = browser.new_context()
    page = context.new_page()
    page.set_default_timeout(10_000)
    yield page
    context.close()
