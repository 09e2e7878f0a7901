"""Bounds on what a request may carry into a query: ids and days.

An id in a URL, a query string or a form goes to the database as a bound parameter. Past the column's
range the driver fails (SQLite cannot bind an integer of 2^63 or more; a PostgreSQL INTEGER ends at
2^31 - 1) and the visitor got a server error; a day such as 9999-12-31 broke the "until the end of that
day" arithmetic (date + 1 day). Everything here refuses such values before they reach a query, so the
visitor gets a 404 (no such row) or a form error (not a day we keep records for).
"""

from __future__ import annotations

from datetime import date, datetime
from typing import Any

from flask import abort
from flask_babel import gettext as _
from werkzeug import routing
from wtforms import DateField, Field, Form, ValidationError

# Every id column is an INTEGER (mapped_column(primary_key=True) on an int): 64 bits in SQLite, but 32 in
# PostgreSQL. The smaller bound holds for both; no academy comes near two billion rows of anything.
DATABASE_INT_MAX = 2**31 - 1
_MAX_DIGITS = len(str(DATABASE_INT_MAX))

# The days a filter or a run date may name. Nothing the academy records is older than 1900 or later than
# 2999, and both ends leave room for the +1 day of an inclusive "until" (date.max + 1 day overflows).
FIRST_YEAR = 1900
LAST_YEAR = 2999


class IntegerConverter(routing.IntegerConverter):
    """The app's ``int`` converter (lms.app_setup puts it in place of werkzeug's for every route, so no
    view can forget it; it keeps werkzeug's class name, which tests use to tell id arguments apart):
    limited to what an id column can hold, so ``/runs/99999999999999999999`` does not match the route
    (404) instead of failing in the database driver. ASCII digits only (``\\d`` also takes other
    scripts' digits), and no more of them than the largest id has."""

    regex = rf"[0-9]{{1,{_MAX_DIGITS}}}"

    def __init__(self, map: routing.Map, *args: Any, **kwargs: Any) -> None:
        kwargs.setdefault("max", DATABASE_INT_MAX)
        super().__init__(map, *args, **kwargs)


def database_id(value: Any) -> int | None:
    """An id typed or sent as text (query string, form, select option), or None when no row can have it:
    not plain ASCII digits ("²".isdigit() is true, int("²") fails), zero, or past the column's range."""
    text = str(value).strip() if value is not None else ""
    if not text.isascii() or not text.isdigit() or len(text) > _MAX_DIGITS:
        return None
    number = int(text)
    return number if 1 <= number <= DATABASE_INT_MAX else None


def day_in_range(day: date) -> bool:
    return FIRST_YEAR <= day.year <= LAST_YEAR


def day_message() -> str:
    return _(
        "Enter a day (YYYY-MM-DD) between the years %(first)s and %(last)s.", first=FIRST_YEAR, last=LAST_YEAR
    )


def parse_day(text: str | None) -> date | None:
    """A day typed as YYYY-MM-DD within FIRST_YEAR..LAST_YEAR, or None (empty, malformed or out of range)."""
    try:
        day = datetime.strptime(text or "", "%Y-%m-%d").date()
    except ValueError:
        return None
    return day if day_in_range(day) else None


def valid_day(form: Form, field: Field) -> None:
    """WTForms validator for a text field that holds a day (parse it with parse_day)."""
    if field.data and parse_day(field.data) is None:
        raise ValidationError(day_message())


class DayField(DateField):
    """A date input (YYYY-MM-DD) that also refuses days outside FIRST_YEAR..LAST_YEAR, with a form error.
    Every date a visitor types (report filters, run dates, audit filters) comes in through it."""

    def process_formdata(self, valuelist: list[Any]) -> None:
        super().process_formdata(valuelist)  # parses YYYY-MM-DD, or raises "Not a valid date value."
        if valuelist and parse_day(" ".join(valuelist)) is None:  # a real day, out of range
            self.data = None
            raise ValueError(day_message())


def refuse_unusable_filters(form: Form) -> None:
    """A download never drops a filter it cannot use (that would export everything): it answers 400 and
    says which filter is wrong. Call after ``form.validate()``."""
    if form.errors:
        problems = [
            f"{form[name].label.text}: {error}"
            for name, errors in form.errors.items()
            if name in form
            for error in errors
        ]
        abort(400, description=" ".join(problems))
