"""Bearer-token authentication of the API and the per-token rate limit.

The pages' rule for every API route is ``PUBLIC`` (lms/auth/access.py): a session cookie never
authenticates an API call. ``@token_required(scope, ...)`` is the API's own rule: no token, an unknown,
expired or revoked one → 401; a token without the scope → 403; then the request is counted against the
token's rate limit. What a token may see beyond its scopes is the person it acts as (lms/api/scoping.py).
"""

from __future__ import annotations

import functools
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, TypeVar

from flask import current_app, g, request
from flask_babel import gettext as _

from lms.api.models import ApiToken, TokenKind
from lms.api.problems import ApiProblem
from lms.api.tokens import needs_last_used, token_for_secret
from lms.auth.access import PUBLIC, allow
from lms.auth.models import User
from lms.db import begin_writing, utcnow
from lms.ops.route_limits import limiter

SCOPES_ATTRIBUTE = "lms_api_scopes"
F = TypeVar("F", bound=Callable[..., Any])


@dataclass(frozen=True)
class Caller:
    token: ApiToken
    user: User | None  # None for a donor token


def current_caller() -> Caller:
    caller: Caller = g.api_caller
    return caller


def _refuse(detail: str, error: str, status: int = 401, scope: str = "") -> ApiProblem:
    challenge = f'Bearer realm="api", error="{error}"' + (f', scope="{scope}"' if scope else "")
    return ApiProblem(status, detail, headers={"WWW-Authenticate": challenge})


def _token_from_header() -> ApiToken:
    scheme, _space, secret = request.headers.get("Authorization", "").partition(" ")
    if scheme.lower() != "bearer" or not secret.strip():
        raise ApiProblem(401, _("Send an API token: Authorization: Bearer <token>."),
                         headers={"WWW-Authenticate": 'Bearer realm="api"'})  # fmt: skip
    token = token_for_secret(secret.strip())
    if token is None or not token.is_usable(utcnow()):
        raise _refuse(_("The API token is unknown, expired or revoked."), "invalid_token")
    return token


def authenticate(scopes: tuple[str, ...]) -> Caller:
    token = _token_from_header()
    user = token.user
    if token.kind != TokenKind.DONOR and (user is None or not user.active):
        raise _refuse(_("The account of this API token is not active."), "invalid_token")
    if token.kind == TokenKind.AUTHORITY and token.authority_id not in user.focal_point_authority_ids():  # type: ignore[union-attr]
        raise _refuse(_("This token's person is no longer a focal point of its authority."), "invalid_token")
    missing = sorted(set(scopes) - token.scope_set)
    if missing:
        detail = _("This API token lacks the scope %(scope)s.", scope=" ".join(missing))
        raise _refuse(detail, "insufficient_scope", 403, " ".join(scopes))
    _note_use(token)
    return Caller(token, user)


def _note_use(token: ApiToken) -> None:
    """last_used_at at most once a minute: a read request then commits this one small write."""
    now = utcnow()
    if not needs_last_used(token, now):
        return
    if request.method in ("GET", "HEAD"):
        begin_writing(token)
    token.last_used_at = now


def _rate() -> str:
    config = current_app.config
    amount, seconds = int(config.get("API_RATE_LIMIT", 600)), int(config.get("API_RATE_WINDOW_SECONDS", 60))
    return f"{amount} per {seconds} second"


def _token_key() -> str:
    token = current_caller().token
    return f"api-token:{token.id}:{token.secret_hash[:16]}"  # ids are reused after a delete; hashes are not


def token_required(*scopes: str) -> Callable[[F], F]:
    def decorate(view: F) -> F:
        @functools.wraps(view)
        def guarded(*args: Any, **kwargs: Any) -> Any:
            g.api_caller = authenticate(scopes)
            message = _("Too many requests with this API token; wait a minute.")
            with limiter().shared_limit(_rate, "api", key_func=_token_key, error_message=message):
                return view(*args, **kwargs)

        setattr(guarded, SCOPES_ATTRIBUTE, scopes)
        return allow(PUBLIC)(guarded)  # type: ignore[return-value]

    return decorate
