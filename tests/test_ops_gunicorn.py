"""Production shape end to end: gunicorn with 2 sync workers, PostgreSQL and Redis.

Trainees sign in, read and complete every lesson and take the pre-test (one attempt allowed)
through real HTTP, spread over both worker processes; the database must then hold exactly the
expected rows. Uses its own PostgreSQL database (lms_ops_<random>) and Redis database 5.
"""

from __future__ import annotations

import http.client
import json
import os
import re
import shutil
import subprocess
import sys
import time
from concurrent.futures import ThreadPoolExecutor
from http.cookies import SimpleCookie
from pathlib import Path
from urllib.parse import urlencode

import pytest
from sqlalchemy import func, select, text

from lms import create_app
from lms.auth.models import Role, User, UserRole
from lms.auth.passwords import hash_password
from lms.certificates import keys
from lms.content.loader import load_course
from lms.content.services import sync_course
from lms.courses.models import Lesson, Module
from lms.db import utcnow
from lms.enrolment.models import Enrolment, EnrolmentStatus, LessonCompletion
from lms.enrolment.runs import ensure_default_run
from lms.extensions import db
from lms.ops.health import migration_heads
from lms.orgs.models import Authority, Country
from lms.quizzes.models import QuizAttempt
from tests.conftest_mail import free_port
from tests.test_ops_backup import temporary_postgres_database

PROJECT_ROOT = Path(__file__).resolve().parent.parent
REDIS_URL = "redis://127.0.0.1:6379/5"
PASSWORD = "gunicorn-test-password"
TRAINEES = 12
COURSE = "ibm-foundations"
QUIZ = "pre-test"

redis = pytest.importorskip("redis")


class Visitor:
    """One person's browser: a keep-alive connection and the session cookie."""

    def __init__(self, port: int) -> None:
        self.connection = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
        self.cookies: dict[str, str] = {}
        self.request_ids: list[str] = []

    def request(self, method: str, path: str, form: dict[str, str] | None = None) -> http.client.HTTPResponse:
        headers = {"Cookie": "; ".join(f"{k}={v}" for k, v in self.cookies.items())}
        body = None
        if form is not None:
            body = urlencode(form)
            headers["Content-Type"] = "application/x-www-form-urlencoded"
        self.connection.request(method, path, body=body, headers=headers)
        response = self.connection.getresponse()
        response.read()
        for header in response.headers.get_all("Set-Cookie") or []:
            for name, morsel in SimpleCookie(header).items():
                self.cookies[name] = morsel.value
        self.request_ids.append(response.headers["X-Request-ID"])
        return response


def prepare_database(url: str, instance: Path) -> tuple[list[str], list[int]]:
    app = create_app(
        {"INSTANCE_PATH": str(instance), "SQLALCHEMY_DATABASE_URI": url, "SECRET_KEY": "gunicorn-test",
         "LOG_REQUESTS": False}
    )  # fmt: skip
    with app.app_context():
        db.create_all()
        with db.engine.begin() as connection:  # as `flask db upgrade` would leave it: readiness checks this
            connection.execute(text("CREATE TABLE alembic_version (version_num VARCHAR(32) PRIMARY KEY)"))
            for head in migration_heads():
                connection.execute(text("INSERT INTO alembic_version VALUES (:v)"), {"v": head})
        spec, problems = load_course(PROJECT_ROOT / "courses" / COURSE)
        assert spec is not None and not problems
        course = sync_course(spec).course
        run = ensure_default_run(course)
        run.certificate_issuance = "approval"  # keep PDF rendering out of this load test
        db.session.add(Country(code="UA", name="Ukraine", names={}, groups=[]))
        authority = Authority(code="ua-sbgs", name="SBGS", kind="border_guard", country_code="UA")
        db.session.add(authority)
        db.session.flush()
        password_hash = hash_password(PASSWORD)
        emails = []
        for n in range(TRAINEES):
            user = User(
                email=f"trainee{n}@border.test", password_hash=password_hash, given_name="Trainee",
                family_name=str(n), country_code="UA", authority_id=authority.id, email_confirmed_at=utcnow(),
            )  # fmt: skip
            user.roles.append(UserRole(role=Role.TRAINEE))
            db.session.add(user)
            db.session.flush()
            db.session.add(Enrolment(run_id=run.id, user_id=user.id, status=EnrolmentStatus.ENROLLED))
            emails.append(user.email)
        lesson_ids = list(
            db.session.scalars(
                select(Lesson.id)
                .join(Module)
                .where(Module.course_id == course.id, Module.is_published, Lesson.is_published)
                .order_by(Module.position, Lesson.position)
            )
        )
        db.session.commit()
        db.engine.dispose()
    keys.load_signing_key(instance)
    return emails, lesson_ids


def wait_until_ready(port: int, server: subprocess.Popen[bytes], log: Path) -> dict[str, object]:
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        if server.poll() is not None:
            raise AssertionError(f"gunicorn exited:\n{log.read_text()[-3000:]}")
        connection = http.client.HTTPConnection("127.0.0.1", port, timeout=2)
        try:
            connection.request("GET", "/readyz")
            response = connection.getresponse()
            body = json.loads(response.read())
            if response.status == 200:
                return dict(body)
        except OSError:
            pass  # not listening yet
        finally:
            connection.close()
        time.sleep(0.2)
    raise AssertionError(f"gunicorn did not get ready:\n{log.read_text()[-3000:]}")


def journey(port: int, email: str, lesson_ids: list[int]) -> tuple[int, list[str], list[str]]:
    """Returns (requests made, request ids, unexpected statuses)."""
    visitor = Visitor(port)
    unexpected: list[str] = []

    def expect(response: http.client.HTTPResponse, *statuses: int) -> None:
        if response.status not in statuses:
            unexpected.append(
                f"{response.status} {response.headers.get('Location')} {response.headers['X-Request-ID']}"
            )

    expect(visitor.request("POST", "/login", {"email": email, "password": PASSWORD}), 302)
    expect(visitor.request("GET", "/dashboard"), 200)
    for lesson_id in lesson_ids:
        expect(visitor.request("GET", f"/courses/{COURSE}/lessons/{lesson_id}"), 200)
        expect(visitor.request("POST", f"/courses/{COURSE}/lessons/{lesson_id}/complete", {}), 302)
    start = visitor.request("POST", f"/courses/{COURSE}/quizzes/{QUIZ}/start", {})
    expect(start, 302)
    match = re.search(r"/quiz-attempts/(\d+)", start.headers.get("Location", ""))
    if match:
        attempt = match.group(1)
        expect(visitor.request("GET", f"/quiz-attempts/{attempt}"), 200)
        expect(visitor.request("POST", f"/quiz-attempts/{attempt}", {"action": "submit"}), 302)
    # The pre-test allows one attempt: a second start is refused, whichever worker takes it.
    again = visitor.request("POST", f"/courses/{COURSE}/quizzes/{QUIZ}/start", {})
    expect(again, 302)
    if "/quiz-attempts/" in again.headers.get("Location", ""):
        unexpected.append(f"second attempt opened: {again.headers['Location']}")
    visitor.connection.close()
    return len(visitor.request_ids), visitor.request_ids, unexpected


def test_gunicorn_two_workers_on_postgresql_and_redis(tmp_path: Path) -> None:
    if shutil.which("pg_dump") is None and not Path("/usr/lib/postgresql").exists():
        pytest.skip("no PostgreSQL on this machine")
    store = redis.Redis.from_url(REDIS_URL, socket_connect_timeout=2)
    try:
        store.flushdb()
    except redis.exceptions.ConnectionError:
        pytest.skip("no Redis on 127.0.0.1:6379")
    instance = tmp_path / "instance"
    instance.mkdir()
    log = tmp_path / "gunicorn.log"
    with temporary_postgres_database() as url:
        emails, lesson_ids = prepare_database(url, instance)
        assert len(lesson_ids) >= 5
        port = free_port()
        env = dict(os.environ)
        env.update(
            LMS_INSTANCE_PATH=str(instance),
            LMS_SQLALCHEMY_DATABASE_URI=url,
            LMS_REDIS_URL=REDIS_URL,
            LMS_SECRET_KEY="gunicorn-test",
            LMS_PUBLIC_BASE_URL="https://academy.example.org",  # a production server never issues on loopback
            LMS_WTF_CSRF_ENABLED="false",  # this test drives forms without parsing the pages
            LMS_LOG_FORMAT="json",
            LMS_SERVER_BIND=f"127.0.0.1:{port}",
            LMS_SERVER_WORKERS="2",
            # Six sign-ins at once wait for the password-hash slot instead of being shed with 503
            # after 0.2 s (lms/security/sign_in_wave.py) as on a busy machine once: not what this tests.
            LMS_SIGN_IN_HASH_WAIT="30",
            LMS_SERVER_ACCESS_LOG=str(tmp_path / "access.log"),
        )
        with log.open("wb") as log_handle:
            server = subprocess.Popen(
                [sys.executable, "-m", "gunicorn", "--config", "python:lms.ops.gunicorn_conf",
                 "lms:create_app()"],
                env=env, cwd=PROJECT_ROOT, stdout=log_handle, stderr=subprocess.STDOUT,
            )  # fmt: skip
        try:
            ready = wait_until_ready(port, server, log)
            assert set(ready["checks"]) == {
                "database",
                "migrations",
                "signing_key",
                "redis",
                "public_base_url",
            }  # type: ignore[arg-type]
            started = time.monotonic()
            with ThreadPoolExecutor(max_workers=6) as pool:
                results = list(pool.map(lambda email: journey(port, email, lesson_ids), emails))
            elapsed = time.monotonic() - started
        finally:
            server.terminate()
            server.wait(timeout=30)

        total = sum(count for count, _, _ in results)
        assert total >= 200, total
        assert [bad for _, _, bad in results if bad] == [], log.read_text()[-5000:]
        request_ids = [rid for _, ids, _ in results for rid in ids]
        assert len(set(request_ids)) == total  # every response had its own X-Request-ID

        app = create_app({"INSTANCE_PATH": str(instance), "SQLALCHEMY_DATABASE_URI": url, "SECRET_KEY": "x"})
        with app.app_context():
            completions = db.session.scalar(select(func.count()).select_from(LessonCompletion))
            attempts = db.session.scalars(select(QuizAttempt)).all()
            db.session.remove()
            db.engine.dispose()
        assert completions == TRAINEES * len(lesson_ids)
        assert len(attempts) == TRAINEES  # one each: the limit held across both workers
        assert all(attempt.submitted_at is not None for attempt in attempts)

    # One JSON line per request, from both worker processes.
    lines = [json.loads(line) for line in log.read_text().splitlines() if line.startswith("{")]
    logged = {line["request_id"] for line in lines if line.get("logger") == "lms.request"}
    assert set(request_ids) <= logged
    access = (tmp_path / "access.log").read_text().splitlines()
    assert len(access) >= total
    pids = {m.group(1) for m in re.finditer(r"\[(\d+)\] \[INFO\] Booting worker", log.read_text())}
    assert len(pids) == 2
    store.flushdb()
    print(f"{total} requests in {elapsed:.1f}s")


def _control_settings(instance: Path, **extra: str) -> dict[str, object]:
    code = (
        "import json, lms.ops.gunicorn_conf as c; "
        "print(json.dumps([c.control_socket_disable, getattr(c, 'control_socket', None)]))"
    )
    env = dict(os.environ, LMS_INSTANCE_PATH=str(instance), **extra)
    out = subprocess.run([sys.executable, "-c", code], env=env, capture_output=True, text=True, check=True)  # noqa: S603
    disabled, path = json.loads(out.stdout)
    return {"disabled": disabled, "path": path}


def test_each_instance_has_its_own_control_socket(tmp_path: Path) -> None:
    """gunicorn's `gunicornc` socket defaults to one per user: two servers of one user took it from each
    other. Each instance's lives in its own folder; it can be turned off."""
    first, second = tmp_path / "a", tmp_path / "b"
    assert _control_settings(first) == {"disabled": False, "path": str(first / "gunicorn.ctl")}
    assert _control_settings(second)["path"] == str(second / "gunicorn.ctl")
    assert _control_settings(first, LMS_SERVER_CONTROL_SOCKET="")["disabled"] is True
    too_long = tmp_path / ("x" * 120)
    assert _control_settings(too_long)["disabled"] is True  # no Unix socket address is that long
