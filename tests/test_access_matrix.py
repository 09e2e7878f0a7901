"""Every route declares who may use it; walk the URL map as an anonymous visitor and as each role."""

from __future__ import annotations

from collections.abc import Callable

import pytest
from flask import Flask
from werkzeug.routing import Rule

from lms.auth.access import ANONYMOUS, AUTHENTICATED, PUBLIC, rules_for_endpoint
from lms.auth.models import Role, User
from tests.conftest import login

ROLES = (Role.TRAINEE, Role.TRAINER, Role.FOCAL_POINT, Role.ADMIN)


def routes(app: Flask) -> list[Rule]:
    return [rule for rule in app.url_map.iter_rules() if rule.endpoint != "static"]


def sample_url(rule: Rule) -> str:
    values = {}
    for argument in rule.arguments:
        converter = rule._converters[argument]  # the converter decides which sample fits
        values[argument] = 999999 if type(converter).__name__ in {"IntegerConverter"} else "no-such-thing"
    built = rule.build(values, append_unknown=False)
    assert built is not None
    return built[1]


def method_of(rule: Rule) -> str:
    methods = (rule.methods or set()) - {"HEAD", "OPTIONS"}
    return "GET" if "GET" in methods else sorted(methods)[0]


def test_every_route_declares_an_access_rule(app: Flask) -> None:
    missing = [rule.endpoint for rule in routes(app) if rules_for_endpoint(app, rule.endpoint) is None]
    assert missing == []


def test_a_route_without_a_rule_is_refused(make_app: Callable[..., Flask], tmp_path) -> None:
    other = make_app(TESTING=True, INSTANCE_PATH=str(tmp_path), SECRET_KEY="x")
    other.add_url_rule("/forgotten", "forgotten", lambda: "secret data")
    response = other.test_client().get("/forgotten")
    assert response.status_code == 403
    assert b"secret data" not in response.data


def test_anonymous_visitors_reach_only_public_routes(app: Flask) -> None:
    client = app.test_client()
    for rule in routes(app):
        declared = rules_for_endpoint(app, rule.endpoint) or frozenset()
        response = client.open(sample_url(rule), method=method_of(rule))
        if PUBLIC in declared or ANONYMOUS in declared:
            assert response.status_code != 403, rule.endpoint
            assert "/login?next" not in response.headers.get("Location", ""), rule.endpoint
        else:
            assert response.status_code == 302, rule.endpoint
            assert response.headers["Location"].startswith("/login"), rule.endpoint


@pytest.mark.parametrize("role", ROLES)
def test_each_role_reaches_only_its_routes(app: Flask, make_user: Callable[..., User], role: str) -> None:
    user = make_user(role)
    client = app.test_client()
    login(client, user)
    for rule in routes(app):
        if rule.endpoint == "auth.logout":
            continue  # would end the session the walk relies on
        declared = rules_for_endpoint(app, rule.endpoint) or frozenset()
        response = client.open(sample_url(rule), method=method_of(rule))
        if ANONYMOUS in declared:
            assert response.status_code == 403, rule.endpoint
        elif PUBLIC in declared or AUTHENTICATED in declared or role in declared:
            assert "/login" not in response.headers.get("Location", ""), rule.endpoint
        else:
            assert response.status_code == 403, (rule.endpoint, role)
