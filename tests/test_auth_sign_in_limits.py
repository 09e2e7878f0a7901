"""Sign-in limits keep guessing out without letting anyone lock a person out (issue 18, item 5;
docs/security.md, "Sign-in limits"). Every scenario runs on the database store and on Redis."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime, timedelta

import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import func, select
from werkzeug.test import TestResponse

from lms.audit.models import AuditRecord
from lms.auth.models import Role
from lms.extensions import db
from lms.notifications.models import OutgoingMail
from lms.ops import ratelimit
from lms.ops.redis_connection import EXTENSION_KEY, redis_client
from lms.security import sign_in_limits
from tests.conftest import TEST_PASSWORD

REDIS_TEST_URL = "redis://127.0.0.1:6379/5"
T0 = datetime(2026, 11, 23, 12, 0, 3, tzinfo=UTC)
ATTACKER = "198.51.100.7"
OWNER = "203.0.113.20"
WRONG = "not the password"


class Clock:
    """The limits' clock, moved by the test (no sleeping, no timing assertions)."""

    def __init__(self) -> None:
        self.now = T0

    def __call__(self) -> datetime:
        return self.now

    def advance(self, seconds: float) -> None:
        self.now += timedelta(seconds=seconds)


@pytest.fixture(params=["database", "redis"])
def clock(request: pytest.FixtureRequest, app: Flask, monkeypatch: pytest.MonkeyPatch) -> Iterator[Clock]:
    if request.param == "redis":
        app.config["REDIS_URL"] = REDIS_TEST_URL
        app.extensions.pop(EXTENSION_KEY, None)
        client = redis_client()
        assert client is not None
        for name in client.scan_iter(f"{ratelimit.redis_prefix()}*"):  # this test database's counters
            client.delete(name)
    fixed = Clock()
    monkeypatch.setattr(ratelimit, "utcnow", fixed)
    yield fixed
    app.config.pop("REDIS_URL", None)
    app.extensions.pop(EXTENSION_KEY, None)


@pytest.fixture
def limits(app: Flask) -> Iterator[dict[str, int]]:
    """Set sign-in limits for one test (the app is shared by the session)."""
    changed: dict[str, int] = {}
    yield changed
    for name in changed:
        app.config.pop(name, None)


def apply(app: Flask, limits: dict[str, int], **values: int) -> None:
    limits.update(values)
    app.config.update(values)


def sign_in(client: FlaskClient, email: str, password: str, address: str) -> TestResponse:
    return client.post(
        "/login", data={"email": email, "password": password}, environ_base={"REMOTE_ADDR": address}
    )


def test_wrong_passwords_from_one_address_do_not_lock_the_admin_out_elsewhere(
    app: Flask, make_user, clock: Clock
) -> None:
    admin = make_user(Role.ADMIN)
    attacker = app.test_client()
    answers = [sign_in(attacker, admin.email, WRONG, ATTACKER).status_code for _ in range(12)]
    assert set(answers) <= {401, 429} and answers[:5] == [401] * 5 and answers[-1] == 429

    refused = sign_in(attacker, admin.email, TEST_PASSWORD, ATTACKER)  # even with the right password
    assert refused.status_code == 429
    assert 1 <= int(refused.headers["Retry-After"]) <= 900

    owner = app.test_client()
    welcome = sign_in(owner, admin.email, TEST_PASSWORD, OWNER)  # at once, from a clean address
    assert welcome.status_code == 302
    assert owner.get("/admin/people").status_code == 200


def test_the_account_and_address_limit_refuses_that_address_only(
    app: Flask, make_user, clock: Clock, limits: dict[str, int]
) -> None:
    apply(app, limits, LOGIN_DELAY_AFTER=1000)  # the per-(account, address) limit alone
    user, other = make_user(), make_user()
    attacker = app.test_client()
    for _ in range(10):
        assert sign_in(attacker, user.email, WRONG, ATTACKER).status_code == 401
    refused = sign_in(attacker, user.email, TEST_PASSWORD, ATTACKER)
    assert refused.status_code == 429
    assert int(refused.headers["Retry-After"]) == ratelimit.seconds_left(900, now=clock.now)
    assert b"Too many sign-in attempts" in refused.get_data()
    assert (
        sign_in(attacker, other.email, WRONG, ATTACKER).status_code == 401
    )  # another account: its own count
    assert sign_in(app.test_client(), user.email, TEST_PASSWORD, OWNER).status_code == 302

    clock.advance(900)  # the next window
    assert sign_in(app.test_client(), user.email, TEST_PASSWORD, ATTACKER).status_code == 302


def test_the_address_limit_counts_failures_on_every_account(
    app: Flask, make_user, clock: Clock, limits: dict[str, int]
) -> None:
    apply(app, limits, LOGIN_LIMIT_PER_IP=5)
    user = make_user()
    for _ in range(8):  # colleagues behind one address sign in all morning: successes are not counted
        assert sign_in(app.test_client(), user.email, TEST_PASSWORD, ATTACKER).status_code == 302
    stuffing = app.test_client()
    for n in range(5):
        assert sign_in(stuffing, f"p{n}@agency.test", WRONG, ATTACKER).status_code == 401
    refused = sign_in(stuffing, user.email, TEST_PASSWORD, ATTACKER)
    assert refused.status_code == 429 and refused.headers["Retry-After"]
    assert sign_in(app.test_client(), user.email, TEST_PASSWORD, OWNER).status_code == 302


def test_the_delay_grows_with_the_accounts_failures_and_applies_to_failing_addresses_only(
    app: Flask, make_user, clock: Clock
) -> None:
    assert [sign_in_limits.sign_in_delay(n, after=5, maximum=60) for n in range(4, 14)] == [
        0, 1, 2, 4, 8, 16, 32, 60, 60, 60,
    ]  # fmt: skip
    user = make_user()
    attacker = app.test_client()
    seen: list[tuple[int, str]] = []
    for _ in range(9):
        response = sign_in(attacker, user.email, WRONG, ATTACKER)
        seen.append((response.status_code, response.headers.get("Retry-After", "")))
        clock.advance(int(response.headers.get("Retry-After", "0")))  # waits as told, then tries again
        if response.status_code == 429:
            assert sign_in(attacker, user.email, WRONG, ATTACKER).status_code == 401  # and is let in
    waits = [int(after) for status, after in seen if status == 429]
    assert waits == [1, 2, 4, 8][: len(waits)] and len(waits) >= 3  # each wait longer than the one before

    with app.test_request_context(environ_base={"REMOTE_ADDR": ATTACKER}):
        check = sign_in_limits.check_sign_in(user.email)
        assert not check.allowed and check.refused_by == "account_delay" and check.delay >= 16
    with app.test_request_context(environ_base={"REMOTE_ADDR": OWNER}):
        check = sign_in_limits.check_sign_in(user.email)
        assert check.allowed and check.delay == 0  # no delay for an address that has not been failing
        sign_in_limits.passed_sign_in(check)  # as the view does when the password is right
    db.session.commit()
    assert sign_in(app.test_client(), user.email, TEST_PASSWORD, OWNER).status_code == 302


def test_the_delay_message_says_how_long_to_wait(app: Flask, make_user, clock: Clock) -> None:
    user = make_user()
    attacker = app.test_client()
    for _ in range(6):
        sign_in(attacker, user.email, WRONG, ATTACKER)
    refused = sign_in(attacker, user.email, WRONG, ATTACKER)
    assert refused.status_code == 429
    assert b"Try again in 1 second" in refused.get_data()


def test_unknown_and_known_addresses_are_limited_alike(app: Flask, make_user, clock: Clock) -> None:
    user = make_user()

    def statuses(email: str) -> list[int]:
        client = app.test_client()
        return [sign_in(client, email, WRONG, ATTACKER).status_code for _ in range(12)]

    assert statuses(user.email) == statuses("nobody@agency.test")
    db.session.rollback()
    failed = db.session.scalar(
        select(func.count()).select_from(AuditRecord).where(AuditRecord.action == "auth.sign_in_failed")
    )
    assert failed == 24  # wrong passwords and refusals alike stay in the audit trail


def test_asking_for_reset_links_uses_no_sign_in_attempts(app: Flask, make_user, clock: Clock) -> None:
    user = make_user()
    client = app.test_client()
    for _ in range(15):
        response = client.post(
            "/forgot-password", data={"email": user.email}, environ_base={"REMOTE_ADDR": ATTACKER}
        )
        assert response.status_code == 302
    sent = db.session.scalar(
        select(func.count()).select_from(OutgoingMail).where(OutgoingMail.kind == "password_reset")
    )
    assert sent == 10  # PASSWORD_RESET_LIMIT_PER_ACCOUNT: the inbox is not flooded
    assert sign_in(client, user.email, TEST_PASSWORD, ATTACKER).status_code == 302


@pytest.mark.parametrize("store", ["database", "redis"])
def test_count_forgive_and_hold(app: Flask, store: str) -> None:
    if store == "redis":
        app.config["REDIS_URL"] = REDIS_TEST_URL
        app.extensions.pop(EXTENSION_KEY, None)
        client = redis_client()
        assert client is not None
        for name in client.scan_iter(f"{ratelimit.redis_prefix()}*"):
            client.delete(name)
    try:
        assert ratelimit.count("test:k", 60, now=T0) == 0
        ratelimit.hit("test:k", 5, 60, now=T0)
        ratelimit.hit("test:k", 5, 60, now=T0)
        ratelimit.forgive("test:k", 60, now=T0)
        assert ratelimit.count("test:k", 60, now=T0) == 1
        ratelimit.forgive("test:k", 60, now=T0)
        ratelimit.forgive("test:k", 60, now=T0)  # never below zero
        ratelimit.forgive("test:missing", 60, now=T0)
        assert ratelimit.count("test:k", 60, now=T0) == 0
        assert ratelimit.count("test:missing", 60, now=T0) == 0
        assert ratelimit.seconds_left(60, now=T0) == 57
        assert ratelimit.hold("test:h", 30, now=T0) == 0  # taken
        assert ratelimit.hold("test:h", 30, now=T0 + timedelta(seconds=10)) == 20
        assert ratelimit.hold("test:h", 30, now=T0 + timedelta(seconds=30)) == 0  # free again
        assert ratelimit.hold("test:h", 5, now=T0 + timedelta(seconds=31)) == 29  # taken at +30 for 30
        assert ratelimit.hold("test:other", 30, now=T0) == 0  # holds are independent
        db.session.commit()
    finally:
        app.config.pop("REDIS_URL", None)
        app.extensions.pop(EXTENSION_KEY, None)
