"""Who may use which route.

Every view declares its rule with ``@allow(...)``; ``enforce_access`` runs before every request and
refuses a route that declared nothing, so a new route without a rule cannot ship by accident (the
access-matrix test walks the URL map for every role).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, TypeVar

from flask import Flask, abort, current_app, request
from flask_login import current_user

from lms.extensions import login_manager

PUBLIC = "public"  # anyone, signed in or not
ANONYMOUS = "anonymous"  # only visitors who are not signed in (sign-in, registration)
AUTHENTICATED = "authenticated"  # any signed-in person, whatever their roles

ACCESS_ATTRIBUTE = "lms_access"

F = TypeVar("F", bound=Callable[..., Any])


def allow(*rules: str) -> Callable[[F], F]:
    """Declare who may call a view: PUBLIC, ANONYMOUS, AUTHENTICATED, or one or more role names."""
    if not rules:
        raise ValueError("allow() needs at least one rule")

    def decorate(view: F) -> F:
        setattr(view, ACCESS_ATTRIBUTE, frozenset(rules))
        return view

    return decorate


def rules_for_endpoint(app: Flask, endpoint: str) -> frozenset[str] | None:
    if endpoint == "static":
        return frozenset({PUBLIC})
    view = app.view_functions.get(endpoint)
    return getattr(view, ACCESS_ATTRIBUTE, None)


def enforce_access() -> Any:
    endpoint = request.endpoint
    if endpoint is None:  # 404/405: let Flask answer
        return None
    rules = rules_for_endpoint(current_app, endpoint)
    if rules is None:
        current_app.logger.error("route %s declares no access rule; refused", endpoint)
        abort(403)
    if PUBLIC in rules:
        return None
    user = current_user._get_current_object()  # once: the proxy finds the user anew at each attribute
    if ANONYMOUS in rules:
        if user.is_authenticated:
            abort(403)
        return None
    if not user.is_authenticated:
        return login_manager.unauthorized()
    if AUTHENTICATED in rules or user.has_role(*rules):
        return None
    abort(403)
