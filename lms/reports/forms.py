"""Report filters: GET forms (they change nothing, so no CSRF), shape checks only.

Sort keys and statuses are allow-listed here, so nothing a visitor types reaches ORDER BY; the choices
that come from the database (countries, authorities, courses, runs) are filled in by the views.
"""

from __future__ import annotations

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import BooleanField, IntegerField, SelectChoice, SelectField
from wtforms.validators import NumberRange, Optional

from lms.enrolment.models import EnrolmentStatus, Modality
from lms.reports.indicators import DEFAULT_SUPPRESSION_THRESHOLD
from lms.request_input import DayField


def sort_choices(with_course: bool) -> list[SelectChoice]:
    choices = [
        SelectChoice("name", _l("Name")),
        SelectChoice("progress", _l("Progress")),
        SelectChoice("last_activity", _l("Last activity")),
        SelectChoice("completed", _l("Completion date")),
        SelectChoice("authority", _l("Authority")),
        SelectChoice("status", _l("Status")),
    ]
    if with_course:
        choices.append(SelectChoice("course", _l("Course and run")))
    return choices


def status_choices() -> list[SelectChoice]:
    return [
        SelectChoice("", _l("Any status")),
        SelectChoice(EnrolmentStatus.ENROLLED.value, _l("Enrolled")),
        SelectChoice(EnrolmentStatus.COMPLETED.value, _l("Completed")),
        SelectChoice(EnrolmentStatus.WITHDRAWN.value, _l("Withdrawn")),
        SelectChoice(EnrolmentStatus.NOMINATED.value, _l("Nominated")),
        SelectChoice(EnrolmentStatus.REQUESTED.value, _l("Requested")),
        SelectChoice(EnrolmentStatus.WAITING.value, _l("Waiting")),
        SelectChoice(EnrolmentStatus.REJECTED.value, _l("Rejected")),
    ]


def modality_choices() -> list[SelectChoice]:
    return [
        SelectChoice("", _l("Any modality")),
        SelectChoice(Modality.SELF_PACED.value, _l("Online, self-paced")),
        SelectChoice(Modality.ONLINE_SCHEDULED.value, _l("Online, with dates")),
        SelectChoice(Modality.IN_PERSON.value, _l("In person")),
        SelectChoice(Modality.BLENDED.value, _l("Blended")),
    ]


class ProgressFilterForm(FlaskForm):
    class Meta:
        csrf = False  # a GET filter changes nothing

    authority = SelectField(_l("Authority"), validators=[Optional()])
    country = SelectField(_l("Country"), validators=[Optional()])
    status = SelectField(_l("Status"), choices=status_choices(), validators=[Optional()])
    view = SelectField(
        _l("Show"),
        choices=[
            SelectChoice("all", _l("Everyone")),
            SelectChoice("stuck", _l("Not started or stuck")),
        ],
        default="all",
        validators=[Optional()],
    )
    days = IntegerField(
        _l("No activity for (days)"),
        default=14,
        validators=[Optional(), NumberRange(min=1, max=3650)],
        description=_l("Used by “Not started or stuck”: enrolled, and nothing done for this many days."),
    )
    sort = SelectField(_l("Sort by"), choices=sort_choices(True), default="name", validators=[Optional()])
    order = SelectField(
        _l("Order"),
        choices=[SelectChoice("asc", _l("Ascending")), SelectChoice("desc", _l("Descending"))],
        default="asc",
        validators=[Optional()],
    )


class IndicatorFilterForm(FlaskForm):
    class Meta:
        csrf = False

    date_from = DayField(_l("Enrolled from"), validators=[Optional()])
    date_to = DayField(_l("Enrolled until"), validators=[Optional()])
    course = SelectField(_l("Course"), validators=[Optional()])
    run = SelectField(_l("Course run"), validators=[Optional()])
    country = SelectField(_l("Country"), validators=[Optional()])
    authority = SelectField(_l("Authority"), validators=[Optional()])
    modality = SelectField(_l("Modality"), choices=modality_choices(), validators=[Optional()])
    # The unit of the trainings' and surveys' breakdowns over time (their own dates, not the enrolment's).
    period = SelectField(
        _l("Period"),
        choices=[
            SelectChoice("quarter", _l("Quarter")),
            SelectChoice("month", _l("Month")),
            SelectChoice("year", _l("Year")),
        ],
        default="quarter",
        validators=[Optional()],
    )
    suppress = BooleanField(_l("Suppress small cells (for publication)"))
    threshold = IntegerField(
        _l("Smallest number of persons shown"),
        default=DEFAULT_SUPPRESSION_THRESHOLD,
        validators=[Optional(), NumberRange(min=2, max=100)],
    )
