"""Pages carry the CSRF token signed once per session (lms/security/csrf_tokens.py, issue 22).

With no time limit (lms/config.py) every signed copy of a session's raw token is accepted alike, so the
first copy is handed out again instead of signing one per page. Forms still go through Flask-WTF's own
check: a copy of another session, a token of no session, and a missing token are refused.
"""

from __future__ import annotations

import itertools
import re
from collections.abc import Callable, Iterator

import pytest
from flask import Flask
from flask.testing import FlaskClient
from flask_wtf import csrf as csrf_module
from itsdangerous import TimestampSigner
from sqlalchemy import func, select

from lms.auth.models import User
from lms.courses.models import Course
from lms.enrolment.runs import default_run
from lms.extensions import db
from lms.quizzes.models import QuizAttempt
from tests.conftest import TEST_PASSWORD

TOKEN = re.compile(r'name="csrf_token" value="([^"]+)"')


@pytest.fixture(autouse=True)
def a_second_passes_per_signature(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    """Each signature a second later than the last: two signings never give the same token by chance."""
    clock = itertools.count(1_800_000_000)
    monkeypatch.setattr(TimestampSigner, "get_timestamp", lambda self: next(clock))
    yield


def token_of(client: FlaskClient, path: str = "/login") -> str:
    found = TOKEN.search(client.get(path).get_data(as_text=True))
    assert found, f"{path} carries a CSRF token"
    return found.group(1)


def change_language(client: FlaskClient, token: str | None) -> int:
    form = {"language": "fr", "next": "/login"} | ({"csrf_token": token} if token is not None else {})
    return client.post("/language", data=form).status_code


def csrf_app(make_app: Callable[..., Flask], **config: object) -> Flask:
    return make_app(TESTING=True, SECRET_KEY="csrf-tokens", WTF_CSRF_ENABLED=True, **config)


def test_one_session_gets_one_signed_token_and_forms_accept_it(make_app: Callable[..., Flask]) -> None:
    client = csrf_app(make_app).test_client()
    first = token_of(client, "/")
    assert token_of(client, "/") == token_of(client, "/") == first  # not signed again per page
    assert change_language(client, first) == 302
    assert change_language(client, first) == 302  # any number of forms with it, as before


def test_other_sessions_tokens_and_no_token_are_refused(make_app: Callable[..., Flask]) -> None:
    app = csrf_app(make_app)
    mine, theirs = app.test_client(), app.test_client()
    their_token = token_of(theirs)
    my_token = token_of(mine)
    assert my_token != their_token  # each session its own raw token, so its own signed copy
    assert change_language(mine, their_token) == 400
    assert change_language(mine, None) == 400
    assert change_language(app.test_client(), my_token) == 400  # a token without its session
    assert change_language(mine, my_token) == 302


def test_with_a_time_limit_every_page_signs_its_own_token(make_app: Callable[..., Flask]) -> None:
    """A kept copy would age past the limit: with one configured, pages sign per request (Flask-WTF)."""
    app = csrf_app(make_app, WTF_CSRF_TIME_LIMIT=3600)
    client = app.test_client()
    tokens = {token_of(client) for _ in range(3)}
    assert len(tokens) == 3
    assert all(change_language(client, token) == 302 for token in tokens)
    assert not app.extensions.get("lms_signed_csrf_tokens")  # nothing kept


def test_templates_offer_the_kept_token_whatever_flask_wtf_registered(app: Flask) -> None:
    from lms.security.csrf_tokens import page_csrf_token

    assert app.jinja_env.globals["csrf_token"] is page_csrf_token
    with app.test_request_context("/"):
        context: dict[str, object] = {}
        app.update_template_context(context)
        assert context["csrf_token"] is page_csrf_token


def test_quiz_forms_rely_on_the_apps_check_and_sign_nothing(
    make_app: Callable[..., Flask],
    make_user: Callable[..., User],
    demo_course: Course,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """Starting and submitting a quiz build forms without a token of their own (lms/quizzes/forms.py): the
    app's CSRFProtect refuses a missing or foreign token before the view, and a submission signs none."""
    app = csrf_app(make_app)
    client, stranger = app.test_client(), app.test_client()
    user = make_user()
    assert (
        client.post(
            "/login", data={"email": user.email, "password": TEST_PASSWORD, "csrf_token": token_of(client)}
        ).status_code
        == 302
    )
    run = default_run(demo_course.id)
    assert run is not None
    token = token_of(client, "/dashboard")
    assert (
        client.post(f"/runs/{run.id}/enrol", data={"language": "en", "csrf_token": token}).status_code == 302
    )
    start = f"/courses/{demo_course.slug}/quizzes/final-assessment/start"
    overview = client.get(f"/courses/{demo_course.slug}/quizzes/final-assessment").text
    assert f'name="csrf_token" type="hidden" value="{token}"' in overview  # the page's token

    assert client.post(start).status_code == 400
    assert client.post(start, data={"csrf_token": token_of(stranger)}).status_code == 400
    assert db.session.scalar(select(func.count(QuizAttempt.id))) == 0
    started = client.post(start, data={"csrf_token": token})
    assert started.status_code == 302
    take = started.headers["Location"]
    assert f'name="csrf_token" type="hidden" value="{token}"' in client.get(take).text

    signed: list[int] = []
    real = csrf_module.generate_csrf
    monkeypatch.setattr(csrf_module, "generate_csrf", lambda *a, **k: signed.append(1) or real(*a, **k))
    assert client.post(take, data={"action": "submit"}).status_code == 400
    assert client.post(take, data={"action": "submit", "csrf_token": token_of(stranger)}).status_code == 400
    signed.clear()
    assert db.session.scalar(select(QuizAttempt.submitted_at)) is None
    db.session.rollback()
    assert client.post(take, data={"action": "submit", "csrf_token": token}).status_code == 302
    assert signed == []
    db.session.rollback()  # end this test's read, to see the app's commit
    assert db.session.scalar(select(QuizAttempt.submitted_at)) is not None
