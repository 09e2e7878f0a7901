from __future__ import annotations

from zoneinfo import available_timezones

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import PasswordField, SelectChoice, SelectField, StringField
from wtforms.validators import DataRequired, EqualTo, Length, Optional

from lms.i18n import LANGUAGE_NAMES

TIMEZONES = sorted(available_timezones() - {"localtime", "Factory"})


def language_choices() -> list[SelectChoice]:
    return [
        SelectChoice("", _l("The browser's language")),
        *(SelectChoice(c, n) for c, n in LANGUAGE_NAMES.items()),
    ]


def timezone_choices() -> list[SelectChoice]:
    return [SelectChoice("", _l("UTC (default)")), *(SelectChoice(name, name) for name in TIMEZONES)]


class ProfileForm(FlaskForm):
    given_name = StringField(_l("Given name (Latin letters)"), validators=[DataRequired(), Length(max=100)])
    family_name = StringField(_l("Family name (Latin letters)"), validators=[DataRequired(), Length(max=100)])
    patronymic = StringField(_l("Patronymic (optional)"), validators=[Optional(), Length(max=100)])
    native_name = StringField(
        _l("Your name in your own script (optional)"),
        description=_l("For example Олена Коваль or ليلى حداد, as it should appear on certificates."),
        validators=[Optional(), Length(max=200)],
    )
    preferred_language = SelectField(
        _l("Preferred language"), choices=language_choices(), validators=[Optional()]
    )
    timezone = SelectField(_l("Time zone"), choices=timezone_choices(), validators=[Optional()])
    position = StringField(_l("Position or rank (optional)"), validators=[Optional(), Length(max=120)])


class PasswordChangeForm(FlaskForm):
    current_password = PasswordField(_l("Current password"), validators=[DataRequired(), Length(max=200)])
    new_password = PasswordField(
        _l("New password"),
        description=_l("At least 10 characters."),
        validators=[DataRequired(), Length(min=10, max=200)],
    )
    confirm_password = PasswordField(
        _l("Repeat the new password"),
        validators=[DataRequired(), EqualTo("new_password", message=_l("The passwords do not match."))],
    )
