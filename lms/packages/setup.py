"""Wiring of the packages feature into the app (called from lms.app_setup.register_features)."""

from __future__ import annotations

from flask import Flask, current_app, request
from werkzeug.wrappers import Response

from lms.packages.runtime import hosts
from lms.packages.views import blueprints
from lms.security.setup import CONTENT_SECURITY_POLICY

UPLOAD_ENDPOINTS = frozenset({"packages.upload_package", "packages.upload_version"})
# What the package host serves (docs/packages-player.md "Offline"); the academy serves none of the first.
PACKAGE_HOST_ONLY = frozenset(
    {"package_host.host_page", "package_host.service_worker", "package_host.version_file"}
)
BOTH_HOSTS = frozenset({"static", "package_player.beacon"})


def init_packages(app: Flask) -> None:
    """Registers the package pages (upload, player, runtime data) and connects the feature's receivers."""
    for blueprint in blueprints():
        app.register_blueprint(blueprint)
    # First of all hooks (CSRF and lms.security read the form): the upload routes alone take a body up to
    # PACKAGE_MAX_BYTES instead of MAX_CONTENT_LENGTH.
    app.before_request_funcs.setdefault(None, []).insert(0, allow_package_uploads)
    # Before that even: a request to the wrong host goes no further.
    app.before_request_funcs[None].insert(0, keep_hosts_apart)
    app.after_request(allow_package_frames)


def allow_package_uploads() -> None:
    if request.endpoint in UPLOAD_ENDPOINTS:
        request.max_content_length = current_app.config["PACKAGE_MAX_BYTES"]


def keep_hosts_apart() -> Response | None:
    """With a package host: there, only the package routes, the static files and the final-commit beacon
    answer (no academy page, no session, no sign-in); on the academy, the package host's routes do not.
    Without one, the package host's routes answer nowhere."""
    host = hosts.package_host(current_app.config)
    endpoint = request.endpoint
    if endpoint in BOTH_HOSTS:
        return None
    if host is None:
        return _not_found() if endpoint in PACKAGE_HOST_ONLY else None
    on_package_host = request.host.lower() == host
    if on_package_host != (endpoint in PACKAGE_HOST_ONLY):
        return _not_found()
    return None


def _not_found() -> Response:
    # Plain: the academy's error page (menu, sign-in link) is not shown on the package host.
    return Response("Not found\n", status=404, mimetype="text/plain")


def allow_package_frames(response: Response) -> Response:
    """With a package host, the academy's pages may frame it (the player, and the course page's hidden
    frame that saves a package for offline use): ``frame-src`` names it, nothing else changes."""
    origin = hosts.package_origin(current_app.config)
    if origin is None or hosts.package_host(current_app.config) is None:
        return response
    if request.host.lower() == hosts.package_host(current_app.config):
        return response
    policy = response.headers.get("Content-Security-Policy")
    if policy is None or policy == CONTENT_SECURITY_POLICY:
        response.headers["Content-Security-Policy"] = f"{CONTENT_SECURITY_POLICY}; frame-src 'self' {origin}"
    return response
