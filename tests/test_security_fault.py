"""A gunicorn worker killed during a burst of quiz submissions loses nothing acknowledged and leaves
nothing half-written (SQLite file database, two sync workers, SIGKILL mid-burst)."""

from __future__ import annotations

import http.client
import os
import re
import signal
import sqlite3
import subprocess
import sys
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

from sqlalchemy import func, select

from lms import create_app
from lms.extensions import db
from lms.quizzes.models import AttemptQuestion, QuizAttempt
from tests.conftest_mail import free_port
from tests.test_ops_gunicorn import COURSE, PASSWORD, QUIZ, Visitor, wait_until_ready
from tests.test_ops_gunicorn import prepare_database as prepare_gunicorn_database

PROJECT_ROOT = Path(__file__).resolve().parent.parent
TRAINEES = 12  # prepare_database's fixed cohort


def worker_pids(log: Path) -> list[int]:
    return [int(m.group(1)) for m in re.finditer(r"Booting worker with pid: (\d+)", log.read_text())]


def test_killing_a_worker_mid_burst_loses_nothing_acknowledged(tmp_path: Path) -> None:
    instance = tmp_path / "instance"
    instance.mkdir()
    database = instance / "fault.sqlite"
    url = f"sqlite:///{database}"
    emails, _ = prepare_gunicorn_database(url, instance)
    assert len(emails) == TRAINEES
    port = free_port()
    log = tmp_path / "gunicorn.log"
    env = dict(os.environ)
    env.pop("LMS_REDIS_URL", None)
    env.update(
        LMS_INSTANCE_PATH=str(instance),
        LMS_SQLALCHEMY_DATABASE_URI=url,
        LMS_SECRET_KEY="fault-test",
        LMS_PUBLIC_BASE_URL="https://academy.example.org",  # a production server never issues on loopback
        LMS_WTF_CSRF_ENABLED="false",  # the test drives forms without parsing pages
        LMS_SERVER_BIND=f"127.0.0.1:{port}",
        LMS_SERVER_WORKERS="2",
        # Six sign-ins at once wait for the password-hash slot instead of being shed with 503
        # after 0.2 s (lms/security/sign_in_wave.py) as on a busy machine once: not what this tests.
        LMS_SIGN_IN_HASH_WAIT="30",
        LMS_LOGIN_LIMIT_PER_IP="1000",
    )
    with log.open("wb") as handle:
        server = subprocess.Popen(
            [
                sys.executable,
                "-m",
                "gunicorn",
                "--config",
                "python:lms.ops.gunicorn_conf",
                "lms:create_app()",
            ],
            env=env,
            cwd=PROJECT_ROOT,
            stdout=handle,
            stderr=subprocess.STDOUT,
        )
    acknowledged: dict[str, int] = {}
    failures: list[str] = []
    try:
        wait_until_ready(port, server, log)
        first_workers = worker_pids(log)
        assert len(first_workers) == 2

        # Phase 1: everyone signs in and opens an attempt.
        visitors: dict[str, tuple[Visitor, int]] = {}

        def open_attempt(email: str) -> None:
            visitor = Visitor(port)
            assert visitor.request("POST", "/login", {"email": email, "password": PASSWORD}).status == 302
            start = visitor.request("POST", f"/courses/{COURSE}/quizzes/{QUIZ}/start", {})
            match = re.search(r"/quiz-attempts/(\d+)", start.headers.get("Location", ""))
            assert match, start.headers.get("Location")
            visitors[email] = (visitor, int(match.group(1)))

        with ThreadPoolExecutor(max_workers=6) as pool:
            list(pool.map(open_attempt, emails))

        # Phase 2: all submit at once while one worker is killed.
        go = threading.Event()

        def submit(email: str) -> None:
            visitor, attempt_id = visitors[email]
            go.wait()
            try:
                # Each trainee saves, then submits: two writes per attempt, more chances to be cut off.
                visitor.request("POST", f"/quiz-attempts/{attempt_id}", {"action": "save"})
                response = visitor.request("POST", f"/quiz-attempts/{attempt_id}", {"action": "submit"})
            except (OSError, http.client.HTTPException) as error:
                failures.append(f"{email}: {type(error).__name__}")
                return
            if response.status == 302 and response.headers.get("Location", "").endswith("/review"):
                acknowledged[email] = attempt_id
            else:
                failures.append(f"{email}: {response.status}")

        with ThreadPoolExecutor(max_workers=TRAINEES) as pool:
            futures = [pool.submit(submit, email) for email in emails]
            go.set()
            time.sleep(0.01)
            os.kill(first_workers[0], signal.SIGKILL)
            for future in futures:
                future.result()
        deadline = time.monotonic() + 20
        while len(worker_pids(log)) < 3 and time.monotonic() < deadline:
            time.sleep(0.1)
        assert len(worker_pids(log)) >= 3, "the master did not replace the killed worker"
    finally:
        server.terminate()
        server.wait(timeout=30)

    app = create_app({"INSTANCE_PATH": str(instance), "SQLALCHEMY_DATABASE_URI": url, "SECRET_KEY": "x"})
    with app.app_context():
        attempts = {a.id: a for a in db.session.scalars(select(QuizAttempt)).all()}
        drawn = dict(
            db.session.execute(
                select(AttemptQuestion.attempt_id, func.count()).group_by(AttemptQuestion.attempt_id)
            ).all()
        )
        db.session.remove()
        db.engine.dispose()

    # Nothing acknowledged is missing.
    for attempt_id in acknowledged.values():
        assert attempts[attempt_id].submitted_at is not None
        assert attempts[attempt_id].score is not None
    # Nothing is half-written: every attempt is either open with no score, or submitted and graded,
    # and each keeps all the questions it drew.
    assert len(attempts) == TRAINEES
    for attempt in attempts.values():
        assert (attempt.submitted_at is None) == (attempt.score is None), attempt.id
        assert drawn[attempt.id] == drawn[next(iter(attempts))]
    with sqlite3.connect(database) as connection:
        assert connection.execute("PRAGMA integrity_check").fetchone() == ("ok",)
    print(f"acknowledged {len(acknowledged)}/{TRAINEES}; cut off: {failures}")
