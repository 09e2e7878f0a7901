"""Synchronisation of the people and the runs (issue 24): `updated_since` and `updated_at`.

Every row is first aged to OLD with a Core statement that sets updated_at itself (so its onupdate does
not move it); what the test then changes must be listed with updated_since=SINCE, the rest not.
"""

from __future__ import annotations

from datetime import UTC, datetime

from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import update

from lms.admin.services import deactivate_person
from lms.auth.models import Role, User
from lms.auth.services import end_sessions
from lms.courses.models import Course
from lms.enrolment import bulk_import, import_snapshot
from lms.enrolment.csv_import import parse_csv
from lms.enrolment.models import CourseRun, EnrolmentMethod
from lms.extensions import db
from lms.orgs.models import Authority
from tests.api_support import bearer, for_authority, personal
from tests.conftest import login
from tests.enrolment_support import make_course, make_run

OLD = datetime(2020, 1, 1, tzinfo=UTC)
SINCE = "2025-01-01T00:00:00Z"


def age_everything() -> None:
    for model in (User, CourseRun):
        table = model.__table__
        db.session.execute(update(table).values(updated_at=OLD))
    db.session.commit()
    db.session.expire_all()


def listed(client: FlaskClient, path: str, secret: str, since: str = SINCE) -> list[dict]:
    """Every item of the list changed at or after `since`, walking the cursor one item a page."""
    items: list[dict] = []
    cursor = ""
    while True:
        response = client.get(f"{path}?updated_since={since}&limit=1&cursor={cursor}", headers=bearer(secret))
        assert response.status_code == 200, response.json
        items += response.json["items"]
        cursor = response.json["next_cursor"]
        if not cursor:
            return items


def test_a_changed_person_is_listed_and_an_unchanged_or_signed_in_one_is_not(
    app: Flask, make_user, make_authority
) -> None:
    admin = make_user(Role.ADMIN)
    authority = make_authority()
    focal = make_user(Role.FOCAL_POINT, authority=authority)
    changed, signed_in, untouched = (make_user(authority=authority) for _ in range(3))
    secret = for_authority(admin, authority, focal, "people:read")
    age_everything()

    changed.family_name = "Renamed"
    db.session.commit()
    login(
        app.test_client(), signed_in
    )  # a sign-in (and the session version a sign-out raises) is no HR change
    end_sessions(db.session.get(User, signed_in.id))
    db.session.commit()

    items = listed(app.test_client(), "/api/v1/people", secret)
    assert [(item["id"], item["family_name"]) for item in items] == [(changed.id, "Renamed")]
    assert datetime.fromisoformat(items[0]["updated_at"]) > OLD
    everyone = app.test_client().get("/api/v1/people", headers=bearer(secret)).json["items"]
    assert {item["id"] for item in everyone} == {focal.id, changed.id, signed_in.id, untouched.id}
    assert all("updated_at" in item for item in everyone)
    db.session.expire_all()
    signed = db.session.get(User, signed_in.id)
    assert signed.last_login_at is not None and signed.session_version == 1 and signed.updated_at == OLD


def test_a_deactivated_person_is_listed(app: Flask, make_user, make_authority) -> None:
    admin = make_user(Role.ADMIN)
    authority = make_authority()
    focal = make_user(Role.FOCAL_POINT, authority=authority)
    leaving = make_user(authority=authority)
    secret = for_authority(admin, authority, focal, "people:read")
    age_everything()
    deactivate_person(db.session.get(User, leaving.id), admin.id)
    db.session.commit()
    items = listed(app.test_client(), "/api/v1/people", secret)
    assert [(item["id"], item["active"]) for item in items] == [(leaving.id, False)]


def test_a_changed_run_is_listed_and_an_unchanged_one_is_not(app: Flask, make_user) -> None:
    course = make_course()
    changed, untouched = make_run(course, seats=10), make_run(course, seats=10)
    secret = personal(make_user(Role.TRAINEE), "catalogue:read")
    age_everything()
    db.session.get(CourseRun, changed.id).seats_total = 12
    db.session.commit()
    items = listed(app.test_client(), "/api/v1/runs", secret)
    assert [(item["id"], item["seats_total"]) for item in items] == [(changed.id, 12)]
    one = app.test_client().get(f"/api/v1/runs/{untouched.id}", headers=bearer(secret)).json
    assert datetime.fromisoformat(one["updated_at"]) == OLD


def test_the_csv_imports_changes_move_updated_at(app: Flask, make_user, make_authority) -> None:
    admin = make_user(Role.ADMIN)
    authority: Authority = make_authority("UA", code="ua-sbgs", name="State Border Guard Service of Ukraine")
    focal = make_user(Role.FOCAL_POINT, authority=authority)
    existing = make_user(authority=authority, email="serhiy.bondar@dpsu.example.org", given_name="Serhii")
    untouched = make_user(authority=authority)
    course: Course = make_course()
    run = make_run(course, EnrolmentMethod.NOMINATION)
    secret = for_authority(admin, authority, focal, "people:read")
    age_everything()
    csv = (
        "email,given_name,family_name,native_name,country,authority,position,sex,birth_year_band\n"
        "olha.tkachenko@dpsu.example.org,Olha,Tkachenko,,UA,ua-sbgs,Inspector,female,1990-1999\n"
        "serhiy.bondar@dpsu.example.org,Serhiy,Bondar,,UA,ua-sbgs,Senior inspector,male,1980-1989\n"
    )
    report = bulk_import.import_trainees(
        focal, run, parse_csv(csv.encode()), import_snapshot.ImportMode.NOMINATE, "Cohort", dry_run=False
    )
    db.session.commit()
    assert report.written and [o.account for o in report.outcomes] == ["new", "updated"]
    items = listed(app.test_client(), "/api/v1/people", secret)
    assert {item["email"] for item in items} == {"olha.tkachenko@dpsu.example.org", existing.email}
    assert untouched.id not in {item["id"] for item in items}


def test_the_documented_recipe_sees_each_change_once_it_happened(
    app: Flask, make_user, make_authority
) -> None:
    """docs/api.md: keep the largest updated_at seen, ask updated_since with it, walk the cursor."""
    admin = make_user(Role.ADMIN)
    authority = make_authority()
    focal = make_user(Role.FOCAL_POINT, authority=authority)
    first, second = make_user(authority=authority), make_user(authority=authority)
    secret = for_authority(admin, authority, focal, "people:read")
    client = app.test_client()
    everyone = listed(client, "/api/v1/people", secret, since="2000-01-01T00:00:00Z")
    assert {item["id"] for item in everyone} == {focal.id, first.id, second.id}
    mark = max(item["updated_at"] for item in everyone).replace("+00:00", "Z")

    db.session.get(User, second.id).position = "Shift leader"
    db.session.commit()
    again = listed(client, "/api/v1/people", secret, since=mark)
    # At or after the mark: the change, and at most the rows that had exactly the mark (seen again, harmless).
    assert second.id in {item["id"] for item in again}
    assert [item["position"] for item in again if item["id"] == second.id] == ["Shift leader"]
    assert {item["id"] for item in again} <= {focal.id, first.id, second.id}
