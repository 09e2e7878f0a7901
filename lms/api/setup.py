"""Wiring of the API into the app (called from lms.app_setup.register_features)."""

from __future__ import annotations

from flask import Flask

from lms.api.views import bp as api_bp
from lms.api.views.token_pages import bp as token_pages_bp


def init_api(app: Flask) -> None:
    """Registers `/api/v1` (its blueprint, the OpenAPI document, token authentication) and the token pages."""
    app.register_blueprint(api_bp)
    app.register_blueprint(token_pages_bp)
