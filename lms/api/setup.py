"""Wiring of the API into the app (called from lms.app_setup.register_features)."""

from __future__ import annotations

from flask import Flask


def init_api(app: Flask) -> None:
    """Registers `/api/v1` (its blueprint, the OpenAPI document, token authentication)."""
