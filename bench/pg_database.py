"""`python -m bench.pg_database <server URL> <name>`: create the bench's PostgreSQL database when it is
missing (`make bench BENCH_DB=postgresql`). Only names made of letters, digits and "_" (bench_l, bench_xl)."""

from __future__ import annotations

import re
import sys

from sqlalchemy import create_engine, text


def ensure_database(server_url: str, name: str) -> bool:
    """True when the database was created."""
    if not re.fullmatch(r"[a-z][a-z0-9_]*", name) or name == "test" or name.startswith("test_"):
        raise SystemExit(f"refusing database name {name!r}: the bench uses bench_<size>")
    engine = create_engine(f"{server_url}/postgres", isolation_level="AUTOCOMMIT")
    with engine.connect() as connection:
        if connection.scalar(text("SELECT 1 FROM pg_database WHERE datname = :name"), {"name": name}):
            return False
        connection.exec_driver_sql(f'CREATE DATABASE "{name}"')  # checked above: a plain identifier
    return True


if __name__ == "__main__":
    if ensure_database(sys.argv[1], sys.argv[2]):
        print(f"created database {sys.argv[2]}")
