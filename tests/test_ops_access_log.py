"""gunicorn's own access log is off unless set: the app writes one line per request itself, with one-time
tokens cut out of the path (docs/security.md), and a second line per request was CPU for nothing."""

from __future__ import annotations

import importlib

import pytest


def test_gunicorn_access_log_is_off_by_default_and_can_be_turned_on(monkeypatch: pytest.MonkeyPatch) -> None:
    from lms.ops import gunicorn_conf

    monkeypatch.delenv("LMS_SERVER_ACCESS_LOG", raising=False)
    assert importlib.reload(gunicorn_conf).accesslog is None
    monkeypatch.setenv("LMS_SERVER_ACCESS_LOG", "-")
    assert importlib.reload(gunicorn_conf).accesslog == "-"
    monkeypatch.delenv("LMS_SERVER_ACCESS_LOG")
    importlib.reload(gunicorn_conf)
