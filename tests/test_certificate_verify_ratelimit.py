"""The public verify pages count lookups per client with Flask-Limiter (lms.ops.route_limits), with
Redis and without it (memory), and the old verify_rate_window table is gone (migration 20261202_0002)."""

from __future__ import annotations

import secrets
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from flask import Flask
from flask_migrate import downgrade, upgrade
from sqlalchemy import create_engine, func, inspect, select

from lms import create_app
from lms.certificates import codes
from lms.config import MIGRATIONS_DIR
from lms.extensions import db
from lms.ops import route_limits
from lms.ops.models import RateLimitCounter
from lms.ops.redis_connection import key_prefix, redis_client

REDIS_TEST_URL = "redis://127.0.0.1:6379/5"
HEADING = "Too many requests"  # the shared 429 page (templates/errors/error.html)


@pytest.fixture(params=["memory", "redis"])
def limited_app(
    request: pytest.FixtureRequest, app: Flask, make_app: Callable[..., Flask], tmp_path: Path
) -> Iterator[Flask]:
    """The storage is chosen when the app is made: the test app (no Redis: memory), or another app on
    the test database with REDIS_URL (its counts under its own key prefix)."""
    if request.param == "memory":
        yield app
        return
    other = make_app(
        TESTING=True, INSTANCE_PATH=str(tmp_path), SECRET_KEY="test-secret-key", REDIS_URL=REDIS_TEST_URL,
        REDIS_KEY_PREFIX=f"lms-test-{secrets.token_hex(4)}:",
    )  # fmt: skip
    yield other
    client = redis_client(other)
    assert client is not None
    for name in client.scan_iter(match=f"*{key_prefix(other)}*"):
        client.delete(name)


def random_address() -> str:
    return "10.{}.{}.{}".format(*secrets.token_bytes(3))


def stored_keys(app: Flask) -> list[str]:
    client = redis_client(app)
    if client is not None:
        return [name.decode() for name in client.scan_iter(match=f"*{key_prefix(app)}*")]
    storage = route_limits.limiter(app).storage
    return [str(key) for key in storage.storage]  # type: ignore[attr-defined]  # limits' MemoryStorage


def test_the_verify_page_is_limited_per_client_on_both_stores(limited_app: Flask) -> None:
    app = limited_app
    address, other = random_address(), random_address()
    app.config["CERTIFICATE_VERIFY_LIMIT"] = 3
    app.config["CERTIFICATE_VERIFY_WINDOW_SECONDS"] = 3600  # no window boundary inside the test
    client = app.test_client()
    env = {"REMOTE_ADDR": address}
    statuses = [client.get(f"/verify/{codes.new_code()}", environ_base=env).status_code for _ in range(3)]
    assert statuses == [404, 404, 404]
    # The form's not-found answer and the JSON download count against the same budget.
    refused = [
        client.get("/verify", query_string={"code": "not a code"}, environ_base=env),
        client.get(f"/verify/{codes.new_code()}/credential.json", environ_base=env),
        client.get(f"/verify/{codes.new_code()}", environ_base=env),
    ]
    assert [r.status_code for r in refused] == [429, 429, 429]
    assert all(HEADING in r.get_data(as_text=True) for r in refused)
    assert all(0 < int(r.headers["Retry-After"]) <= 3600 for r in refused)  # Flask-Limiter's header
    # Another address has its own count.
    assert client.get("/verify/X", environ_base={"REMOTE_ADDR": other}).status_code == 404

    keys = stored_keys(app)
    assert any("verify" in key for key in keys)
    assert not any(address in key or other in key for key in keys)  # the address only as a hash
    if redis_client(app) is not None:
        assert all(key_prefix(app) in key for key in keys)  # under this academy's prefix
    db.session.rollback()
    assert db.session.scalar(select(func.count()).select_from(RateLimitCounter)) == 0  # no table row


def test_the_old_table_is_gone_from_the_models(app: Flask) -> None:
    assert "verify_rate_window" not in db.metadata.tables
    assert db.session.scalar(select(func.count()).select_from(RateLimitCounter)) == 0


def test_the_migration_drops_the_table_and_its_downgrade_recreates_it(app: Flask, tmp_path: Path) -> None:
    if app.config["SQLALCHEMY_DATABASE_URI"].startswith("postgresql"):
        url = app.config["SQLALCHEMY_DATABASE_URI"]
        engine = create_engine(url)
        with engine.begin() as connection:
            connection.exec_driver_sql("DROP SCHEMA IF EXISTS migration_verify_window CASCADE")
            connection.exec_driver_sql("CREATE SCHEMA migration_verify_window")
        engine.dispose()
        url = url + ("&" if "?" in url else "?") + "options=-csearch_path%3Dmigration_verify_window"
    else:
        url = f"sqlite:///{tmp_path / 'migrated.sqlite'}"
    fresh = create_app(
        {"TESTING": True, "INSTANCE_PATH": str(tmp_path), "SECRET_KEY": "x", "SQLALCHEMY_DATABASE_URI": url}
    )
    directory = str(MIGRATIONS_DIR)
    with fresh.app_context():
        upgrade(directory=directory, revision="0001_initial")
        assert "verify_rate_window" in inspect(db.engine).get_table_names()
        upgrade(directory=directory, revision="20261202_0002")
        assert "verify_rate_window" not in inspect(db.engine).get_table_names()
        assert "rate_limit_counter" in inspect(db.engine).get_table_names()

        downgrade(directory=directory, revision="0001_initial")
        inspector = inspect(db.engine)
        assert "verify_rate_window" in inspector.get_table_names()
        columns = {c["name"]: c for c in inspector.get_columns("verify_rate_window")}
        assert set(columns) == {"id", "client_hash", "window_start", "count"}
        assert not any(c["nullable"] for c in columns.values())
        unique = inspector.get_unique_constraints("verify_rate_window")
        assert [sorted(u["column_names"]) for u in unique] == [["client_hash", "window_start"]]
        indexes = {i["name"]: i["column_names"] for i in inspector.get_indexes("verify_rate_window")}
        assert indexes.get("ix_verify_rate_window_window_start") == ["window_start"]

        upgrade(directory=directory)
        assert "verify_rate_window" not in inspect(db.engine).get_table_names()
        downgrade(directory=directory, revision="base")
        db.engine.dispose()
    if url.startswith("postgresql"):
        engine = create_engine(app.config["SQLALCHEMY_DATABASE_URI"])
        with engine.begin() as connection:
            connection.exec_driver_sql("DROP SCHEMA IF EXISTS migration_verify_window CASCADE")
        engine.dispose()
