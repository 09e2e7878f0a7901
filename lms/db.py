"""Declarative base, naming convention and a timezone-aware UTC datetime type."""

from __future__ import annotations

from collections.abc import Callable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from contextvars import ContextVar
from datetime import UTC, datetime
from functools import cache
from typing import Any, TypeVar

from flask import current_app, g
from flask_babel import get_locale
from sqlalchemy import DateTime, Insert, MetaData, Table, TypeDecorator, insert, inspect
from sqlalchemy.dialects.postgresql import insert as postgresql_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.engine import Dialect
from sqlalchemy.orm import DeclarativeBase, Session, scoped_session

NAMING_CONVENTION = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_N_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}


def utcnow() -> datetime:
    return datetime.now(UTC)


class UTCDateTime(TypeDecorator[datetime]):
    """Stores aware datetimes as UTC; SQLite drops the zone, so it is put back on the way out."""

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError("naive datetime given; use lms.db.utcnow()")
        return value.astimezone(UTC)

    def process_result_value(self, value: Any, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            return value.replace(tzinfo=UTC)
        return value.astimezone(UTC)


class Base(DeclarativeBase):
    metadata = MetaData(naming_convention=NAMING_CONVENTION)


_write_intent: ContextVar[bool] = ContextVar("write_intent", default=False)


def write_intended() -> bool:
    return _write_intent.get()


@contextmanager
def writing_transactions() -> Iterator[None]:
    """Outside a web request (CLI, jobs, tests), transactions opened inside this block start as
    writers (BEGIN IMMEDIATE on SQLite), for read-then-write work that runs beside other writers."""
    token = _write_intent.set(True)
    try:
        yield
    finally:
        _write_intent.reset(token)


@contextmanager
def reading_transactions() -> Iterator[None]:
    """The opposite, inside a job or CLI command that runs in ``writing_transactions()``: transactions
    opened inside this block start as readers (a deferred BEGIN on SQLite, which never blocks a
    writer), for long reads before a short write (lms.enrolment.bulk_import)."""
    token = _write_intent.set(False)
    try:
        yield
    finally:
        _write_intent.reset(token)


READS_FIRST_ATTRIBUTE = "lms_reads_first"
F = TypeVar("F", bound=Callable[..., Any])


def reads_before_writing(view: F) -> F:
    """Mark a POST view that reads in a shared transaction and takes the write lock only for its write.

    A writing request normally starts ``BEGIN IMMEDIATE`` at its first statement (lms.app_setup), so on
    SQLite it holds the database's single write lock while it loads the user, the course and the form:
    two workers then take turns. A view marked with this does those reads in a deferred transaction and
    calls ``begin_writing()`` before it changes anything; the rows it writes from are re-read (expired by
    the commit) inside the writing transaction, so read-then-write still cannot lose an update.
    """
    setattr(view, READS_FIRST_ATTRIBUTE, True)
    return view


def _session() -> scoped_session[Session]:
    """The application's session, found through the app (Flask-SQLAlchemy registers itself there), not by
    importing lms.extensions: that module builds its SQLAlchemy object on this module's Base, so it sits
    above this one (docs/architecture.md, layers)."""
    session: scoped_session[Session] = current_app.extensions["sqlalchemy"].session
    return session


def begin_writing(*fresh: object) -> None:
    """End the request's reading transaction; its next statement starts a writing one (BEGIN IMMEDIATE).

    ``fresh`` are the rows the write depends on: they are expired, so they are read again under the
    write lock. Everything else loaded so far (the signed-in user, reference rows) stays as read, so the
    writing transaction does not spend its lock re-loading them.
    """
    get_locale()  # chosen from the user now, so a message translated later needs no query
    session = _session()()
    session.expire_on_commit = False
    try:
        session.commit()
    finally:
        session.expire_on_commit = True
    for instance in fresh:  # its columns; relationships (a run, a course) keep what was loaded
        mapper = inspect(instance, raiseerr=True).mapper
        keys = {column.key for column in mapper.primary_key}  # an identity never changes: kept
        session.expire(instance, [a.key for a in mapper.column_attrs if a.key not in keys])
    g.write_intent = True


@cache
def insert_unless_present(table: Table, unique: tuple[str, ...], dialect: str) -> Insert:
    """``INSERT ... ON CONFLICT (unique) DO NOTHING RETURNING id`` for SQLite or PostgreSQL, built once.

    A repeat (two clicks, a job run twice) inserts nothing and returns no row, with no savepoint: the
    lesson completion and the survey invitation rely on it."""
    build = postgresql_insert if dialect == "postgresql" else sqlite_insert
    return build(table).on_conflict_do_nothing(index_elements=list(unique)).returning(table.c.id)


class PreparedInsert:
    """A multi-row INSERT whose values are converted for the database driver when it is made, so that
    running it costs the driver's own bulk path alone: a bulk write prepares its rows before it takes
    the write lock and holds the lock only to send them (lms.enrolment.bulk_import). PostgreSQL gets
    them by COPY, SQLite by executemany; neither goes through SQLAlchemy's per-row work again.

    ``late`` columns get their values only when it runs (ids or hashes known under the lock); they
    must need no conversion (integers, plain text). Every row has the same keys; columns left out get
    their Python-side default (a callable one is called once, for all rows).
    """

    def __init__(self, table: Table, rows: Sequence[Mapping[str, Any]], *, late: Sequence[str] = ()) -> None:
        self.count = len(rows)
        self.sql = ""
        self._copy = False
        self._late_positions: list[int] = []
        self._rows: list[list[Any]] = []  # per row: the driver's values, in the statement's order
        if not rows:
            return
        dialect = _session().get_bind().dialect
        given = [*rows[0], *late]
        defaults = {
            column.key: _default_value(column.default)
            for column in table.columns
            if column.key not in given and column.default is not None and not column.default.is_sequence
        }
        self._copy = dialect.name == "postgresql"
        if self._copy:
            order = [*rows[0], *defaults, *late]
            quote = dialect.identifier_preparer.quote
            columns = ", ".join(quote(table.c[key].name) for key in order)
            self.sql = f"COPY {dialect.identifier_preparer.format_table(table)} ({columns}) FROM STDIN"
        else:
            compiled = insert(table).compile(dialect=dialect, column_keys=[*given, *defaults])
            if not compiled.positional or set(compiled.params) - {*given, *defaults}:
                raise ValueError(f"cannot prepare {compiled.string}")
            order = list(compiled.positiontup or [])
            self.sql = compiled.string
        processors = {
            key: table.c[key].type.dialect_impl(dialect).bind_processor(dialect)
            for key in [*rows[0], *defaults]
        }
        fixed = {
            key: convert(value) if (convert := processors[key]) else value for key, value in defaults.items()
        }
        self._late_positions = [order.index(name) for name in late]
        last: dict[str, tuple[Any, Any]] = {}  # per column: the previous value and its conversion
        for row in rows:
            values = dict(fixed)
            for key, value in row.items():
                convert = processors[key]
                if convert is None:
                    values[key] = value
                    continue
                seen = last.get(key)
                if seen is None or seen[0] is not value:  # a bulk write repeats one time in every row
                    seen = last[key] = (value, convert(value))
                values[key] = seen[1]
            self._rows.append([values.get(name) for name in order])

    def execute(self, late_values: Sequence[Sequence[Any]] | None = None) -> None:
        """Send the rows on the session's connection, in its transaction."""
        if not self.count:
            return
        if self._late_positions:
            if late_values is None or len(late_values) != self.count:
                raise ValueError("one set of late values per row")
            for row, values in zip(self._rows, late_values, strict=True):
                for position, value in zip(self._late_positions, values, strict=True):
                    row[position] = value
        cursor = _session().connection().connection.cursor()
        try:
            if self._copy:
                with cursor.copy(self.sql) as copy:
                    for row in self._rows:
                        copy.write_row(row)
            else:
                cursor.executemany(self.sql, self._rows)
        finally:
            cursor.close()


def _default_value(default: Any) -> Any:
    """A column's Python-side default (a ColumnDefault: a value, or a callable SQLAlchemy wrapped to
    take an execution context, which these defaults ignore)."""
    return default.arg(None) if default.is_callable else default.arg
