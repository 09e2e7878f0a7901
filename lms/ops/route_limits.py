"""Per-address limits on public routes, through Flask-Limiter (docs/security.md "Rate limits").

    from lms.ops import route_limits
    with route_limits.limit("verify", ...):   # raises RateLimitExceeded (429) past the limit

Flask-Limiter counts fixed windows per client address and answers a refusal with a 429 (the app's
error page, lms/errors.py) and its headers, Retry-After among them. Its storage is Redis when
``REDIS_URL`` is configured, under this academy's key prefix (lms.ops.redis_connection.key_prefix),
so several academies on one Redis never share counts; without Redis it is ``memory://``: one count per
worker process (see docs/operations.md for why that is acceptable on one box).

What Flask-Limiter cannot do stays in lms/ops/ratelimit.py: the per-account sign-in limits (counted
before the password is checked and forgiven on success, per account across addresses, a growing
delay) and the password-reset and second-factor budgets that are keyed by account.
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable

from flask import Flask, current_app
from flask_limiter import Limiter
from flask_limiter.util import get_remote_address

from lms.ops.redis_connection import key_prefix, redis_url

EXTENSION_KEY = "lms_route_limiter"


def storage_uri(app: Flask) -> str:
    return redis_url(app) or "memory://"


def init_route_limits(app: Flask) -> Limiter:
    """One limiter per app (tests make several apps), with no default limits: only the routes that
    ask for a limit (``limit``) are counted."""
    limiter = Limiter(
        get_remote_address,
        storage_uri=storage_uri(app),
        key_prefix=f"{key_prefix(app)}limiter",
        strategy="fixed-window",
        headers_enabled=True,
        swallow_errors=False,
    )
    limiter.init_app(app)
    app.extensions[EXTENSION_KEY] = limiter
    return limiter


def limiter(app: Flask | None = None) -> Limiter:
    app = app or current_app._get_current_object()  # type: ignore[attr-defined]  # werkzeug LocalProxy
    return app.extensions[EXTENSION_KEY]


def hashed_address() -> str:
    """The client address under a hash of the secret key: the store never holds an address."""
    secret = str(current_app.config["SECRET_KEY"])
    return hashlib.sha256(f"{secret}:{get_remote_address() or '-'}".encode()).hexdigest()


def limit(
    scope: str,
    limit_setting: str,
    default_limit: int,
    window_setting: str,
    default_window: int,
    message: Callable[[], str],
):  # flask_limiter's limit object, used as a context manager
    """A context manager: count this request under ``scope`` (shared by every route that uses it)
    for the client's hashed address; past the limit it raises RateLimitExceeded with ``message``.
    The limit is read from the config at each request, so a test or an instance can change it."""

    def value() -> str:
        config = current_app.config
        amount = int(config.get(limit_setting, default_limit))
        seconds = int(config.get(window_setting, default_window))
        return f"{amount} per {seconds} second"

    return limiter().shared_limit(value, scope, key_func=hashed_address, error_message=message)
