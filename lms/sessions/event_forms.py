"""The form of an international event's participant details: shape only; lms.sessions.participants checks
the rules (passport number format, nationality, date of birth in the past)."""

from __future__ import annotations

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import SelectField, StringField, TextAreaField
from wtforms.validators import DataRequired, Length, Optional

from lms.request_input import DayField


class ParticipantDetailsForm(FlaskForm):
    passport_name = StringField(
        _l("Name as in the passport"),
        validators=[DataRequired(), Length(max=200)],
        description=_l("Exactly as printed on the passport's data page, in Latin letters."),
    )
    passport_number = StringField(_l("Passport number"), validators=[DataRequired(), Length(max=40)])
    nationality = SelectField(_l("Nationality"), validators=[DataRequired()], choices=[])
    date_of_birth = DayField(_l("Date of birth"), validators=[Optional()])
    dietary_needs = TextAreaField(_l("Dietary needs"), validators=[Optional(), Length(max=2000)])
    accessibility_needs = TextAreaField(_l("Accessibility needs"), validators=[Optional(), Length(max=2000)])
