"""Liveness, readiness, request ids and request logging."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from flask import Flask
from sqlalchemy import text

from lms import create_app
from lms.certificates import keys
from lms.extensions import db
from lms.ops.health import migration_heads


def fresh_app(tmp_path: Path, **config: object) -> Flask:
    app = create_app(
        {
            "TESTING": True,
            "INSTANCE_PATH": str(tmp_path),
            "SQLALCHEMY_DATABASE_URI": f"sqlite:///{tmp_path / 'ops.sqlite'}",
            "SECRET_KEY": "ops-test",
            **config,
        }
    )
    with app.app_context():
        db.create_all()
    return app


def stamp_head(app: Flask) -> None:
    with app.app_context(), db.engine.begin() as connection:
        connection.execute(
            text("CREATE TABLE alembic_version (version_num VARCHAR(32) NOT NULL PRIMARY KEY)")
        )
        for head in migration_heads():
            connection.execute(text("INSERT INTO alembic_version VALUES (:v)"), {"v": head})


def test_healthz_answers_without_the_database(tmp_path: Path) -> None:
    app = create_app(
        {"INSTANCE_PATH": str(tmp_path), "SQLALCHEMY_DATABASE_URI": "sqlite:////nonexistent/x.db"}
    )
    response = app.test_client().get("/healthz")
    assert response.status_code == 200
    assert response.json == {"status": "ok"}
    assert response.headers["Cache-Control"] == "no-store"


def test_readyz_reports_each_check_and_is_503_until_all_pass(tmp_path: Path) -> None:
    app = fresh_app(tmp_path)
    client = app.test_client()

    response = client.get("/readyz")
    assert response.status_code == 503
    checks = response.json["checks"]
    assert checks["database"]["ok"] is True
    assert checks["migrations"]["ok"] is False  # create_all: no alembic revision recorded
    assert checks["signing_key"]["ok"] is False  # no key created yet
    assert "redis" not in checks  # not configured: not a dependency

    stamp_head(app)
    keys.load_signing_key(tmp_path)
    response = client.get("/readyz")
    assert response.status_code == 200, response.json
    assert response.json["status"] == "ready"
    assert set(response.json["checks"]) == {"database", "migrations", "signing_key", "public_base_url"}


def test_readyz_fails_when_the_database_is_unreachable(tmp_path: Path) -> None:
    app = create_app(
        {"INSTANCE_PATH": str(tmp_path), "SQLALCHEMY_DATABASE_URI": "sqlite:////nonexistent/dir/x.db"}
    )
    response = app.test_client().get("/readyz")
    assert response.status_code == 503
    assert response.json["checks"]["database"]["ok"] is False
    assert "OperationalError" in response.json["checks"]["database"]["detail"]


def test_readyz_checks_redis_when_configured(tmp_path: Path) -> None:
    app = fresh_app(tmp_path, REDIS_URL="redis://127.0.0.1:1/5")  # nothing listens on port 1
    checks = app.test_client().get("/readyz").json["checks"]
    assert checks["redis"]["ok"] is False


def test_every_response_carries_a_request_id(tmp_path: Path) -> None:
    client = fresh_app(tmp_path).test_client()
    first = client.get("/healthz").headers["X-Request-ID"]
    second = client.get("/no-such-page").headers["X-Request-ID"]
    refused = client.get("/dashboard").headers["X-Request-ID"]  # redirected to sign-in
    assert len({first, second, refused}) == 3
    assert all(len(rid) == 32 for rid in (first, second, refused))
    # A sane id from the reverse proxy is kept, so one id follows the request end to end.
    assert client.get("/healthz", headers={"X-Request-ID": "proxy-abc-123"}).headers["X-Request-ID"] == (
        "proxy-abc-123"
    )
    forged = client.get("/healthz", headers={"X-Request-ID": "bad id <script>"}).headers["X-Request-ID"]
    assert forged != "bad id <script>" and len(forged) == 32


def test_json_request_log_has_one_line_per_request(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    client = fresh_app(tmp_path, LOG_FORMAT="json").test_client()
    capsys.readouterr()
    response = client.get("/courses/some-course")
    lines = [json.loads(line) for line in capsys.readouterr().err.splitlines() if line.startswith("{")]
    requests = [line for line in lines if line["logger"] == "lms.request"]
    assert len(requests) == 1
    entry = requests[0]
    assert entry["request_id"] == response.headers["X-Request-ID"]
    assert entry["route"] == "/courses/<slug>"
    assert entry["path"] == "/courses/some-course"
    assert entry["status"] == response.status_code
    assert entry["method"] == "GET"
    assert entry["user_id"] is None
    assert isinstance(entry["duration_ms"], float)


def test_text_request_log_is_readable(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    client = fresh_app(tmp_path).test_client()
    capsys.readouterr()
    rid = client.get("/healthz").headers["X-Request-ID"]
    err = capsys.readouterr().err
    assert "GET /healthz 200" in err and f"rid={rid}" in err and "user=-" in err
