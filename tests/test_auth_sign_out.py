"""Signing out ends the session on the server: a copy of the cookie taken before does not work after
(issue 18, item 4). Signing out ends every session of the person (docs/security.md, "Signing out")."""

from __future__ import annotations

import pytest
from flask import Flask
from flask.testing import FlaskClient
from flask_login.config import COOKIE_NAME

from lms.admin.services import deactivate_person, reactivate_person
from lms.auth.models import Role, User
from lms.extensions import db
from tests.conftest import TEST_PASSWORD, login

pytestmark = pytest.mark.usefixtures("fresh_user_per_request")


def session_cookie(app: Flask, client: FlaskClient) -> str:
    cookie = client.get_cookie(app.config["SESSION_COOKIE_NAME"])
    assert cookie is not None
    return cookie.value


def replay(app: Flask, cookie: str) -> FlaskClient:
    """A second browser that holds nothing but the copied session cookie."""
    other = app.test_client()
    other.set_cookie(app.config["SESSION_COOKIE_NAME"], cookie)
    return other


def assert_signed_out(client: FlaskClient) -> None:
    dashboard = client.get("/dashboard")
    assert dashboard.status_code == 302
    assert "/login" in dashboard.headers["Location"]
    data = client.get("/account/data.json")
    assert data.status_code == 302 and "/login" in data.headers["Location"]
    assert b"@agency.test" not in data.get_data()


def test_a_cookie_copied_before_sign_out_does_not_work_after(app: Flask, make_user) -> None:
    user = make_user(Role.TRAINEE)
    browser = app.test_client()
    login(browser, user)
    # Sign-in sets no remember-me cookie: the session cookie is all there is to copy.
    assert browser.get_cookie(app.config.get("REMEMBER_COOKIE_NAME", COOKIE_NAME)) is None
    copied = session_cookie(app, browser)
    assert replay(app, copied).get("/account/data.json").status_code == 200  # the copy works before

    response = browser.post("/logout")
    assert response.status_code == 302

    assert_signed_out(replay(app, copied))
    assert_signed_out(browser)


def test_signing_out_ends_every_session_of_the_person_and_signing_in_again_works(
    app: Flask, make_user
) -> None:
    user = make_user(Role.TRAINEE)
    other_user = make_user(Role.TRAINEE)
    laptop, phone, colleague = app.test_client(), app.test_client(), app.test_client()
    login(laptop, user)
    login(phone, user)
    login(colleague, other_user)

    laptop.post("/logout")

    assert_signed_out(phone)  # the documented choice: signing out signs out everywhere
    assert colleague.get("/dashboard").status_code == 200  # someone else's session is untouched
    login(laptop, user)
    assert laptop.get("/dashboard").status_code == 200
    assert laptop.get("/account/data.json").status_code == 200


def test_a_deactivated_persons_old_session_stays_ended_after_reactivation(app: Flask, make_user) -> None:
    admin = make_user(Role.ADMIN)
    user = make_user(Role.TRAINEE)
    browser = app.test_client()
    login(browser, user)
    copied = session_cookie(app, browser)

    deactivate_person(db.session.get(User, user.id), admin.id)
    db.session.commit()
    assert_signed_out(replay(app, copied))
    reactivate_person(db.session.get(User, user.id), admin.id)
    db.session.commit()

    assert_signed_out(replay(app, copied))
    login(browser, user)  # the person signs in again as usual
    assert browser.get("/dashboard").status_code == 200


def test_a_password_change_ends_the_other_sessions_and_keeps_this_one(app: Flask, make_user) -> None:
    user = make_user(Role.TRAINEE)
    browser, other = app.test_client(), app.test_client()
    login(browser, user)
    login(other, user)
    new_password = "a much better phrase"
    changed = browser.post(
        "/account/password",
        data={
            "current_password": TEST_PASSWORD,
            "new_password": new_password,
            "confirm_password": new_password,
        },
    )
    assert changed.status_code == 302
    assert browser.get("/account/data.json").status_code == 200
    assert_signed_out(other)
    copied = session_cookie(app, browser)
    browser.post("/logout")
    assert_signed_out(replay(app, copied))
