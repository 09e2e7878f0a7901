"""Static fingerprints, long caching, gzip, the service worker and the offline pages (issue 11)."""

from __future__ import annotations

import gzip
import re
from collections.abc import Callable
from pathlib import Path

import pytest
from flask import Flask
from flask.testing import FlaskClient

from lms.auth.models import User
from lms.content.markdown import render_markdown
from lms.frontend import fingerprint
from lms.frontend import setup as frontend_setup
from lms.frontend.compression import accepts_gzip

ASSET = re.compile(r'href="(/static/css/app\.css\?v=([0-9a-f]{12}))"')


def test_accepts_gzip_reads_the_header() -> None:
    assert accepts_gzip("gzip, deflate, br")
    assert accepts_gzip("br;q=1.0, gzip;q=0.8")
    assert accepts_gzip("*")
    assert not accepts_gzip("gzip;q=0")
    assert not accepts_gzip("br, identity")
    assert not accepts_gzip("")


def test_pages_link_fingerprinted_assets_cached_for_a_year(client: FlaskClient) -> None:
    page = client.get("/", headers={"Accept-Encoding": "gzip"})
    assert page.headers["Content-Encoding"] == "gzip"
    assert "Accept-Encoding" in page.headers["Vary"]
    html = gzip.decompress(page.data).decode()
    match = ASSET.search(html)
    assert match, "the stylesheet URL carries its content hash"
    css = client.get(match.group(1), headers={"Accept-Encoding": "gzip"})
    assert css.status_code == 200
    assert "immutable" in css.headers["Cache-Control"] and "max-age=31536000" in css.headers["Cache-Control"]
    assert css.headers["Content-Encoding"] == "gzip"
    assert b"--color-primary" in gzip.decompress(css.data)
    stale = client.get("/static/css/app.css?v=000000000000")
    assert "immutable" not in stale.headers.get("Cache-Control", "")
    assert "no-cache" in stale.headers["Cache-Control"]
    plain = client.get(match.group(1))
    assert "Content-Encoding" not in plain.headers
    assert plain.data == gzip.decompress(css.data)
    stale.close()  # the test client leaves unread file bodies open
    plain.close()


def test_service_worker_and_offline_page(client: FlaskClient) -> None:
    worker = client.get("/sw.js")
    assert worker.status_code == 200
    assert worker.mimetype == "text/javascript"
    assert "no-cache" in worker.headers["Cache-Control"]
    assert b"addEventListener('fetch'" in worker.data
    offline = client.get("/offline")
    assert offline.status_code == 200
    assert b"Quizzes need a connection" in offline.data


def test_csrf_token_for_queued_completions_is_for_signed_in_people(
    client: FlaskClient, login_as: Callable[[User], FlaskClient], make_user: Callable[..., User]
) -> None:
    assert client.get("/offline/token").status_code in {302, 401}
    signed_in = login_as(make_user("trainee"))
    answer = signed_in.get("/offline/token")
    assert answer.status_code == 200
    assert answer.headers["Cache-Control"] == "no-store"
    assert isinstance(answer.get_json()["csrf_token"], str)


def test_lesson_images_load_lazily() -> None:
    html = render_markdown("![A stamp](https://example.org/stamp.png)")
    assert 'loading="lazy"' in html
    assert 'alt="A stamp"' in html


def test_asset_urls_are_built_once_per_process_outside_development(
    make_app: Callable[..., Flask], monkeypatch: pytest.MonkeyPatch
) -> None:
    """Every page links the stylesheet and the script: in production their ?v= URL is built once (a new
    version is a new deployment); in development each page builds it again, so an edit shows at once."""
    hashed: list[str] = []
    real = fingerprint.content_hash

    def counting(path: Path) -> str | None:
        hashed.append(path.name)
        return real(path)

    monkeypatch.setattr(fingerprint, "content_hash", counting)
    monkeypatch.setattr(frontend_setup, "content_hash", counting)
    for debug, expected in ((False, 1), (True, 3)):
        app = make_app(TESTING=True, SECRET_KEY="assets", DEBUG=debug)
        app.debug = debug
        client = app.test_client()
        hashed.clear()
        pages = [client.get("/").get_data(as_text=True) for _ in range(3)]
        urls = {found.group(1) for page in pages for found in [ASSET.search(page)] if found}
        assert len(urls) == 1, "every page links the same fingerprinted stylesheet"
        assert hashed.count("app.css") == expected
