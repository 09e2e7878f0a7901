"""The API's tokens, scopes, authority isolation, problem details, ETags and pages (issue 24)."""

from __future__ import annotations

from flask import Flask
from sqlalchemy import select, text

from lms.api.models import ApiToken
from lms.auth.models import Role
from lms.courses.models import Course
from lms.enrolment.models import Enrolment, EnrolmentStatus
from lms.extensions import db
from tests.api_support import bearer, expire, for_authority, for_donor, nomination_run, personal, token_of
from tests.conftest import login

PROBLEM = "application/problem+json"


def test_no_token_a_session_cookie_and_a_bad_token_get_401_problems(app: Flask, make_user) -> None:
    admin = make_user(Role.ADMIN)
    client = app.test_client()
    login(client, admin)  # a signed-in session must not authenticate the API
    for headers in ({}, bearer("lms_not-a-real-token"), {"Authorization": "Basic abc"}):
        response = client.get("/api/v1/courses", headers=headers)
        assert response.status_code == 401
        assert response.mimetype == PROBLEM
        assert response.json["status"] == 401 and response.json["title"] == "Unauthorized"
        assert response.headers["WWW-Authenticate"].startswith("Bearer")


def test_the_secret_is_stored_only_as_a_hash(app: Flask, make_user) -> None:
    secret = personal(make_user(Role.ADMIN))
    assert secret.startswith("lms_") and len(secret) > 40
    token = token_of(secret)
    assert token.hint == secret[:10] and len(token.secret_hash) == 64
    with db.engine.connect() as connection:
        for table in db.metadata.sorted_tables:
            for row in connection.execute(select(table)):
                assert secret not in repr(tuple(row)), table.name
                assert secret[10:30] not in repr(tuple(row)), table.name


def test_expired_and_revoked_tokens_get_401_and_change_nothing(
    app: Flask, make_user, demo_course: Course
) -> None:
    focal = make_user(Role.FOCAL_POINT)
    officer = make_user(authority=focal.authority)
    run = nomination_run(demo_course)
    expired, revoked = personal(focal), personal(focal)
    expire(expired)
    from lms.api.tokens import revoke

    revoke(token_of(revoked), focal)
    db.session.commit()
    client = app.test_client()
    for secret in (expired, revoked):
        body = {"run_id": run.id, "person_id": officer.id, "justification": "needed"}
        response = client.post("/api/v1/nominations", json=body, headers=bearer(secret))
        assert response.status_code == 401 and response.mimetype == PROBLEM
    assert db.session.scalar(select(Enrolment).where(Enrolment.user_id == officer.id)) is None


def test_a_token_without_the_scope_gets_403_and_changes_nothing(
    app: Flask, make_user, demo_course: Course
) -> None:
    focal = make_user(Role.FOCAL_POINT)
    officer = make_user(authority=focal.authority)
    run = nomination_run(demo_course)
    secret = personal(focal, "enrolments:read")
    body = {"run_id": run.id, "person_id": officer.id, "justification": "needed"}
    response = app.test_client().post("/api/v1/nominations", json=body, headers=bearer(secret))
    assert response.status_code == 403 and response.mimetype == PROBLEM
    assert 'error="insufficient_scope"' in response.headers["WWW-Authenticate"]
    assert db.session.scalar(select(Enrolment).where(Enrolment.user_id == officer.id)) is None


def test_an_authority_token_nominates_its_staff_and_reads_their_completions(
    app: Flask, make_user, make_authority, demo_course: Course
) -> None:
    admin = make_user(Role.ADMIN)
    focal = make_user(Role.FOCAL_POINT)
    officers = [make_user(authority=focal.authority) for _ in range(2)]
    stranger = make_user(authority=make_authority())
    run = nomination_run(demo_course)
    client, headers = app.test_client(), bearer(for_authority(admin, focal.authority, focal))
    for officer in officers:
        body = {"run_id": run.id, "person_id": officer.id, "justification": "Border checks training"}
        response = client.post("/api/v1/nominations", json=body, headers=headers)
        assert response.status_code == 201, response.json
        assert response.json["status"] == EnrolmentStatus.NOMINATED
    body = {"run_id": run.id, "person_id": stranger.id, "justification": "x"}
    assert client.post("/api/v1/nominations", json=body, headers=headers).status_code == 404
    assert client.get(f"/api/v1/people/{stranger.id}", headers=headers).status_code == 404
    assert client.get(f"/api/v1/people/{officers[0].id}", headers=headers).status_code == 200
    listed = client.get(f"/api/v1/enrolments?run_id={run.id}", headers=headers).json["items"]
    assert sorted(item["person_id"] for item in listed) == sorted(o.id for o in officers)
    assert all("complete" in item["progress"] for item in listed)
    first = listed[0]["id"]
    withdrawn = client.post(
        f"/api/v1/nominations/{first}/withdraw", json={"reason": "changed plans"}, headers=headers
    )
    assert withdrawn.status_code == 200 and withdrawn.json["status"] == EnrolmentStatus.WITHDRAWN


def test_another_authoritys_token_sees_none_of_this_one(
    app: Flask, make_user, make_authority, demo_course
) -> None:
    admin = make_user(Role.ADMIN)
    focal = make_user(Role.FOCAL_POINT)
    other_focal = make_user(Role.FOCAL_POINT, authority=make_authority())
    officer = make_user(authority=focal.authority)
    run = nomination_run(demo_course)
    client = app.test_client()
    mine = bearer(for_authority(admin, focal.authority, focal))
    body = {"run_id": run.id, "person_id": officer.id, "justification": "x"}
    enrolment_id = client.post("/api/v1/nominations", json=body, headers=mine).json["id"]
    theirs = bearer(for_authority(admin, other_focal.authority, other_focal))
    assert client.get(f"/api/v1/people/{officer.id}", headers=theirs).status_code == 404
    assert client.get(f"/api/v1/enrolments/{enrolment_id}", headers=theirs).status_code == 404
    assert (
        client.post(f"/api/v1/nominations/{enrolment_id}/withdraw", json={}, headers=theirs).status_code
        == 404
    )
    assert client.get("/api/v1/enrolments", headers=theirs).json["items"] == []
    assert db.session.get(Enrolment, enrolment_id).status == EnrolmentStatus.NOMINATED


def test_bad_bodies_get_422_naming_the_field(app: Flask, make_user, demo_course: Course) -> None:
    focal = make_user(Role.FOCAL_POINT)
    officer = make_user(authority=focal.authority)
    run = nomination_run(demo_course)
    client, headers = app.test_client(), bearer(personal(focal))
    cases = {
        "body": dict(data="{not json", content_type="application/json"),
        "run_id": dict(json={"run_id": "1", "person_id": officer.id, "justification": "x"}),
        "colour": dict(
            json={"run_id": run.id, "person_id": officer.id, "justification": "x", "colour": "red"}
        ),
        "justification": dict(json={"run_id": run.id, "person_id": officer.id}),
    }
    for field, request in cases.items():
        response = client.post("/api/v1/nominations", headers=headers, **request)
        assert response.status_code == 422, (field, response.json)
        assert response.mimetype == PROBLEM
        assert field in {error["field"] for error in response.json["errors"]}, response.json
    assert db.session.scalar(select(Enrolment).where(Enrolment.user_id == officer.id)) is None
    assert client.get("/api/v1/courses?limit=abc", headers=headers).json["errors"][0]["field"] == "limit"
    assert client.get("/api/v1/courses?cursor=zzz", headers=headers).json["errors"][0]["field"] == "cursor"


def test_unknown_paths_and_methods_are_problems(app: Flask, make_user) -> None:
    client, headers = app.test_client(), bearer(personal(make_user(Role.ADMIN)))
    missing = client.get("/api/v1/no-such-thing", headers=headers)
    assert missing.status_code == 404 and missing.mimetype == PROBLEM
    wrong = client.delete("/api/v1/courses", headers=headers)
    assert wrong.status_code == 405 and wrong.mimetype == PROBLEM and wrong.headers["Allow"] == "GET"
    assert app.test_client().get("/no-such-page").mimetype == "text/html"  # the pages keep their HTML errors


def test_etag_gives_304_and_pagination_walks_every_course(app: Flask, make_user) -> None:
    for n in range(5):
        db.session.add(Course(slug=f"course-{n}", title=f"Course {n}"))
    db.session.commit()
    client, headers = app.test_client(), bearer(personal(make_user(Role.TRAINEE), "catalogue:read"))
    seen, cursor = [], ""
    while True:
        page = client.get(f"/api/v1/courses?limit=2&cursor={cursor}", headers=headers).json
        seen += [item["slug"] for item in page["items"]]
        if not page["next_cursor"]:
            break
        cursor = page["next_cursor"]
    assert seen == [f"course-{n}" for n in range(5)]
    course_id = db.session.scalar(select(Course.id).where(Course.slug == "course-3"))
    first = client.get(f"/api/v1/courses/{course_id}", headers=headers)
    assert first.status_code == 200 and first.headers["ETag"]
    again = client.get(
        f"/api/v1/courses/{course_id}", headers={**headers, "If-None-Match": first.headers["ETag"]}
    )
    assert again.status_code == 304 and again.data == b""


def test_updated_since_gives_only_what_changed(app: Flask, make_user) -> None:
    db.session.add(Course(slug="old", title="Old"))
    db.session.commit()
    db.session.execute(text("UPDATE course SET updated_at = :at"), {"at": "2020-01-01 00:00:00.000000"})
    db.session.add(Course(slug="new", title="New"))
    db.session.commit()
    client, headers = app.test_client(), bearer(personal(make_user(Role.TRAINEE), "catalogue:read"))
    items = client.get("/api/v1/courses?updated_since=2025-01-01T00:00:00Z", headers=headers).json["items"]
    assert [item["slug"] for item in items] == ["new"]


def test_indicators_for_admins_and_donors_only(app: Flask, make_user) -> None:
    admin = make_user(Role.ADMIN)
    client = app.test_client()
    assert client.get("/api/v1/indicators", headers=bearer(personal(admin))).status_code == 200
    assert client.get("/api/v1/indicators", headers=bearer(for_donor(admin))).status_code == 200
    focal = make_user(Role.FOCAL_POINT)
    assert client.get("/api/v1/indicators", headers=bearer(personal(focal))).status_code == 403
    assert client.get("/api/v1/people", headers=bearer(for_donor(admin))).status_code == 403


def test_last_used_is_recorded(app: Flask, make_user) -> None:
    secret = personal(make_user(Role.TRAINEE), "catalogue:read")
    assert token_of(secret).last_used_at is None
    assert app.test_client().get("/api/v1/courses", headers=bearer(secret)).status_code == 200
    db.session.expire_all()
    assert token_of(secret).last_used_at is not None


def test_rate_limit_per_token_is_a_429_problem(app: Flask, make_user) -> None:
    secret = personal(make_user(Role.TRAINEE), "catalogue:read")
    client = app.test_client()
    app.config["API_RATE_LIMIT"] = 2
    try:
        codes = [client.get("/api/v1/courses", headers=bearer(secret)).status_code for _ in range(3)]
        other = client.get("/api/v1/courses", headers=bearer(personal(make_user(), "catalogue:read")))
    finally:
        del app.config["API_RATE_LIMIT"]
    assert codes == [200, 200, 429]
    assert other.status_code == 200


def test_tokens_are_made_shown_once_and_revoked_from_the_account_page(app: Flask, make_user) -> None:
    user = make_user(Role.FOCAL_POINT)
    client = app.test_client()
    login(client, user)
    assert client.get("/account/api-tokens").status_code == 200
    data = {"name": "HR", "scopes": ["people:read", "nominations:write"], "days": "30"}
    page = client.post("/account/api-tokens/new", data=data).get_data(as_text=True)
    token = db.session.scalar(select(ApiToken).where(ApiToken.user_id == user.id))
    assert token is not None and token.hint in page
    secret = page.split('<code dir="ltr">lms_', 1)[1].split("<", 1)[0]
    assert client.get("/account/api-tokens").get_data(as_text=True).count(secret) == 0
    assert client.post(f"/account/api-tokens/{token.id}/revoke").status_code == 302
    db.session.expire_all()
    assert db.session.get(ApiToken, token.id).revoked_at is not None


def test_admins_make_service_tokens(app: Flask, make_user) -> None:
    admin, focal = make_user(Role.ADMIN), make_user(Role.FOCAL_POINT)
    client = app.test_client()
    login(client, admin)
    data = {"authority-name": "HR", "authority-scopes": ["people:read"], "authority-days": "30"}
    data["authority-acting"] = f"{focal.authority_id}:{focal.id}"
    assert client.post("/admin/api-tokens/authority", data=data).status_code == 200
    token = db.session.scalar(select(ApiToken).where(ApiToken.authority_id == focal.authority_id))
    assert token is not None and token.kind == "authority"
    donor = {"donor-name": "Donor", "donor-scopes": ["people:read"], "donor-days": "30"}
    assert client.post("/admin/api-tokens/donor", data=donor).status_code == 422  # donors read reports only
    assert "HR" in client.get("/admin/api-tokens").get_data(as_text=True)


def test_a_form_encoded_nomination_is_refused_as_415(app: Flask, make_user) -> None:
    headers = bearer(personal(make_user(Role.FOCAL_POINT)))
    client = app.test_client()
    for data in ("", "run_id=1"):
        response = client.post("/api/v1/nominations", data=data, headers=headers,
                               content_type="application/x-www-form-urlencoded")  # fmt: skip
        assert response.status_code == 415 and response.mimetype == PROBLEM
