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


def test_the_trainer_of_another_course_gets_from_the_api_what_a_trainee_gets(
    app: Flask, make_user, make_trainer, demo_course: Course
) -> None:
    """Issue 18's "trainer of another course", for the API: a trainer's personal token adds nothing to
    a person's own rights on another course's run, enrolments and people (the API has no trainer
    scope). Every API route, with course B's real ids, answers the trainer of course A exactly what it
    answers a trainee with no place in it."""
    from lms.enrolment import self_service
    from lms.enrolment.runs import ensure_default_run

    run = nomination_run(demo_course)
    learner = make_user(Role.TRAINEE)
    place = self_service.self_enrol(learner, ensure_default_run(demo_course))
    course_a = Course(slug="course-a", title="Course A")
    db.session.add(course_a)
    db.session.commit()
    trainer = bearer(personal(make_trainer(course_a)))
    trainee = bearer(personal(make_user(Role.TRAINEE)))
    values = {"course_id": demo_course.id, "run_id": run.id, "enrolment_id": place.id,
              "person_id": learner.id, "code": "ABCD-EFGH"}  # fmt: skip
    client = app.test_client()
    for rule in api_rules(app):
        method = "POST" if "POST" in (rule.methods or ()) else "GET"
        url = rule.build({name: values[name] for name in rule.arguments}, append_unknown=False)[1]  # type: ignore[index]
        for query in ("", f"?run_id={run.id}", f"?person_id={learner.id}"):
            body = (
                {"run_id": run.id, "person_id": learner.id, "justification": "x"}
                if method == "POST"
                else None
            )
            as_trainer = client.open(url + query, method=method, headers=trainer, json=body)
            as_trainee = client.open(url + query, method=method, headers=trainee, json=body)
            assert as_trainer.status_code == as_trainee.status_code, (rule.rule, query)
            if as_trainer.status_code == 200 and method == "GET":
                assert as_trainer.get_json() == as_trainee.get_json(), (rule.rule, query)
