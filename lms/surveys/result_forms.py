"""The GET filters of the survey results pages (they change nothing: no CSRF). Shape checks only:
kind, period and language are allow-listed here, so nothing a visitor types reaches a query unchecked."""

from __future__ import annotations

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import SelectChoice, SelectField
from wtforms.validators import Optional

from lms.surveys.models import SurveyKind


def kind_choices() -> list[SelectChoice]:
    return [
        SelectChoice(SurveyKind.END_OF_COURSE.value, _l("End-of-course survey")),
        SelectChoice(SurveyKind.FOLLOW_UP.value, _l("Follow-up survey")),
    ]


class ResultFilterForm(FlaskForm):
    class Meta:
        csrf = False  # a GET filter changes nothing

    kind = SelectField(_l("Survey"), choices=kind_choices(), default=SurveyKind.END_OF_COURSE.value,
                       validators=[Optional()])  # fmt: skip
    language = SelectField(_l("Language of the answers"), validators=[Optional()])
    period = SelectField(
        _l("Period"),
        choices=[SelectChoice("quarter", _l("Quarter")), SelectChoice("month", _l("Month"))],
        default="quarter",
        validators=[Optional()],
    )
