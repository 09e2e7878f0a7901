"""One Redis client per process, when ``REDIS_URL`` is configured (``LMS_REDIS_URL``).

redis-py's connection pool notices a fork (gunicorn workers) and opens fresh connections in the
child, so a client made lazily on first use is safe in every worker.
"""

from __future__ import annotations

import hashlib

from flask import Flask, current_app
from redis import Redis

EXTENSION_KEY = "lms_redis"


def redis_url(app: Flask | None = None) -> str | None:
    app = app or current_app
    url = app.config.get("REDIS_URL")
    return str(url) if url else None


def redis_client(app: Flask | None = None) -> Redis | None:
    """The shared client, or None when the app runs without Redis (database fallback)."""
    app = app or current_app._get_current_object()  # type: ignore[attr-defined]  # werkzeug LocalProxy
    url = redis_url(app)
    if url is None:
        return None
    client = app.extensions.get(EXTENSION_KEY)
    if client is None:
        client = Redis.from_url(url, socket_timeout=5, socket_connect_timeout=5, health_check_interval=30)
        app.extensions[EXTENSION_KEY] = client
    return client


def key_prefix(app: Flask | None = None) -> str:
    """The start of every key this academy writes (the shared cache, the rate limits).

    One Redis often serves several things: two academies, or an academy and its staging copy, must
    never read each other's cached report figures or share sign-in counters. ``REDIS_KEY_PREFIX``
    (``LMS_REDIS_KEY_PREFIX``) names it; by default it is derived from the database the app uses, so
    two instances on different databases are apart without any setting.
    """
    app = app or current_app
    configured = app.config.get("REDIS_KEY_PREFIX")
    if configured:
        return str(configured)
    database = str(app.config.get("SQLALCHEMY_DATABASE_URI", ""))
    return f"lms:{hashlib.sha256(database.encode()).hexdigest()[:12]}:"
