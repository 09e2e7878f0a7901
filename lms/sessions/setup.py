"""Wiring of the sessions feature into the app (called from lms.app_setup.register_features)."""

from __future__ import annotations

from flask import Flask

from lms.sessions import invitations  # noqa: F401  # connects the calendar invitation mail to the signals


def init_sessions(_app: Flask) -> None:
    """Importing this module connects the feature's signal receivers (add the imports above)."""
