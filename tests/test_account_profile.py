"""A person's own account: profile, password, their data."""

from __future__ import annotations

from collections.abc import Callable

from flask.testing import FlaskClient
from sqlalchemy import select

from lms.admin import queries
from lms.audit.models import AuditRecord
from lms.auth.models import User
from lms.auth.passwords import verify_password
from lms.courses.models import Course
from lms.enrolment import runs as enrolment_runs
from lms.enrolment import self_service as enrolment_self_service
from lms.extensions import db
from tests.conftest import TEST_PASSWORD, login


def test_a_person_edits_their_own_profile(client: FlaskClient, make_user: Callable[..., User]) -> None:
    user = make_user(given_name="Olena", family_name="Koval")
    login(client, user)
    assert "Olena" in client.get("/account").get_data(as_text=True)
    response = client.post(
        "/account",
        data={"given_name": "Olena", "family_name": "Koval", "patronymic": "Mykolaivna",
              "native_name": "Олена Миколаївна Коваль", "preferred_language": "ru",
              "timezone": "Europe/Kyiv", "position": "Captain"},
    )  # fmt: skip
    assert response.status_code == 302
    db.session.expire_all()
    user = db.session.get(User, user.id)
    assert (user.patronymic, user.native_name, user.preferred_language, user.timezone, user.position) == (
        "Mykolaivna", "Олена Миколаївна Коваль", "ru", "Europe/Kyiv", "Captain",
    )  # fmt: skip
    record = db.session.scalar(select(AuditRecord).where(AuditRecord.action == "account.profile_update"))
    assert record.actor_id == user.id
    assert record.after["native_name"] == "Олена Миколаївна Коваль" and "given_name" not in record.after
    # the search text follows the profile
    page = queries.people_page(queries.PeopleFilter(q="МИКОЛАЇВНА"))
    assert [row.user.id for row in page.rows] == [user.id]
    bad = client.post("/account", data={"given_name": "", "family_name": "Koval", "timezone": "Mars/Base"})
    assert bad.status_code == 422


def test_changing_the_password_needs_the_current_one(
    client: FlaskClient, make_user: Callable[..., User]
) -> None:
    user = make_user()
    login(client, user)
    wrong = client.post(
        "/account/password",
        data={"current_password": "not my password", "new_password": "a brand new secret",
              "confirm_password": "a brand new secret"},
    )  # fmt: skip
    assert wrong.status_code == 422
    assert "current password is not correct" in wrong.get_data(as_text=True)
    right = client.post(
        "/account/password",
        data={"current_password": TEST_PASSWORD, "new_password": "a brand new secret",
              "confirm_password": "a brand new secret"},
    )  # fmt: skip
    assert right.status_code == 302
    db.session.expire_all()
    user = db.session.get(User, user.id)
    assert verify_password(user.password_hash, "a brand new secret")
    record = db.session.scalar(select(AuditRecord).where(AuditRecord.action == "account.password_change"))
    assert record.actor_id == user.id and record.before is None and record.after is None


def test_a_person_sees_and_downloads_their_own_data(
    client: FlaskClient, make_user: Callable[..., User], demo_course: Course
) -> None:
    user = make_user(native_name="ليلى حداد", position="Residency officer")
    other = make_user(given_name="Someone", family_name="Else")
    enrolment_self_service.self_enrol(user, enrolment_runs.ensure_default_run(demo_course))
    db.session.commit()
    login(client, user)
    html = client.get("/account/data").get_data(as_text=True)
    assert "ليلى حداد" in html and "Residency officer" in html
    assert demo_course.title in html
    assert other.family_name not in html
    data = client.get("/account/data.json").get_json()
    assert data["profile"]["email"] == user.email
    assert data["enrolments"][0]["status"] == "enrolled"
    assert data["records_held"]["enrolment.user_id"] == 1
    assert data["roles"] == ["trainee"]


def test_every_signed_in_person_has_an_account_link_and_admins_see_admin_links(
    client: FlaskClient, make_user: Callable[..., User]
) -> None:
    login(client, make_user())
    html = client.get("/dashboard").get_data(as_text=True)
    assert 'href="/account"' in html
    assert 'href="/admin/people"' not in html


def test_admins_see_the_administration_links(client: FlaskClient, make_user: Callable[..., User]) -> None:
    login(client, make_user("admin"))
    html = client.get("/dashboard").get_data(as_text=True)
    for href in ("/admin/people", "/admin/authorities", "/admin/settings", "/admin/audit"):
        assert f'href="{href}"' in html
