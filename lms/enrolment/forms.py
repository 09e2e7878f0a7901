"""Enrolment forms: shape and format only; the services check the rules."""

from __future__ import annotations

import re

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from flask_wtf.file import FileAllowed, FileField, FileRequired
from wtforms import (
    BooleanField,
    DateField,
    EmailField,
    IntegerField,
    SelectChoice,
    SelectField,
    SelectMultipleField,
    StringField,
    SubmitField,
    TextAreaField,
    ValidationError,
)
from wtforms.validators import AnyOf, DataRequired, Email, Length, NumberRange, Optional

from lms.auth.models import Sex
from lms.enrolment.csv_import import BIRTH_YEAR_BANDS
from lms.enrolment.models import CertificateIssuance, EnrolmentMethod, Modality
from lms.request_input import DayField

QUOTA_LINE = re.compile(r"^\s*([a-z0-9-]+)\s*[:=]\s*(\d+)\s*$", re.IGNORECASE)


def parse_quota_lines(text: str | None) -> dict[str, int]:
    """'ua-sbgs: 4' per line -> {'ua-sbgs': 4}; the form has already checked each line's shape."""
    quotas: dict[str, int] = {}
    for line in (text or "").splitlines():
        match = QUOTA_LINE.match(line)
        if match:
            quotas[match.group(1).lower()] = int(match.group(2))
    return quotas


def modality_choices() -> list[SelectChoice]:
    return [
        SelectChoice(Modality.SELF_PACED.value, _l("Online, self-paced")),
        SelectChoice(Modality.ONLINE_SCHEDULED.value, _l("Online, with dates")),
        SelectChoice(Modality.IN_PERSON.value, _l("In person")),
        SelectChoice(Modality.BLENDED.value, _l("Blended")),
    ]


def method_choices() -> list[SelectChoice]:
    return [
        SelectChoice(EnrolmentMethod.OPEN.value, _l("Open: trainees enrol themselves at once")),
        SelectChoice(EnrolmentMethod.REQUEST.value, _l("Request: trainees ask, an administrator approves")),
        SelectChoice(EnrolmentMethod.NOMINATION.value, _l("Nomination only: focal points nominate")),
    ]


def issuance_choices() -> list[SelectChoice]:
    return [
        SelectChoice(CertificateIssuance.AUTOMATIC.value, _l("Automatically, on completion")),
        SelectChoice(CertificateIssuance.APPROVAL.value, _l("On an administrator's approval")),
    ]


# lms.certificates.services.set_issuance_rule refuses with the same message.
ISSUANCE_REFUSED = _l("Choose how certificates are issued: automatically on completion or on approval.")


def sex_choices() -> list[SelectChoice]:
    return [
        SelectChoice("", _l("Prefer not to say")),
        SelectChoice(Sex.FEMALE.value, _l("Female")),
        SelectChoice(Sex.MALE.value, _l("Male")),
    ]


def band_choices() -> list[SelectChoice]:
    return [SelectChoice("", _l("Not given")), *(SelectChoice(band, band) for band in BIRTH_YEAR_BANDS)]


class RunForm(FlaskForm):
    course = SelectField(_l("Course"), coerce=int, validators=[DataRequired()])
    title = StringField(_l("Title"), validators=[DataRequired(), Length(max=200)])
    modality = SelectField(_l("Modality"), choices=modality_choices(), validators=[DataRequired()])
    language = SelectField(_l("Language"), validators=[DataRequired()])
    starts_on = DayField(_l("Starts on"), validators=[Optional()])
    ends_on = DayField(_l("Ends on"), validators=[Optional()])
    enrolment_opens_on = DayField(_l("Enrolment opens on"), validators=[Optional()])
    enrolment_closes_on = DayField(_l("Enrolment closes on"), validators=[Optional()])
    seats_total = IntegerField(
        _l("Total seats"),
        description=_l("Leave empty for no limit."),
        validators=[Optional(), NumberRange(min=0, max=100000)],
    )
    enrolment_method = SelectField(
        _l("Enrolment method"), choices=method_choices(), validators=[DataRequired()]
    )
    # A value outside the list is refused with a message that says what to choose (validate_choice
    # would only say "Not a valid choice"); the service checks it again for other callers.
    certificate_issuance = SelectField(
        _l("Issue certificates"),
        choices=issuance_choices(),
        default=CertificateIssuance.AUTOMATIC.value,
        validate_choice=False,
        description=_l(
            "Automatically: each trainee's certificate is issued the moment they complete the run. "
            "On approval: people who complete wait under Certificates › Completed, not issued, "
            "until an administrator issues theirs."
        ),
        validators=[AnyOf(list(CertificateIssuance), message=ISSUANCE_REFUSED)],
    )
    completion_requires_lessons = BooleanField(
        _l("Completion requires the course's lessons"),
        default=True,
        description=_l("Turn off for a workshop whose only requirement is attending (and the assessment)."),
    )
    min_attendance_percent = IntegerField(
        _l("Minimum attendance of session time (%)"),
        description=_l("From 0 to 100. Leave empty when attendance is not required for completion."),
        validators=[Optional(), NumberRange(min=0, max=100)],
    )
    is_international = BooleanField(_l("International event (visa invitation letters)"), default=False)
    personal_data_retention_days = IntegerField(
        _l("Personal data retention (days)"),
        default=30,
        description=_l("Passport data and needs are erased this many days after the run ends."),
        validators=[Optional(), NumberRange(min=0, max=3650)],
    )
    open_to_all = BooleanField(_l("Open to every country and authority"), default=True)
    eligible_countries = SelectMultipleField(_l("Eligible countries"), validators=[Optional()])
    eligible_authorities = SelectMultipleField(
        _l("Eligible authorities"), coerce=int, validators=[Optional()]
    )
    quotas = TextAreaField(
        _l("Seats per authority (quotas)"),
        description=_l("One line per authority: its code, a colon and the number of seats, e.g. ua-sbgs: 4."),
        validators=[Optional(), Length(max=5000)],
    )

    def validate_quotas(self, field: TextAreaField) -> None:
        for number, line in enumerate((field.data or "").splitlines(), start=1):
            if line.strip() and not QUOTA_LINE.match(line):
                raise ValidationError(_l("Line %(number)s is not “code: seats”.", number=number))

    def validate_ends_on(self, field: DateField) -> None:
        if field.data and self.starts_on.data and field.data < self.starts_on.data:
            raise ValidationError(_l("The run cannot end before it starts."))

    def validate_enrolment_closes_on(self, field: DateField) -> None:
        if field.data and self.enrolment_opens_on.data and field.data < self.enrolment_opens_on.data:
            raise ValidationError(_l("Enrolment cannot close before it opens."))


class RequestForm(FlaskForm):
    justification = TextAreaField(
        _l("Why do you want to take part? (optional)"), validators=[Optional(), Length(max=2000)]
    )


class WithdrawForm(FlaskForm):
    reason = StringField(_l("Reason (optional)"), validators=[Optional(), Length(max=500)])


class NominateForm(FlaskForm):
    user_ids = SelectMultipleField(_l("Staff to nominate"), coerce=int, validators=[DataRequired()])
    justification = TextAreaField(
        _l("Justification"),
        description=_l("Why these colleagues need this training."),
        validators=[DataRequired(), Length(max=2000)],
    )


class NewPersonForm(FlaskForm):
    given_name = StringField(_l("Given name"), validators=[DataRequired(), Length(max=100)])
    family_name = StringField(_l("Family name"), validators=[DataRequired(), Length(max=100)])
    patronymic = StringField(_l("Patronymic (optional)"), validators=[Optional(), Length(max=100)])
    native_name = StringField(_l("Name in own script (optional)"), validators=[Optional(), Length(max=200)])
    email = EmailField(
        _l("Email"), validators=[DataRequired(), Email(check_deliverability=False), Length(max=254)]
    )
    position = StringField(_l("Position or rank"), validators=[Optional(), Length(max=120)])
    sex = SelectField(_l("Sex (for anonymous statistics)"), choices=sex_choices(), validators=[Optional()])
    birth_year_band = SelectField(_l("Year of birth"), choices=band_choices(), validators=[Optional()])
    authority = SelectField(_l("Authority"), coerce=int, validators=[DataRequired()])
    justification = TextAreaField(_l("Justification"), validators=[DataRequired(), Length(max=2000)])


class DecisionForm(FlaskForm):
    enrolment_ids = SelectMultipleField(_l("Selected"), coerce=int, validators=[DataRequired()])
    reason = StringField(_l("Reason"), validators=[Optional(), Length(max=500)])
    approve = SubmitField(_l("Approve selected"))
    reject = SubmitField(_l("Reject selected"))
    withdraw = SubmitField(_l("Withdraw selected"))


class ImportForm(FlaskForm):
    file = FileField(
        _l("CSV file"),
        description=_l("UTF-8, with a header row; comma or semicolon separated."),
        validators=[FileRequired(), FileAllowed(["csv", "txt"], _l("Choose a .csv file."))],
    )
    mode = SelectField(
        _l("What to do"),
        choices=[
            SelectChoice("nominate", _l("Nominate (an administrator decides)")),
            SelectChoice("enrol", _l("Enrol directly (administrators only)")),
        ],
        validators=[DataRequired()],
    )
    justification = TextAreaField(_l("Justification"), validators=[DataRequired(), Length(max=2000)])
    check = SubmitField(_l("Check the file (dry run)"))
    run_import = SubmitField(_l("Import"))
