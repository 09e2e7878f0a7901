"""Forms of the attendance pages. They check shape only; lms.sessions.attendance checks the rules."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import UTC, datetime

from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from flask_wtf.file import FileField, FileRequired
from wtforms import HiddenField, StringField
from wtforms.validators import DataRequired, Length

from lms.errors import ValidationFailed
from lms.request_input import FIRST_YEAR, LAST_YEAR, database_id
from lms.sessions.attendance import Mark

MAX_MARKS = 500  # more lines than any session has: a larger batch is refused, never a long request


class RollCallForm(FlaskForm):
    """The register without script: the marks are read from ``status-<enrolment id>`` and
    ``minutes-<enrolment id>`` (one per participant line); ``loaded_at`` is when the page was drawn, so a
    line changed after that (a check-in meanwhile) is kept rather than overwritten."""

    loaded_at = HiddenField()


class CheckInForm(FlaskForm):
    """The participant's "Check in" button under a scanned QR code (CSRF only)."""


class TypedCodeForm(FlaskForm):
    code = StringField(
        _l("Code shown on the screen"),
        validators=[DataRequired(), Length(max=20)],
        description=_l("Six letters and digits, as shown under the QR code in the room."),
        render_kw={"autocapitalize": "characters", "spellcheck": "false"},  # a code, not a word
    )


class ScanForm(FlaskForm):
    scan = FileField(
        _l("Scanned signed sheet (PDF, PNG or JPEG, at most 10 MB)"), validators=[FileRequired()]
    )


# --- marks sent by the register (form fields, or JSON from lms/static/js/roll-call.js) --------------------


def _unreadable() -> ValidationFailed:
    return ValidationFailed(_("This attendance mark cannot be read."))


def parse_time(value: object) -> datetime | None:
    """An ISO 8601 time with its offset (``Date.toISOString()``), or None when none was sent."""
    if value in (None, ""):
        return None
    if not isinstance(value, str) or len(value) > 40:
        raise _unreadable()
    try:
        moment = datetime.fromisoformat(value)
    except ValueError:
        raise _unreadable() from None
    if moment.tzinfo is None or not FIRST_YEAR <= moment.year <= LAST_YEAR:
        raise _unreadable()
    return moment.astimezone(UTC)


def parse_minutes(value: object) -> int | None:
    if value in (None, ""):
        return None
    if isinstance(value, bool):
        raise _unreadable()
    if isinstance(value, int):
        return value
    text = str(value).strip()
    if not text.isascii() or not text.isdigit() or len(text) > 5:
        raise ValidationFailed(_("Minutes attended must be a whole number."))
    return int(text)


def parse_json_marks(payload: object) -> list[Mark]:
    """``{"marks": [{"enrolment_id", "status", "minutes", "mode", "taken_at"}, ...]}``."""
    if not isinstance(payload, dict) or not isinstance(payload.get("marks"), list):
        raise _unreadable()
    if len(payload["marks"]) > MAX_MARKS:
        raise _unreadable()
    marks = []
    for item in payload["marks"]:
        if not isinstance(item, dict):
            raise _unreadable()
        enrolment_id = database_id(item.get("enrolment_id"))
        status, mode = item.get("status"), item.get("mode")
        if enrolment_id is None or not isinstance(status, str) or not isinstance(mode, str | None):
            raise _unreadable()
        marks.append(
            Mark(
                enrolment_id,
                status,
                parse_minutes(item.get("minutes")),
                mode,
                parse_time(item.get("taken_at")),
            )
        )
    return marks


def parse_form_marks(
    form: Mapping[str, str], enrolment_ids: list[int], taken_at: datetime | None
) -> list[Mark]:
    """The lines of the plain form that carry a status; the others are left as they are."""
    marks = []
    for enrolment_id in enrolment_ids:
        status = form.get(f"status-{enrolment_id}", "")
        if status:
            minutes = parse_minutes(form.get(f"minutes-{enrolment_id}"))
            marks.append(Mark(enrolment_id, status, minutes, None, taken_at))
    return marks
