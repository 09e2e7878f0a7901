"""Wiring of the surveys feature into the app (called from lms.app_setup.register_features)."""

from __future__ import annotations

from flask import Flask

# Importing the module connects its receiver: a completed enrolment is invited to its run's
# end-of-course survey in every app the factory makes (web, `flask lms`, the Huey worker).
from lms.surveys import invitations  # noqa: F401


def init_surveys(_app: Flask) -> None:
    """Importing this module connects the feature's signal receivers (add the imports above)."""
