"""One Alembic head, and `upgrade head` on an empty database gives exactly the models' schema."""

from __future__ import annotations

import warnings
from pathlib import Path

from alembic.autogenerate import compare_metadata
from alembic.config import Config
from alembic.migration import MigrationContext
from alembic.script import ScriptDirectory
from flask import Flask
from flask_migrate import downgrade, upgrade
from sqlalchemy import Connection, create_engine, inspect, text

from lms import create_app
from lms.config import MIGRATIONS_DIR
from lms.extensions import db


def test_one_head_and_date_prefixed_files() -> None:
    config = Config(str(MIGRATIONS_DIR / "alembic.ini"))
    config.set_main_option("script_location", str(MIGRATIONS_DIR))
    script = ScriptDirectory.from_config(config)
    assert len(script.get_heads()) == 1
    for path in Path(MIGRATIONS_DIR / "versions").glob("*.py"):
        assert path.name[:8].isdigit(), f"{path.name} must start with its date (YYYYMMDD)"


def test_upgrade_head_matches_models_and_downgrades(app: Flask, tmp_path: Path) -> None:
    if app.config["SQLALCHEMY_DATABASE_URI"].startswith("postgresql"):
        url = app.config["SQLALCHEMY_DATABASE_URI"]
        # The session's schema lives in the same database: migrate into a schema of its own.
        engine = create_engine(url)
        with engine.begin() as connection:
            connection.exec_driver_sql("DROP SCHEMA IF EXISTS migration_check CASCADE")
            connection.exec_driver_sql("CREATE SCHEMA migration_check")
        engine.dispose()
        url = url + ("&" if "?" in url else "?") + "options=-csearch_path%3Dmigration_check"
    else:
        url = f"sqlite:///{tmp_path / 'migrated.sqlite'}"
    fresh = create_app(
        {"TESTING": True, "INSTANCE_PATH": str(tmp_path), "SECRET_KEY": "x", "SQLALCHEMY_DATABASE_URI": url}
    )
    with fresh.app_context():
        upgrade(directory=str(MIGRATIONS_DIR))
        with db.engine.connect() as connection:
            context = MigrationContext.configure(
                connection, opts={"compare_type": True, "include_schemas": False}
            )
            with warnings.catch_warnings():
                # SQLite's reflection skips indexes on expressions (ix_user_email_lower), with a warning;
                # the index is checked by name below instead.
                warnings.filterwarnings(
                    "ignore", message="Skipped unsupported reflection of expression-based"
                )
                warnings.filterwarnings(
                    "ignore", message="autogenerate skipping metadata-specified expression"
                )
                differences = compare_metadata(context, db.metadata)
            assert differences == []
            assert "ix_user_email_lower" in _index_names(connection)
        downgrade(directory=str(MIGRATIONS_DIR), revision="base")
        with db.engine.connect() as connection:
            assert set(inspect(connection).get_table_names()) <= {"alembic_version"}
        db.engine.dispose()


def _index_names(connection: Connection) -> set[str]:
    if connection.dialect.name == "sqlite":
        query = "SELECT name FROM sqlite_master WHERE type = 'index'"
    else:
        query = "SELECT indexname FROM pg_indexes WHERE schemaname = current_schema()"
    return set(connection.execute(text(query)).scalars())
