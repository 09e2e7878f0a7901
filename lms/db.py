"""Declarative base, naming convention and a timezone-aware UTC datetime type."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from datetime import UTC, datetime
from typing import Any, TypeVar

from sqlalchemy import DateTime, MetaData, TypeDecorator, inspect
from sqlalchemy.engine import Dialect
from sqlalchemy.orm import DeclarativeBase

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


def begin_writing(*fresh: object) -> None:
    """End the request's reading transaction; its next statement starts a writing one (BEGIN IMMEDIATE).

    ``fresh`` are the rows the write depends on: they are expired, so they are read again under the
    write lock. Everything else loaded so far (the signed-in user, reference rows) stays as read, so the
    writing transaction does not spend its lock re-loading them.
    """
    from flask import g
    from flask_babel import get_locale

    from lms.extensions import db  # lms.extensions imports this module

    get_locale()  # chosen from the user now, so a message translated later needs no query
    session = db.session()
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
