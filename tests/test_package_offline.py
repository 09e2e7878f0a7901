"""Packages on their own host name and saved for offline use, the server side (issue 25,
docs/packages-player.md "Offline"): the package host serves the package routes and nothing of the academy
(no page, no session); the academy does not serve the package host's routes; per-version files under a
fixed key, with the package host's sandbox and no CORS; the player hands the launch over by postMessage;
the list of files to save, and the refusals (no package host, over the size limit). The browser journeys
are in tests/test_package_offline_browser.py."""

from __future__ import annotations

import html
import json
import re
from typing import Any

import pytest
from flask import Flask

from lms.packages.runtime import file_links, hosts
from tests.enrolment_support import UserClient
from tests.package_support import enrol, package_course

ACADEMY = "http://localhost"  # the test client's own host
PACKAGES = "http://packages.localhost"


@pytest.fixture
def package_host(app: Flask, monkeypatch: pytest.MonkeyPatch) -> str:
    monkeypatch.setitem(app.config, "PUBLIC_BASE_URL", ACADEMY)
    monkeypatch.setitem(app.config, "PACKAGE_FILES_BASE_URL", PACKAGES + "/")
    return PACKAGES


def _version_path(setup: Any, path: str = "index.html") -> str:
    version = setup.version
    return f"/package-version/{version.id}/{file_links.version_key(version.id, version.sha256)}/{path}"


def test_the_package_host_is_a_host_of_its_own_or_none() -> None:
    assert hosts.package_host({}) is None
    assert hosts.package_host({"PACKAGE_FILES_BASE_URL": "javascript:alert(1)"}) is None
    same = {
        "PUBLIC_BASE_URL": "https://academy.example",
        "PACKAGE_FILES_BASE_URL": "https://ACADEMY.example/x",
    }
    assert hosts.package_host(same) is None  # the academy's own host: its cookies would reach packages
    other = {
        "PUBLIC_BASE_URL": "https://academy.example",
        "PACKAGE_FILES_BASE_URL": "https://pk.academy.example/",
    }
    assert hosts.package_host(other) == "pk.academy.example"
    assert hosts.package_origin(other) == "https://pk.academy.example"


def test_the_package_host_serves_a_version_s_files_with_its_sandbox_and_no_cors(
    app: Flask, package_host: str
) -> None:
    setup = package_course()
    client = app.test_client()
    response = client.get(_version_path(setup), base_url=package_host)
    assert response.status_code == 200
    page = response.get_data(as_text=True)
    # the runtime, no launch data: the same bytes for everyone, so they can be kept for offline use
    assert "js/package-launch.js" in page and "scorm12.min.js" in page and "js/package-bridge.js" in page
    assert "lms-scorm-launch" not in page
    policy = response.headers["Content-Security-Policy"]
    assert policy.startswith("sandbox allow-scripts allow-same-origin allow-forms allow-popups;")
    assert "worker-src 'none'" in policy and f"frame-ancestors 'self' {ACADEMY}" in policy
    assert "Access-Control-Allow-Origin" not in response.headers
    assert response.headers["Cross-Origin-Resource-Policy"] == "same-origin"
    assert "Set-Cookie" not in response.headers
    assert client.get(_version_path(setup, "imsmanifest.xml"), base_url=package_host).status_code == 200
    wrong = f"/package-version/{setup.version.id}/{'0' * 32}/index.html"
    assert client.get(wrong, base_url=package_host).status_code == 404
    assert client.get(_version_path(setup, "..%2f..%2fconfig.py"), base_url=package_host).status_code == 404
    assert client.get(_version_path(setup, "missing.html"), base_url=package_host).status_code == 404
    assert (
        client.get(f"/package-version/999999/{'0' * 32}/index.html", base_url=package_host).status_code == 404
    )
    host_page = client.get("/package-host", base_url=package_host)
    assert host_page.status_code == 200 and f'data-academy="{ACADEMY}"' in host_page.get_data(as_text=True)
    assert "worker-src 'self'" in host_page.headers["Content-Security-Policy"]
    worker = client.get("/package-sw.js", base_url=package_host)
    assert worker.status_code == 200 and worker.mimetype == "text/javascript"


def test_the_package_host_serves_nothing_of_the_academy_not_even_with_the_session(
    app: Flask, make_user: Any, package_host: str
) -> None:
    setup = package_course()
    trainee = make_user()
    enrol(setup.course, trainee)
    user = UserClient(app, trainee)
    cookie = user.client.get_cookie(app.config.get("SESSION_COOKIE_NAME", "session"))
    assert cookie is not None
    assert cookie.domain in ("localhost", "localhost.local")  # host-only: never sent to another host
    client = app.test_client()
    headers = {"Cookie": f"{cookie.key}={cookie.value}"}  # as if a browser sent it anyway
    for path in (
        "/",
        "/login",
        "/dashboard",
        f"/courses/{setup.course.slug}",
        setup.play_url,
        "/sw.js",
        "/api/v1/courses",
    ):
        response = client.get(path, base_url=package_host, headers=headers)
        assert response.status_code == 404, path
        assert response.mimetype == "text/plain" and "Set-Cookie" not in response.headers
    commit = client.post(setup.commit_url, base_url=package_host, headers=headers, json={})
    assert commit.status_code == 404
    # the academy: the package host's routes are not there
    assert user.get("/package-host").status_code == 404
    assert user.get("/package-sw.js").status_code == 404
    assert user.get(_version_path(setup)).status_code == 404
    assert user.get("/dashboard").status_code == 200


def test_without_a_package_host_its_routes_answer_nowhere(app: Flask) -> None:
    setup = package_course()
    client = app.test_client()
    assert client.get("/package-host").status_code == 404
    assert client.get("/package-sw.js").status_code == 404
    assert client.get(_version_path(setup)).status_code == 404


def test_the_player_hands_the_launch_to_the_package_host_by_postmessage(
    app: Flask, make_user: Any, package_host: str
) -> None:
    setup = package_course()
    trainee = make_user()
    enrol(setup.course, trainee)
    response = UserClient(app, trainee).get(setup.play_url)
    assert response.status_code == 200
    page = response.get_data(as_text=True)
    assert 'sandbox="allow-scripts allow-same-origin allow-forms allow-popups"' in page
    assert f'data-src="{package_host}/package-host"' in page
    assert f'data-package-origin="{package_host}"' in page
    launch = json.loads(html.unescape(re.search(r'data-launch="([^"]*)"', page).group(1)))
    assert launch["href"] == package_host + _version_path(setup)
    assert launch["beacon"].startswith(package_host + "/package-beacon/")
    assert launch["attempt"] == 1 and launch["version"] == "1.2"
    assert "/package-files/" not in page  # no per-request signed link: the files are the same every time
    assert f"frame-src 'self' {package_host}" in response.headers["Content-Security-Policy"]
    # the final commit's beacon answers on the package host (the package's connect-src is its own origin)
    beacon = app.test_client().post(
        launch["beacon"][len(package_host) :],
        base_url=package_host,
        data=json.dumps({"attempt": 1, "sequence": 1, "session": "session-one", "cmi": {}}),
        content_type="text/plain",
    )
    assert beacon.status_code == 204


def test_the_files_to_save_and_the_packages_that_cannot_be_saved(
    app: Flask, make_user: Any, package_host: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    setup = package_course()
    trainee = make_user()
    enrol(setup.course, trainee)
    user = UserClient(app, trainee)
    url = setup.play_url.replace("/play", "/package-offline")
    data = user.get(url).get_json()
    assert data["saved"] is True and data["host"] == f"{package_host}/package-host"
    assert package_host + _version_path(setup) in data["files"]
    assert package_host + _version_path(setup, "imsmanifest.xml") in data["files"]
    assert all(file.startswith(package_host + "/") for file in data["files"])
    assert any("package-player.js" in asset for asset in data["assets"])
    monkeypatch.setitem(app.config, "PACKAGE_OFFLINE_MAX_BYTES", 100)
    data = user.get(url).get_json()
    assert data["saved"] is False and "files" not in data
    assert data["message"].startswith(
        "“Document checks” is too large to be saved on this device (0.0 MB; the limit"
    )
    other = make_user()
    assert UserClient(app, other).get(url).status_code == 403  # not enrolled
    assert user.get(url.replace(f"/{setup.lesson.id}/", f"/{setup.other_lesson.id}/")).status_code == 404


def test_without_a_package_host_the_player_stays_opaque_and_says_offline_needs_one(
    app: Flask, make_user: Any
) -> None:
    setup = package_course()
    trainee = make_user()
    enrol(setup.course, trainee)
    user = UserClient(app, trainee)
    page = user.get(setup.play_url).get_data(as_text=True)
    assert 'sandbox="allow-scripts allow-forms allow-popups"' in page and "/package-files/" in page
    assert "It can be saved for offline use only when the academy serves activities from a host name" in page
    data = user.get(setup.play_url.replace("/play", "/package-offline")).get_json()
    assert data["saved"] is False and "host name of their own" in data["message"]
