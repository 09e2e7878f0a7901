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
from functools import partial
from typing import Any

from flask import Flask, current_app
from flask.globals import request_ctx
from flask_limiter import Limiter
from flask_limiter.util import get_remote_address

from lms.ops.redis_connection import key_prefix, redis_url

EXTENSION_KEY = "lms_route_limiter"


def storage_uri(app: Flask) -> str:
    return redis_url(app) or "memory://"


class RouteLimiter(Limiter):
    """Flask-Limiter, minus its check before every request when that check has nothing to count.

    Flask-Limiter 4 checks every request before the view (0.07 ms of CPU a page) for the limits that
    apply to all routes: application, default and meta limits, a blueprint's, the in-memory fallback.
    This academy sets none: its limits are ``shared_limit`` context managers inside the views, which
    run their own check (``in_middleware=False``), so that early check evaluates an empty list. Its
    ``auto_check=False`` of older versions is gone in 4.x (the constructor refuses the keyword: the
    TypeError), hence this override; the day a limit for every route is set, the check runs again.
    """

    def _check_request_limit(self, callable_name: str | None = None, in_middleware: bool = True) -> None:
        if in_middleware and not self._limits_every_request():
            return
        super()._check_request_limit(callable_name=callable_name, in_middleware=in_middleware)

    def _limits_every_request(self) -> bool:
        manager = self.limit_manager
        return bool(
            manager._application_limits
            or manager._default_limits
            or manager._blueprint_limits
            or self._meta_limits
            or self._in_memory_fallback
        )


LIMITER_CONTEXT = "_limiter_request_context"  # where Flask-Limiter keeps a request's counts


def _only_after_a_check(hook: Callable[..., Any]) -> Callable[..., Any]:
    """Flask-Limiter's after-request (headers, Retry-After) and teardown (reset) hooks, run only in a
    request that checked a limit: in any other they build an empty context only to find it empty."""

    def run_if_checked(value: Any) -> Any:
        if getattr(request_ctx._get_current_object(), LIMITER_CONTEXT, None) is None:  # type: ignore[attr-defined]
            return value
        return hook(value)

    return run_if_checked


def _skip_hooks_of_requests_without_a_check(app: Flask, limiter: Limiter) -> None:
    after = app.after_request_funcs.setdefault(None, [])
    teardown = app.teardown_request_funcs.setdefault(None, [])
    inject = [f for f in after if isinstance(f, partial) and f.args == (limiter,)]
    release = [f for f in teardown if getattr(f, "__self__", None) is limiter]
    if len(inject) != 1 or len(release) != 1:  # a Flask-Limiter that hooks in differently: leave it
        return
    after[after.index(inject[0])] = _only_after_a_check(inject[0])
    teardown[teardown.index(release[0])] = _only_after_a_check(release[0])


def init_route_limits(app: Flask) -> Limiter:
    """One limiter per app (tests make several apps), with no default limits: only the routes that
    ask for a limit (``limit``) are counted."""
    limiter = RouteLimiter(
        get_remote_address,
        storage_uri=storage_uri(app),
        key_prefix=f"{key_prefix(app)}limiter",
        strategy="fixed-window",
        headers_enabled=True,
        swallow_errors=False,
    )
    limiter.init_app(app)
    _skip_hooks_of_requests_without_a_check(app, limiter)
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
