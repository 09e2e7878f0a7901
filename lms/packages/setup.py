"""Wiring of the packages feature into the app (called from lms.app_setup.register_features)."""

from __future__ import annotations

from flask import Flask, current_app, request

from lms.packages.views import blueprints

UPLOAD_ENDPOINTS = frozenset({"packages.upload_package", "packages.upload_version"})


def init_packages(app: Flask) -> None:
    """Registers the package pages (upload, player, runtime data) and connects the feature's receivers."""
    for blueprint in blueprints():
        app.register_blueprint(blueprint)
    # First of all hooks (CSRF and lms.security read the form): the upload routes alone take a body up to
    # PACKAGE_MAX_BYTES instead of MAX_CONTENT_LENGTH.
    app.before_request_funcs.setdefault(None, []).insert(0, allow_package_uploads)


def allow_package_uploads() -> None:
    if request.endpoint in UPLOAD_ENDPOINTS:
        request.max_content_length = current_app.config["PACKAGE_MAX_BYTES"]
