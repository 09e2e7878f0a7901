"""Readiness checks: each returns (ok, detail) and never raises, so /readyz can report them all."""

from __future__ import annotations

import importlib.util
from dataclasses import dataclass
from functools import cache
from pathlib import Path

from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from flask import current_app
from sqlalchemy import text

from lms import config as paths
from lms.extensions import db
from lms.ops.redis_connection import redis_client


@dataclass(frozen=True)
class Check:
    name: str
    ok: bool
    detail: str


@cache
def migration_heads(directory: str = str(paths.MIGRATIONS_DIR)) -> frozenset[str]:
    """The head revision(s) of the migration scripts shipped with this code (read once)."""
    return frozenset(ScriptDirectory(directory).get_heads())


def check_database() -> Check:
    try:
        db.session.execute(text("SELECT 1"))
        return Check("database", True, db.engine.dialect.name)
    except Exception as error:  # readiness reports any failure, it does not crash
        db.session.rollback()
        return Check("database", False, f"{type(error).__name__}: {error}"[:300])


def check_migrations() -> Check:
    try:
        with db.engine.connect() as connection:
            current = frozenset(MigrationContext.configure(connection).get_current_heads())
        heads = migration_heads()
    except Exception as error:  # readiness reports any failure, it does not crash
        return Check("migrations", False, f"{type(error).__name__}: {error}"[:300])
    detail = f"database at {', '.join(sorted(current)) or 'no revision'}; code at {', '.join(sorted(heads))}"
    return Check("migrations", current == heads, detail)


def check_signing_key(instance_dir: Path) -> Check | None:
    """The certificates' active Ed25519 key must be in instance/ (None: no certificates feature)."""
    if importlib.util.find_spec("lms.certificates.keys") is None:
        return None
    from lms.certificates.keys import ACTIVE_FILE, KEYS_FOLDER

    folder = instance_dir / KEYS_FOLDER
    active = folder / ACTIVE_FILE
    if not active.exists():
        return Check("signing_key", False, f"no active key in {folder} (run `flask lms certificates did`)")
    key_id = active.read_text().strip()
    if not (folder / f"{key_id}.pem").exists():
        return Check("signing_key", False, f"private key {key_id}.pem is missing")
    return Check("signing_key", True, key_id)


def check_redis() -> Check | None:
    """Only when REDIS_URL is configured: rate limits and the job queue depend on it then."""
    try:
        client = redis_client()
        if client is None:
            return None
        client.ping()
        return Check("redis", True, "ping")
    except Exception as error:  # readiness reports any failure, it does not crash
        return Check("redis", False, f"{type(error).__name__}: {error}"[:300])


def readiness() -> list[Check]:
    checks = [check_database(), check_migrations()]
    for optional in (check_signing_key(Path(current_app.instance_path)), check_redis()):
        if optional is not None:
            checks.append(optional)
    return checks
