"""Every API route with every kind of token (issue 24): the access matrix of the API.

The pages' walk (tests/test_access_matrix.py) sees the API's routes as PUBLIC at the page level; their
real rule is the token's. Here each route of /api/v1 is called with no token, an expired, a revoked and
a wrong-scope token, and with the tokens of a trainee, a focal point, another authority's service token,
a donor and an admin. The list comes from the URL map, so a route added later is covered too."""

from __future__ import annotations

from flask import Flask
from werkzeug.routing import Rule

from lms.api.bearer import SCOPES_ATTRIBUTE
from lms.api.tokens import revoke
from lms.auth.models import Role
from lms.courses.models import Course
from lms.extensions import db
from tests.api_support import bearer, expire, for_authority, for_donor, nomination_run, personal, token_of


def api_rules(app: Flask) -> list[Rule]:
    return [
        r for r in app.url_map.iter_rules() if getattr(app.view_functions[r.endpoint], SCOPES_ATTRIBUTE, None)
    ]


def url_of(rule: Rule, run_id: int) -> str:
    values = {argument: ("ABCD-EFGH" if argument == "code" else run_id) for argument in rule.arguments}
    return rule.build(values, append_unknown=False)[1]  # type: ignore[index]


def test_every_api_route_with_every_kind_of_token(
    app: Flask, make_user, make_authority, demo_course: Course
) -> None:
    admin, focal, trainee = make_user(Role.ADMIN), make_user(Role.FOCAL_POINT), make_user(Role.TRAINEE)
    other_focal = make_user(Role.FOCAL_POINT, authority=make_authority())
    run = nomination_run(demo_course)
    expired, revoked = personal(admin), personal(admin)
    expire(expired)
    revoke(token_of(revoked), admin)
    db.session.commit()
    refused = {"no token": ({}, 401), "expired": (bearer(expired), 401), "revoked": (bearer(revoked), 401),
               "wrong scope": (bearer(personal(admin, "catalogue:read")), 403)}  # fmt: skip
    allowed = {"trainee": bearer(personal(trainee)), "focal point": bearer(personal(focal)),
               "other authority": bearer(for_authority(admin, other_focal.authority, other_focal)),
               "donor": bearer(for_donor(admin)), "admin": bearer(personal(admin))}  # fmt: skip
    client = app.test_client()
    rules = api_rules(app)
    assert len(rules) >= 13
    for rule in rules:
        method = "POST" if "POST" in (rule.methods or ()) else "GET"
        url = url_of(rule, run.id)
        scopes = getattr(app.view_functions[rule.endpoint], SCOPES_ATTRIBUTE)
        for label, (headers, status) in refused.items():
            if label == "wrong scope" and scopes == ("catalogue:read",):
                continue
            response = client.open(url, method=method, headers=headers, json={} if method == "POST" else None)
            assert response.status_code == status, (rule.rule, label, response.status_code)
            assert response.mimetype == "application/problem+json"
        for label, headers in allowed.items():
            response = client.open(url, method=method, headers=headers, json={} if method == "POST" else None)
            assert response.status_code not in (401, 500), (rule.rule, label, response.status_code)
            if label == "donor" and not rule.rule.startswith(
                ("/api/v1/indicators", "/api/v1/courses", "/api/v1/runs")
            ):
                assert response.status_code == 403, (rule.rule, label, response.status_code)
