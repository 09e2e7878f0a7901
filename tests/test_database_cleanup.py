"""The clean-up after every test (tests/conftest.py `_clean_database`): on PostgreSQL it truncates only the
tables a test wrote to, and those must come back as if all were truncated: empty, ids from 1, fresh files
(rows in insertion order). A table whose rows were rolled back or deleted again counts as written."""

from __future__ import annotations

import pytest
from flask import Flask
from sqlalchemy import Connection, delete, insert, select, text

from lms.extensions import db
from lms.orgs.models import Authority, Country
from tests.conftest import _truncate_written_tables

COUNTRY = {"code": "XX", "name": "Testland", "names": {}, "groups": []}


def _authority(code: str) -> dict[str, str]:
    return {"code": code, "name": code, "kind": "other", "country_code": "XX"}


def _file_of(connection: Connection, table: str) -> int:
    return connection.execute(
        text("SELECT relfilenode FROM pg_class WHERE relname = :t"), {"t": table}
    ).scalar_one()


def _authorities() -> list[tuple[int, str]]:
    rows = [(a.id, a.code) for a in db.session.scalars(select(Authority).order_by(Authority.id))]
    db.session.rollback()  # its read lock would keep the next TRUNCATE waiting
    return rows


def test_written_tables_are_emptied_and_count_from_one_again(app: Flask) -> None:
    if db.engine.dialect.name != "postgresql":
        pytest.skip("the size check is PostgreSQL's (on SQLite every table's rows are deleted)")
    names = [table.name for table in db.metadata.sorted_tables]
    with db.engine.begin() as connection:
        untouched = _file_of(connection, "course")
        connection.execute(insert(Country).values(**COUNTRY))
        connection.execute(insert(Authority), [_authority("A"), _authority("B")])
        connection.execute(delete(Authority))  # empty again, but its file and its ids were used
        written = _file_of(connection, "authority")
        _truncate_written_tables(connection, names)
        assert _file_of(connection, "course") == untouched  # nothing written: left as it was
        assert _file_of(connection, "authority") != written
        connection.execute(insert(Country).values(**COUNTRY))
        connection.execute(insert(Authority), [_authority("C"), _authority("D")])
    assert _authorities() == [(1, "C"), (2, "D")]

    with db.engine.begin() as connection:
        _truncate_written_tables(connection, names)
    connection = db.engine.connect()
    rolled_back = connection.begin()
    connection.execute(insert(Country).values(**COUNTRY))
    connection.execute(insert(Authority).values(**_authority("E")))
    rolled_back.rollback()  # nothing stays, but the ids moved on and the file holds dead rows
    connection.close()
    with db.engine.begin() as connection:
        _truncate_written_tables(connection, names)
        connection.execute(insert(Country).values(**COUNTRY))
        connection.execute(insert(Authority).values(**_authority("F")))
    assert _authorities() == [(1, "F")]
