"""Shared rate limits for sign-in, reset links and the second factor: ``hit(key, limit, window)``.

Per-address limits on public routes are Flask-Limiter's (lms.ops.route_limits); these stay ours
because they count per account across addresses, ``forgive`` and ``hold`` (docs/security.md).

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
both). Keys are namespaced by the caller ("login:", "reset:"); long keys are hashed. ``count``
reads a window's count without a hit, ``forgive`` takes one hit back (sign-in counts an attempt
before the password is checked and gives it back when it was right), ``seconds_left`` is the
Retry-After of a refusal, and ``hold(key, seconds)`` spaces attempts out (a growing delay).
"""

from __future__ import annotations

import hashlib
import math
from datetime import UTC, datetime, timedelta

from sqlalchemy import delete, select, update
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


def count(key: str, window: int, *, now: datetime | None = None) -> int:
    """This window's count of ``key``, without counting a hit."""
    start = window_start(now or utcnow(), window)
    client = redis_client()
    if client is not None:
        value = client.get(f"{redis_prefix()}{storage_key(key)}:{int(start.timestamp())}")
        return int(value or 0)
    stored = db.session.scalar(
        select(RateLimitCounter.count).where(
            RateLimitCounter.key == storage_key(key), RateLimitCounter.window_start == start
        )
    )
    return int(stored or 0)


def forgive(key: str, window: int, *, now: datetime | None = None) -> None:
    """Take back one hit of this window (never below zero): a caller that counts attempts before it
    knows their outcome (sign-in counts failures only) gives the hit back when the attempt succeeds."""
    start = window_start(now or utcnow(), window)
    client = redis_client()
    if client is not None:
        client.eval(  # one atomic step; a missing key stays missing
            "if tonumber(redis.call('get', KEYS[1]) or '0') > 0 then return redis.call('decr', KEYS[1]) end "
            "return 0",
            1,
            f"{redis_prefix()}{storage_key(key)}:{int(start.timestamp())}",
        )
        return
    db.session.execute(
        update(RateLimitCounter)
        .where(
            RateLimitCounter.key == storage_key(key),
            RateLimitCounter.window_start == start,
            RateLimitCounter.count > 0,
        )
        .values(count=RateLimitCounter.count - 1)
    )


HOLD_ROW_START = datetime(3000, 1, 1, tzinfo=UTC)  # marks a hold's row; its count is the end (epoch s)


def hold(key: str, seconds: int, *, now: datetime | None = None) -> int:
    """Take ``key`` for ``seconds`` unless it is taken: 0 when taken now, else the seconds still to
    wait. One atomic step in either store, so two workers cannot both take it (a growing delay between
    attempts: each allowed attempt takes the hold for the current delay)."""
    if seconds <= 0:
        return 0
    now = now or utcnow()
    epoch = int(now.timestamp())
    client = redis_client()
    if client is not None:  # the end of the hold is the value (the app's clock, like the windows)
        wait = client.eval(
            "local held = tonumber(redis.call('get', KEYS[1]) or '0') "
            "local now = tonumber(ARGV[1]) "
            "if held > now then return held - now end "
            "redis.call('set', KEYS[1], now + tonumber(ARGV[2]), 'EX', tonumber(ARGV[2]) + 60) "
            "return 0",
            1,
            f"{redis_prefix()}hold:{storage_key(key)}",
            epoch,
            seconds,
        )
        return int(wait)  # the script returns an integer
    key = storage_key(key)

    def take() -> bool:
        taken = db.session.execute(
            update(RateLimitCounter)
            .where(
                RateLimitCounter.key == key,
                RateLimitCounter.window_start == HOLD_ROW_START,
                RateLimitCounter.count <= epoch,
            )
            .values(count=epoch + seconds)
            .returning(RateLimitCounter.id)
        ).scalar()
        return taken is not None

    if take():
        return 0
    held_until = db.session.scalar(
        select(RateLimitCounter.count).where(
            RateLimitCounter.key == key, RateLimitCounter.window_start == HOLD_ROW_START
        )
    )
    if held_until is not None:
        return max(1, int(held_until) - epoch)
    db.session.execute(  # holds over for a day are forgotten, like old windows
        delete(RateLimitCounter).where(
            RateLimitCounter.window_start == HOLD_ROW_START, RateLimitCounter.count < epoch - 86400
        )
    )
    try:
        with db.session.begin_nested():
            db.session.add(RateLimitCounter(key=key, window_start=HOLD_ROW_START, count=epoch + seconds))
        return 0
    except IntegrityError:  # a concurrent first attempt took it
        return 0 if take() else seconds


def seconds_left(window: int, *, now: datetime | None = None) -> int:
    """Seconds until the current window of ``window`` seconds ends (what a Retry-After header says)."""
    now = now or utcnow()
    end = window_start(now, window) + timedelta(seconds=window)
    return max(1, math.ceil((end - now).total_seconds()))


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
