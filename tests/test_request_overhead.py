"""The work around every page made cheaper (issue 22) keeps what it did: the same links, headers and log
line, and a signed-in person's change still takes effect at the next request. No figure here is a time
(docs/performance.md has the measurements)."""

from __future__ import annotations

import gzip
import logging
import re
from collections.abc import Callable

import pytest
from flask import Flask, url_for
from flask.testing import FlaskClient
from werkzeug.wrappers import Response

from lms.auth.models import Role, User
from lms.extensions import db
from lms.frontend.compression import LEVEL
from lms.frontend.setup import page_url
from lms.security.setup import CONTENT_SECURITY_POLICY, add_security_headers


@pytest.mark.parametrize(
    "endpoint",
    [
        "courses.catalogue",
        "frontend.manifest",
        "frontend.service_worker",
        "account.profile",
        "auth.logout",
        "auth.set_language",
        "auth.login",
        "auth.register",
    ],
)
def test_page_url_is_url_for_built_once(app: Flask, endpoint: str) -> None:
    with app.test_request_context("/"):
        assert page_url(endpoint) == url_for(endpoint)
        assert page_url(endpoint) is page_url(endpoint)  # kept, not built again
    with app.test_request_context("/", base_url="http://localhost/academy/"):
        assert page_url(endpoint) == url_for(endpoint)
        assert page_url(endpoint).startswith("/academy/")  # one entry per mount point


@pytest.mark.parametrize("endpoint", ["static", ".index"])
def test_page_url_refuses_urls_that_depend_on_more_than_the_endpoint(app: Flask, endpoint: str) -> None:
    with app.test_request_context("/"), pytest.raises(ValueError):
        page_url(endpoint)


def _chrome(html: str) -> str:
    """The page around the content, with the per-request token blanked and whitespace folded."""
    html = re.sub(r'name="csrf_token" value="[^"]+"', 'name="csrf_token" value=""', html)
    return re.sub(r">\s+<", "><", html)


def test_signed_in_page_chrome(
    login_as: Callable[[User], FlaskClient], make_user: Callable[..., User]
) -> None:
    client = login_as(make_user(Role.TRAINEE, given_name="Zoë", family_name="<Ivanova>"))
    html = _chrome(client.get("/dashboard").get_data(as_text=True))
    assert html.count('<nav class="main-nav" aria-label="Main"><ul>') == 2  # menu (phones) and bar
    assert html.count('<a href="/dashboard" aria-current="page">My courses</a>') == 2
    assert '<a class="skip-link" href="#main">Skip to main content</a><div id="js-text" hidden' in html
    assert '<a class="brand" href="/">' in html
    assert '<a class="who" href="/account" title="My account"><bdi>Zoë &lt;Ivanova&gt;</bdi></a>' in html
    assert (
        '<form method="post" action="/logout" class="inline-form"><input type="hidden" name="csrf_token"'
        in html
    )
    assert 'action="/language" class="inline-form language-form"' in html
    assert 'data-sw="/sw.js"' in html
    assert 'rel="manifest" href="/manifest.webmanifest"' in html


def test_anonymous_page_chrome_in_another_language(client: FlaskClient) -> None:
    html = _chrome(client.get("/login", headers={"Accept-Language": "fr"}).get_data(as_text=True))
    assert '<html lang="fr"' in html
    assert html.count('<nav class="main-nav" aria-label="Main"><ul>') == 0  # the label is translated
    assert html.count('<nav class="main-nav" aria-label=') == 2
    assert 'href="/login"' in html and 'href="/register"' in html
    assert "Skip to main content" not in html  # the cached part is per language


def test_security_headers_once_each_and_a_view_header_kept(app: Flask) -> None:
    with app.test_request_context("/", base_url="https://academy.example.org"):
        response = Response("x")
        response.headers["content-security-policy"] = "frame-ancestors 'self'"  # a view's own, any case
        add_security_headers(response)
        assert response.headers.getlist("Content-Security-Policy") == ["frame-ancestors 'self'"]
        for name in ("X-Content-Type-Options", "X-Frame-Options", "Referrer-Policy", "Permissions-Policy"):
            assert len(response.headers.getlist(name)) == 1
        assert response.headers["Strict-Transport-Security"].startswith("max-age=")
    with app.test_request_context("/"):
        response = add_security_headers(Response("x"))
        assert response.headers["Content-Security-Policy"] == CONTENT_SECURITY_POLICY
        assert "Strict-Transport-Security" not in response.headers  # plain http: no HSTS


def test_pages_are_gzipped_and_decompress_to_the_page(client: FlaskClient) -> None:
    plain = client.get("/login").get_data()
    packed = client.get("/login", headers={"Accept-Encoding": "gzip"})
    assert packed.headers["Content-Encoding"] == "gzip"
    assert re.sub(rb'value="[^"]+"', b"", gzip.decompress(packed.get_data())) == re.sub(
        rb'value="[^"]+"', b"", plain
    )
    assert 1 <= LEVEL <= 9


def test_request_log_line_and_request_id(client: FlaskClient, caplog: pytest.LogCaptureFixture) -> None:
    with caplog.at_level(logging.INFO, logger="lms.request"):
        response = client.get("/login", headers={"X-Request-ID": "abcdefgh-1234"})
    assert response.headers["X-Request-ID"] == "abcdefgh-1234"
    [record] = [r for r in caplog.records if r.name == "lms.request"]
    assert (record.method, record.route, record.path, record.status) == ("GET", "/login", "/login", 200)  # type: ignore[attr-defined]
    assert record.request_id == "abcdefgh-1234"  # type: ignore[attr-defined]


def test_no_log_line_without_request_logging_but_still_an_id(
    make_app: Callable[..., Flask], caplog: pytest.LogCaptureFixture
) -> None:
    quiet = make_app(TESTING=True, LOG_REQUESTS=False, SECRET_KEY="quiet", WTF_CSRF_ENABLED=False)
    try:
        with caplog.at_level(logging.WARNING, logger="lms.request"):
            response = quiet.test_client().get("/login")
        assert response.headers["X-Request-ID"]
        assert not [r for r in caplog.records if r.name == "lms.request"]
    finally:
        logging.getLogger("lms.request").setLevel(logging.INFO)


def test_a_deactivated_person_is_signed_out_at_the_next_request(
    login_as: Callable[[User], FlaskClient], make_user: Callable[..., User]
) -> None:
    person = make_user(Role.TRAINEE)
    client = login_as(person)
    assert client.get("/dashboard").status_code == 200
    person.active = False
    db.session.commit()
    assert client.get("/dashboard").status_code == 302  # to the sign-in page


def test_a_revoked_role_takes_effect_at_the_next_request(
    login_as: Callable[[User], FlaskClient], make_user: Callable[..., User]
) -> None:
    person = make_user(Role.TRAINEE, Role.ADMIN)
    client = login_as(person)
    assert client.get("/admin/people").status_code == 200
    person.roles[:] = [role for role in person.roles if role.role != Role.ADMIN]
    db.session.commit()
    assert client.get("/admin/people").status_code == 403
    assert "Administration" not in client.get("/dashboard").get_data(as_text=True)  # the cached nav too


def test_translating_in_a_loop_does_not_copy_the_template_context(
    app: Flask, monkeypatch: pytest.MonkeyPatch
) -> None:
    """``_()`` takes the evaluation context: Jinja hands a function that asks for the whole context, inside
    a loop or block with variables of its own, a fresh copy of it (every global) at each call."""
    from jinja2.runtime import Context

    copies: list[int] = []
    derived = Context.derived
    monkeypatch.setattr(
        Context, "derived", lambda self, locals=None: copies.append(1) or derived(self, locals)
    )
    template = app.jinja_env.from_string(
        "{% for word in words %}{% set shown = word %}{{ _('Done') }} {{ _('%(w)s', w=shown) }}{% endfor %}"
    )
    with app.test_request_context("/"):
        assert template.render(words=["a", "<b>"]) == "Done aDone &lt;b&gt;"
    assert copies == []
