"""Readiness checks: each returns (ok, detail) and never raises, so /readyz can report them all."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from functools import cache

from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from flask import Flask, current_app
from sqlalchemy import text

from lms import config as paths
from lms.extensions import db
from lms.ops.redis_connection import redis_client


@dataclass(frozen=True)
class Check:
    name: str
    ok: bool
    detail: str


# app.extensions key: the checks that features add (certificates: the signing key), so that ops, a layer
# below them, need not import them (docs/architecture.md, layers).
FEATURE_CHECKS = "lms.readiness_checks"


def add_readiness_check(app: Flask, check: Callable[[], Check]) -> None:
    """A feature's own readiness check, reported after the database's and before Redis's."""
    app.extensions.setdefault(FEATURE_CHECKS, []).append(check)


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
    checks += [check() for check in current_app.extensions.get(FEATURE_CHECKS, ())]
    redis = check_redis()
    if redis is not None:
        checks.append(redis)
    return checks
