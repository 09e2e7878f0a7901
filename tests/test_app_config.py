"""Configuration layering, the generated secret key, and SQLite connection settings."""

from __future__ import annotations

from pathlib import Path

import pytest
from flask import Flask
from sqlalchemy import text

from lms import create_app
from lms.config import settings_from_environment
from lms.extensions import db


def test_environment_settings_are_typed() -> None:
    settings = settings_from_environment(
        {"LMS_ACADEMY_NAME": "MCP Med Training Institute", "LMS_MAIL_PORT": "2525",
         "LMS_WTF_CSRF_ENABLED": "false", "OTHER": "ignored", "LMS_TEST_DATABASE_URL": "skipped"}
    )  # fmt: skip
    assert settings == {
        "ACADEMY_NAME": "MCP Med Training Institute",
        "MAIL_PORT": 2525,
        "WTF_CSRF_ENABLED": False,
    }


def test_layers_apply_in_order(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    (tmp_path / "config.py").write_text(
        'ACADEMY_NAME = "From instance"\nMAIL_PORT = 1025\nCATALOGUE_PAGE_SIZE = 5\n'
    )
    monkeypatch.setenv("LMS_MAIL_PORT", "2525")
    monkeypatch.setenv("LMS_CATALOGUE_PAGE_SIZE", "7")
    app = create_app({"INSTANCE_PATH": str(tmp_path), "CATALOGUE_PAGE_SIZE": 9})
    assert app.config["ACADEMY_NAME"] == "From instance"  # instance/config.py over defaults
    assert app.config["MAIL_PORT"] == 2525  # environment over instance/config.py
    assert app.config["CATALOGUE_PAGE_SIZE"] == 9  # the mapping given to create_app over everything


def test_secret_key_is_generated_once_into_the_instance_folder(tmp_path: Path) -> None:
    first = create_app({"INSTANCE_PATH": str(tmp_path)})
    key_file = tmp_path / "secret_key"
    assert key_file.exists()
    assert oct(key_file.stat().st_mode & 0o777) == "0o600"
    assert len(first.config["SECRET_KEY"]) == 64
    second = create_app({"INSTANCE_PATH": str(tmp_path)})
    assert second.config["SECRET_KEY"] == first.config["SECRET_KEY"]
    assert (tmp_path / "lms.sqlite").parent == tmp_path
    assert second.config["SQLALCHEMY_DATABASE_URI"] == f"sqlite:///{tmp_path / 'lms.sqlite'}"


def test_the_instance_folder_keeps_only_its_gitignore_in_the_repository() -> None:
    ignore = (Path(__file__).resolve().parent.parent / "instance" / ".gitignore").read_text()
    assert ignore.splitlines() == ["*", "!.gitignore"]


def test_sqlite_connections_use_wal_and_a_busy_timeout(app: Flask) -> None:
    if db.engine.dialect.name != "sqlite":
        pytest.skip("SQLite connection settings")
    with db.engine.connect() as connection:
        assert connection.execute(text("PRAGMA journal_mode")).scalar() == "wal"
        assert connection.execute(text("PRAGMA busy_timeout")).scalar() == 5000
        assert connection.execute(text("PRAGMA foreign_keys")).scalar() == 1


def test_app_runs_with_an_absolute_template_folder_and_instance_path(app: Flask) -> None:
    assert Path(app.template_folder or "").is_absolute()
    assert Path(app.instance_path).is_absolute()
