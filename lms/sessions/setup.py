"""Wiring of the sessions feature into the app (called from lms.app_setup.register_features)."""

from __future__ import annotations

from flask import Flask


def init_sessions(_app: Flask) -> None:
    """Importing this module connects the feature's signal receivers (add the imports above)."""
