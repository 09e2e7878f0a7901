"""Email confirmation: a single-use, expiring link; unconfirmed accounts cannot enrol and see why."""

from __future__ import annotations

import re
from collections.abc import Callable, Iterator
from datetime import timedelta

import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import select, update

from lms.auth import account
from lms.auth.models import EmailConfirmation, User
from lms.auth.services import find_user_by_email
from lms.courses.models import Course
from lms.db import utcnow
from lms.enrolment import runs as enrolment_runs
from lms.enrolment import self_service as enrolment_self_service
from lms.enrolment.models import Enrolment
from lms.errors import Forbidden, ValidationFailed
from lms.extensions import db
from lms.notifications.models import OutgoingMail
from lms.orgs.models import Authority
from lms.settings.services import clear_settings_cache
from tests.test_auth import registration_form

LINK = re.compile(r"https?://\S+/confirm-email/([A-Za-z0-9_\-]+)")


@pytest.fixture(autouse=True)
def _fresh_settings(app: Flask) -> Iterator[None]:
    yield
    clear_settings_cache()


def mailed_tokens(email: str) -> list[str]:
    mails = db.session.scalars(
        select(OutgoingMail).where(OutgoingMail.recipient == email).order_by(OutgoingMail.id)
    )
    return [LINK.search(mail.body).group(1) for mail in mails]  # type: ignore[union-attr]


@pytest.fixture
def registered(client: FlaskClient, make_authority: Callable[..., Authority]) -> User:
    response = client.post("/register", data=registration_form(make_authority("UA")))
    assert response.status_code == 302
    user = find_user_by_email("olena.koval@dpsu.example")
    assert user is not None
    return user


def test_registration_mails_a_link_and_stores_only_its_hash(app: Flask, registered: User) -> None:
    assert registered.email_confirmed_at is None
    [token] = mailed_tokens(registered.email)
    mail = db.session.scalar(select(OutgoingMail).where(OutgoingMail.recipient == registered.email))
    assert mail.kind == "email_confirmation"
    assert mail.body.count(app.config["PUBLIC_BASE_URL"]) == 1  # the link uses the public base URL
    [stored] = db.session.scalars(select(EmailConfirmation))
    assert stored.token_hash != token and token not in stored.token_hash
    assert len(stored.token_hash) == 64


def test_an_unconfirmed_account_cannot_enrol_and_sees_why(
    client: FlaskClient, registered: User, demo_course: Course
) -> None:
    run = enrolment_runs.ensure_default_run(demo_course)
    with pytest.raises(Forbidden, match="Confirm your email address"):
        enrolment_self_service.self_enrol(registered, run)
    db.session.commit()
    dashboard = client.get("/dashboard").get_data(as_text=True)
    assert "Your email address is not confirmed yet" in dashboard
    response = client.post(f"/runs/{run.id}/enrol", follow_redirects=True)
    assert "Confirm your email address before you enrol" in response.get_data(as_text=True)
    assert db.session.scalar(select(Enrolment).where(Enrolment.user_id == registered.id)) is None


def test_the_link_confirms_once_and_then_enrolment_works(
    client: FlaskClient, registered: User, demo_course: Course
) -> None:
    [token] = mailed_tokens(registered.email)
    page = client.get(f"/confirm-email/{token}")
    assert page.status_code == 200
    db.session.expire_all()
    assert db.session.get(User, registered.id).email_confirmed_at is None  # opening the link is not enough
    confirmed = client.post(f"/confirm-email/{token}")
    assert confirmed.status_code == 302
    db.session.expire_all()
    user = db.session.get(User, registered.id)
    assert user.email_confirmed_at is not None
    reused = client.post(f"/confirm-email/{token}")
    assert reused.status_code == 410
    assert "already been used" in reused.get_data(as_text=True)
    assert "already been used" in client.get(f"/confirm-email/{token}").get_data(as_text=True)
    run = enrolment_runs.ensure_default_run(demo_course)
    db.session.commit()
    assert client.post(f"/runs/{run.id}/enrol").status_code == 302
    assert db.session.scalar(select(Enrolment).where(Enrolment.user_id == registered.id)) is not None


def test_an_expired_link_is_refused(client: FlaskClient, registered: User) -> None:
    [token] = mailed_tokens(registered.email)
    db.session.execute(update(EmailConfirmation).values(expires_at=utcnow() - timedelta(seconds=1)))
    db.session.commit()
    response = client.post(f"/confirm-email/{token}")
    assert response.status_code == 410
    assert "expired" in response.get_data(as_text=True)
    with pytest.raises(ValidationFailed, match="expired"):
        account.confirm_email(token)
    db.session.expire_all()
    assert db.session.get(User, registered.id).email_confirmed_at is None


def test_an_unknown_link_is_refused(client: FlaskClient) -> None:
    response = client.get("/confirm-email/not-a-real-token")
    assert response.status_code == 410
    assert "not valid" in response.get_data(as_text=True)


def test_a_new_link_replaces_the_old_one(client: FlaskClient, registered: User) -> None:
    assert client.post("/account/confirm/resend").status_code == 302
    old, new = mailed_tokens(registered.email)
    assert "expired" in client.post(f"/confirm-email/{old}").get_data(as_text=True)
    assert client.post(f"/confirm-email/{new}").status_code == 302
    db.session.expire_all()
    assert db.session.get(User, registered.id).email_confirmed_at is not None
    again = client.post("/account/confirm/resend", follow_redirects=True)
    assert "already confirmed" in again.get_data(as_text=True)


def test_a_link_for_an_old_address_stops_working_when_the_address_changes(registered: User) -> None:
    [token] = mailed_tokens(registered.email)
    registered.email = "olena@new.example"
    db.session.flush()
    with pytest.raises(ValidationFailed, match="not valid"):
        account.confirm_email(token)
