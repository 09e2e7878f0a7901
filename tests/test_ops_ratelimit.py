"""lms.ops.ratelimit.hit: the same answers with Redis and with the database fallback; shared counts."""

from __future__ import annotations

import threading
import uuid
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from flask import Flask
from sqlalchemy import func, select

from lms import create_app
from lms.extensions import db
from lms.ops import cache, ratelimit
from lms.ops.models import RateLimitCounter
from lms.ops.redis_connection import EXTENSION_KEY

REDIS_TEST_URL = "redis://127.0.0.1:6379/5"
T0 = datetime(2026, 11, 23, 12, 0, 0, tzinfo=UTC)


@pytest.fixture(params=["database", "redis"])
def backend(request: pytest.FixtureRequest, app: Flask) -> Iterator[str]:
    if request.param == "redis":
        app.config["REDIS_URL"] = REDIS_TEST_URL
        app.extensions.pop(EXTENSION_KEY, None)
    yield request.param
    app.config.pop("REDIS_URL", None)
    app.extensions.pop(EXTENSION_KEY, None)


def test_window_start_is_aligned() -> None:
    assert ratelimit.window_start(T0 + timedelta(seconds=59), 60) == T0
    assert ratelimit.window_start(T0 + timedelta(seconds=61), 60) == T0 + timedelta(seconds=60)


def test_long_keys_are_hashed() -> None:
    assert ratelimit.storage_key("login:a@b.c") == "login:a@b.c"
    assert ratelimit.storage_key("x" * 500).startswith("sha256:")


def test_limit_then_refuse_then_new_window(backend: str) -> None:
    key = f"test:{uuid.uuid4().hex}"
    answers = [ratelimit.hit(key, limit=3, window=60, now=T0 + timedelta(seconds=i)) for i in range(5)]
    db.session.commit()
    assert answers == [True, True, True, False, False]
    assert ratelimit.hit(key, limit=3, window=60, now=T0 + timedelta(seconds=60)) is True  # next window
    other = f"test:{uuid.uuid4().hex}"
    assert ratelimit.hit(other, limit=3, window=60, now=T0) is True  # keys are independent
    db.session.commit()
    stored = db.session.scalar(select(func.count()).select_from(RateLimitCounter))
    assert stored == (3 if backend == "database" else 0)


def test_limit_zero_refuses_everything(backend: str) -> None:
    assert ratelimit.hit(f"test:{uuid.uuid4().hex}", limit=0, window=60) is False
    db.session.commit()


def test_concurrent_hits_from_many_threads_are_all_counted(backend: str, app: Flask) -> None:
    """Like several gunicorn workers: each thread has its own session/transaction, none is lost."""
    key = f"test:{uuid.uuid4().hex}"
    allowed: list[bool] = []
    lock = threading.Lock()

    def worker() -> None:
        from lms.db import writing_transactions

        with app.app_context(), writing_transactions():
            for _ in range(10):
                answer = ratelimit.hit(key, limit=25, window=3600, now=T0)
                db.session.commit()
                with lock:
                    allowed.append(answer)

    threads = [threading.Thread(target=worker) for _ in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert len(allowed) == 40
    assert allowed.count(True) == 25  # exactly the limit, whatever the interleaving


def test_database_fallback_deletes_windows_older_than_a_day(app: Flask) -> None:
    ratelimit.hit("test:old", limit=5, window=60, now=T0 - timedelta(days=2))
    ratelimit.hit("test:new", limit=5, window=60, now=T0)
    db.session.commit()
    assert db.session.scalars(select(RateLimitCounter.key)).all() == ["test:new"]


def test_cache_without_redis_always_misses(app: Flask) -> None:
    cache.set("k", "v", 60)
    assert cache.get("k") is None


def test_cache_with_redis(tmp_path: Path) -> None:
    app = create_app({"INSTANCE_PATH": str(tmp_path), "REDIS_URL": REDIS_TEST_URL, "SECRET_KEY": "x"})
    key = f"test:{uuid.uuid4().hex}"
    with app.app_context():
        assert cache.get(key) is None
        cache.set(key, "value", 60)
        assert cache.get(key) == b"value"
        cache.delete(key)
        assert cache.get(key) is None


def test_two_academies_on_one_redis_keep_apart(tmp_path: Path) -> None:
    """Cache, rate limits and the job queue of two instances sharing a Redis never mix: the key prefix
    comes from each one's database unless REDIS_KEY_PREFIX names it."""
    from lms.jobs.queue import make_storage
    from lms.ops.redis_connection import key_prefix

    def academy(name: str, **config: str) -> Flask:
        folder = tmp_path / name
        database = f"sqlite:///{folder / 'lms.sqlite'}"
        settings = {"INSTANCE_PATH": str(folder), "REDIS_URL": REDIS_TEST_URL, "SECRET_KEY": "x"}
        return create_app({**settings, "SQLALCHEMY_DATABASE_URI": database, **config})

    first, second, named = academy("a"), academy("b"), academy("c", REDIS_KEY_PREFIX="academy-c:")
    key = f"test:{uuid.uuid4().hex}"
    with first.app_context():
        cache.set(key, "figures of A", 60)
        assert cache.get(key) == b"figures of A"
        assert ratelimit.hit(key, 1, 60) is True
        first_prefix, first_queue = key_prefix(), make_storage(first).name
    with second.app_context():
        assert cache.get(key) is None
        assert ratelimit.hit(key, 1, 60) is True  # its own counter: A's hit does not count here
        assert key_prefix() != first_prefix and make_storage(second).name != first_queue
    with named.app_context():
        assert key_prefix() == "academy-c:" and cache.redis_key(key) == f"academy-c:cache:{key}"
        assert "academyc" in make_storage(named).name  # huey keeps letters and digits of the name
    with first.app_context():
        assert ratelimit.hit(key, 1, 60) is False  # A's second hit in the window
        cache.delete(key)
