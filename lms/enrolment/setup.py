"""Wiring of the enrolment feature into the app (called from lms.app_setup.register_features)."""

from __future__ import annotations

from flask import Flask

# Importing the module connects its receivers (blinker): quiz attempts and lesson completions re-check
# completion in every app the factory makes (web, `flask lms`, the Huey worker).
from lms.enrolment import completion  # noqa: F401


def init_enrolment(_app: Flask) -> None:
    """Nothing to configure yet: importing this module (register_features does) connected the receivers."""
