"""Wiring of the packages feature into the app (called from lms.app_setup.register_features)."""

from __future__ import annotations

from flask import Flask


def init_packages(app: Flask) -> None:
    """Registers the package pages (upload, player, runtime data) and connects the feature's receivers."""
