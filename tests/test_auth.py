"""Registration, sign-in and sign-out."""

from __future__ import annotations

from collections.abc import Callable, Iterator

import pytest
from flask import Flask
from flask.testing import FlaskClient

from lms.auth.models import User
from lms.auth.services import find_user_by_email
from lms.extensions import db
from lms.orgs.models import Authority
from tests.conftest import CSRF_FIELD, TEST_PASSWORD


def registration_form(authority: Authority, **changes: str) -> dict[str, str]:
    form = {
        "given_name": "Olena",
        "family_name": "Koval",
        "patronymic": "Mykolaivna",
        "native_name": "Олена Миколаївна Коваль",
        "email": "Olena.Koval@dpsu.example",
        "password": "a long enough password",
        "confirm_password": "a long enough password",
        "country": authority.country_code,
        "authority": str(authority.id),
        "sex": "female",
        "position": "Senior inspector",
    }
    form.update(changes)
    return form


def test_registration_creates_a_trainee_with_an_argon2id_hash(
    client: FlaskClient, make_authority: Callable[..., Authority]
) -> None:
    authority = make_authority("UA")
    page = client.get("/register")
    assert page.status_code == 200
    assert authority.name in page.get_data(as_text=True)
    response = client.post("/register", data=registration_form(authority))
    assert response.status_code == 302
    user = find_user_by_email("olena.koval@dpsu.example")
    assert user is not None
    assert user.password_hash.startswith("$argon2id$")
    assert "a long enough password" not in user.password_hash
    assert user.native_name == "Олена Миколаївна Коваль"
    assert user.patronymic == "Mykolaivna"
    assert user.authority_id == authority.id
    assert user.role_names == {"trainee"}


@pytest.mark.parametrize(
    ("changes", "message"),
    [
        ({"email": "not-an-email"}, "Invalid email address"),
        ({"password": "short", "confirm_password": "short"}, "at least 10"),
        ({"confirm_password": "something else entirely"}, "do not match"),
        ({"given_name": ""}, "This field is required"),
    ],
)
def test_registration_refuses_bad_input_and_writes_nothing(
    client: FlaskClient, make_authority: Callable[..., Authority], changes: dict[str, str], message: str
) -> None:
    authority = make_authority("UA")
    response = client.post("/register", data=registration_form(authority, **changes))
    assert response.status_code == 422
    assert message in response.get_data(as_text=True)
    assert db.session.query(User).count() == 0


def test_registration_refuses_an_authority_of_another_country(
    client: FlaskClient, make_authority: Callable[..., Authority]
) -> None:
    ukrainian = make_authority("UA")
    make_authority("GE")
    response = client.post("/register", data=registration_form(ukrainian, country="GE"))
    assert response.status_code == 422
    assert "Choose an authority of the selected country" in response.get_data(as_text=True)
    assert db.session.query(User).count() == 0


def test_registration_refuses_a_taken_email(
    client: FlaskClient, make_authority: Callable[..., Authority], make_user: Callable[..., User]
) -> None:
    authority = make_authority("UA")
    make_user(email="olena.koval@dpsu.example", authority=authority)
    response = client.post("/register", data=registration_form(authority))
    assert response.status_code == 422
    assert "already exists" in response.get_data(as_text=True)
    assert db.session.query(User).count() == 1


def test_wrong_password_and_unknown_email_get_the_same_answer(
    client: FlaskClient, make_user: Callable[..., User]
) -> None:
    user = make_user(email="known@agency.test")
    wrong = client.post("/login", data={"email": user.email, "password": "wrong password!"})
    unknown = client.post("/login", data={"email": "nobody@agency.test", "password": "wrong password!"})
    assert wrong.status_code == unknown.status_code == 401
    message = "The email or password is not correct."
    assert message in wrong.get_data(as_text=True)
    assert message in unknown.get_data(as_text=True)
    assert "known@agency.test" in wrong.get_data(as_text=True)  # the form keeps what was typed
    with client.session_transaction() as session:
        assert "_user_id" not in session


def test_login_is_case_insensitive_and_renews_the_session(
    client: FlaskClient, make_user: Callable[..., User]
) -> None:
    user = make_user(email="mixed@agency.test")
    with client.session_transaction() as session:
        session["planted"] = "by an attacker"
    response = client.post("/login", data={"email": "MIXED@agency.test", "password": TEST_PASSWORD})
    assert response.status_code == 302
    assert response.headers["Location"] == "/dashboard"
    with client.session_transaction() as session:
        assert session["_user_id"] == str(user.id)
        assert "planted" not in session


@pytest.mark.parametrize(
    ("next_url", "expected"),
    [
        ("/courses/some-course", "/courses/some-course"),
        ("https://evil.example/phish", "/dashboard"),
        ("//evil.example/phish", "/dashboard"),
        ("javascript:alert(1)", "/dashboard"),
    ],
)
def test_login_redirects_only_to_our_own_paths(
    client: FlaskClient, make_user: Callable[..., User], next_url: str, expected: str
) -> None:
    user = make_user()
    response = client.post(
        "/login", query_string={"next": next_url}, data={"email": user.email, "password": TEST_PASSWORD}
    )
    assert response.headers["Location"] == expected


def test_deactivated_person_cannot_sign_in(client: FlaskClient, make_user: Callable[..., User]) -> None:
    user = make_user(active=False)
    response = client.post("/login", data={"email": user.email, "password": TEST_PASSWORD})
    assert response.status_code == 401


def test_logout_needs_a_post_and_ends_the_session(
    login_as: Callable[[User], FlaskClient], make_user: Callable[..., User]
) -> None:
    client = login_as(make_user())
    assert client.get("/logout").status_code == 405
    response = client.post("/logout")
    assert response.status_code == 302
    assert client.get("/dashboard").status_code == 302


@pytest.fixture
def csrf_on(app: Flask) -> Iterator[None]:
    app.config["WTF_CSRF_ENABLED"] = True
    yield
    app.config["WTF_CSRF_ENABLED"] = False


@pytest.mark.usefixtures("csrf_on")
def test_forms_without_a_valid_csrf_token_are_refused(
    client: FlaskClient, make_user: Callable[..., User]
) -> None:
    user = make_user()
    refused = client.post("/login", data={"email": user.email, "password": TEST_PASSWORD})
    assert refused.status_code == 400
    tampered = client.post(
        "/login", data={"email": user.email, "password": TEST_PASSWORD, "csrf_token": "forged"}
    )
    assert tampered.status_code == 400
    token = CSRF_FIELD.search(client.get("/login").get_data(as_text=True))
    assert token is not None
    accepted = client.post(
        "/login", data={"email": user.email, "password": TEST_PASSWORD, "csrf_token": token.group(1)}
    )
    assert accepted.status_code == 302
