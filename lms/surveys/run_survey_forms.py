"""Forms of the surveys of a run: the admin's settings, and the CSRF guard of a trainee's answers (the
answers themselves are read per item by the page and checked by ``lms.surveys.answer_rules``)."""

from __future__ import annotations

from typing import Any

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import BooleanField, IntegerField, SelectField, SubmitField
from wtforms.validators import NumberRange, Optional

from lms.surveys.services import FOLLOW_UP_MONTHS_RANGE, OPEN_DAYS_RANGE, RunSurveySettings


def _form_id(value: Any) -> int | None:
    """'' (no survey) -> None; an id typed by hand that is not a number -> 0, which no form has."""
    if value in (None, "", "None"):
        return None
    text = str(value)
    return int(text) if text.isdigit() and len(text) < 19 else 0


class RunSurveysForm(FlaskForm):
    end_form_id = SelectField(_l("End-of-course survey"), coerce=_form_id, validate_choice=False)
    required_for_certificate = BooleanField(
        _l("Issue the certificate only after the end-of-course survey is answered"),
        description=_l(
            "Off by default. Trainees see on their dashboard that their certificate waits for it."
        ),
    )
    follow_up_form_id = SelectField(_l("Follow-up survey"), coerce=_form_id, validate_choice=False)
    follow_up_months = IntegerField(
        _l("Months after completion"),
        validators=[Optional(), NumberRange(*FOLLOW_UP_MONTHS_RANGE)],
        description=_l("The follow-up is sent this many months after each person completes the course."),
    )
    open_days = IntegerField(
        _l("Days each survey stays open"),
        default=30,
        validators=[NumberRange(*OPEN_DAYS_RANGE)],
    )
    reminder_days = IntegerField(
        _l("Days after opening for the one reminder"),
        default=7,
        validators=[Optional(), NumberRange(1, OPEN_DAYS_RANGE[1])],
        description=_l("Leave empty to send no reminder."),
    )
    submit = SubmitField(_l("Save the surveys"))

    def settings(self) -> RunSurveySettings:
        return RunSurveySettings(
            end_form_id=self.end_form_id.data,
            follow_up_form_id=self.follow_up_form_id.data,
            follow_up_months=self.follow_up_months.data,
            open_days=self.open_days.data or 0,
            reminder_days=self.reminder_days.data,
            required_for_certificate=bool(self.required_for_certificate.data),
        )


class AnswerForm(FlaskForm):
    """Only the CSRF token: the items are the form's own and differ per survey."""
