"""Shared rate limits: ``hit(key, limit, window) -> allowed``, the one call other features make.

    from lms.ops import ratelimit
    if not ratelimit.hit(f"login:{email}", limit=10, window=900):
        raise TooManyAttempts(...)

Fixed windows: the count of ``key`` in the current window of ``window`` seconds goes up by one and
the call answers whether it is still within ``limit``. Every process (gunicorn workers, several app
servers) shares one count:

- with ``REDIS_URL`` configured, in Redis (INCR + EXPIRE in one MULTI; the count is final at once);
- without Redis, in the ``rate_limit_counter`` table, through the request's session like any other
  service: the hit is flushed, and the caller commits. A view that refuses (or fails a login) must
  still commit for the hit to count, exactly as it would commit any other change it wants to keep.

Both stores give the same answers for the same sequence of hits (the tests run each scenario on
both). Keys are namespaced by the caller ("login:", "verify:"); long keys are hashed.
"""

from __future__ import annotations

import hashlib
from datetime import UTC, datetime, timedelta

from sqlalchemy import delete, update
from sqlalchemy.exc import IntegrityError

from lms.db import utcnow
from lms.extensions import db
from lms.ops.models import RateLimitCounter
from lms.ops.redis_connection import key_prefix, redis_client

MAX_KEY_LENGTH = 200


def redis_prefix() -> str:
    """Where this academy's counters live in Redis (lms.ops.redis_connection.key_prefix)."""
    return f"{key_prefix()}ratelimit:"


def window_start(now: datetime, window: int) -> datetime:
    epoch = int(now.timestamp())
    return datetime.fromtimestamp(epoch - epoch % window, tz=UTC)


def storage_key(key: str) -> str:
    if len(key) <= MAX_KEY_LENGTH:
        return key
    return "sha256:" + hashlib.sha256(key.encode()).hexdigest()


def hit(key: str, limit: int, window: int, *, now: datetime | None = None) -> bool:
    """Count one hit of ``key``; True while this window's count (this hit included) is <= ``limit``."""
    if limit < 0 or window <= 0:
        raise ValueError("limit must be >= 0 and window > 0")
    now = now or utcnow()
    start = window_start(now, window)
    client = redis_client()
    if client is not None:
        count = _hit_redis(client, storage_key(key), start, window)
    else:
        count = _hit_database(storage_key(key), start, now)
    return count <= limit


def _hit_redis(client: object, key: str, start: datetime, window: int) -> int:
    name = f"{redis_prefix()}{key}:{int(start.timestamp())}"
    pipeline = client.pipeline(transaction=True)  # type: ignore[attr-defined]  # redis.Redis
    pipeline.incr(name)
    pipeline.expire(name, window + 60)
    count, _ = pipeline.execute()
    return int(count)


def _hit_database(key: str, start: datetime, now: datetime) -> int:
    """One UPDATE ... RETURNING per hit, so concurrent requests never lose a count; the first hit of
    a window inserts the row in a savepoint (a concurrent first hit makes it fall back to UPDATE)."""

    def increment() -> int:
        result = db.session.execute(
            update(RateLimitCounter)
            .where(RateLimitCounter.key == key, RateLimitCounter.window_start == start)
            .values(count=RateLimitCounter.count + 1)
            .returning(RateLimitCounter.count)
        ).scalar()
        return int(result or 0)

    count = increment()
    if count:
        return count
    db.session.execute(
        delete(RateLimitCounter).where(RateLimitCounter.window_start < now - timedelta(days=1))
    )
    try:
        with db.session.begin_nested():
            db.session.add(RateLimitCounter(key=key, window_start=start, count=1))
        return 1
    except IntegrityError:  # a concurrent first hit inserted the row
        return increment()
