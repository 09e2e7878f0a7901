from __future__ import annotations

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import (
    EmailField,
    IntegerField,
    PasswordField,
    SelectChoice,
    SelectField,
    SelectMultipleField,
    StringField,
    TextAreaField,
)
from wtforms.validators import DataRequired, Email, Length, Optional

from lms.auth.account_forms import language_choices, timezone_choices
from lms.auth.models import Role, Sex
from lms.request_input import valid_day


def role_choices(with_focal_point: bool = True) -> list[SelectChoice]:
    choices = [
        SelectChoice(Role.TRAINEE.value, _l("Trainee")),
        SelectChoice(Role.TRAINER.value, _l("Trainer")),
        SelectChoice(Role.ADMIN.value, _l("Admin")),
    ]
    if with_focal_point:
        choices.insert(2, SelectChoice(Role.FOCAL_POINT.value, _l("Focal point (of an authority)")))
    return choices


class PeopleFilterForm(FlaskForm):
    class Meta:
        csrf = False  # a GET search form changes nothing

    q = StringField(_l("Name or email"), validators=[Optional(), Length(max=100)])
    country = SelectField(_l("Country"), validators=[Optional()])
    authority = SelectField(_l("Authority"), validators=[Optional()])
    role = SelectField(
        _l("Role"), choices=[SelectChoice("", _l("Any role")), *role_choices()], validators=[Optional()]
    )
    status = SelectField(
        _l("Status"),
        choices=[
            SelectChoice("", _l("Any status")),
            SelectChoice("active", _l("Active")),
            SelectChoice("deactivated", _l("Deactivated")),
            SelectChoice("unconfirmed", _l("Email not confirmed")),
        ],
        validators=[Optional()],
    )


class PersonForm(FlaskForm):
    given_name = StringField(_l("Given name (Latin letters)"), validators=[DataRequired(), Length(max=100)])
    family_name = StringField(_l("Family name (Latin letters)"), validators=[DataRequired(), Length(max=100)])
    patronymic = StringField(_l("Patronymic"), validators=[Optional(), Length(max=100)])
    native_name = StringField(_l("Name in own script"), validators=[Optional(), Length(max=200)])
    email = EmailField(
        _l("Email"), validators=[DataRequired(), Email(check_deliverability=False), Length(max=254)]
    )
    country_code = SelectField(_l("Country"), validators=[Optional()])
    authority_id = SelectField(_l("Authority"), validators=[Optional()])
    sex = SelectField(
        _l("Sex"),
        choices=[
            SelectChoice("", _l("Not given")),
            SelectChoice(Sex.FEMALE.value, _l("Female")),
            SelectChoice(Sex.MALE.value, _l("Male")),
        ],
        validators=[Optional()],
    )
    position = StringField(_l("Position or rank"), validators=[Optional(), Length(max=120)])
    preferred_language = SelectField(
        _l("Preferred language"), choices=language_choices(), validators=[Optional()]
    )
    timezone = SelectField(_l("Time zone"), choices=timezone_choices(), validators=[Optional()])


class NewPersonForm(PersonForm):
    password = PasswordField(
        _l("First password"),
        description=_l("At least 10 characters; give it to the person, who can change it."),
        validators=[DataRequired(), Length(min=10, max=200)],
    )
    roles = SelectMultipleField(
        _l("Roles"), choices=role_choices(with_focal_point=False), default=[Role.TRAINEE.value]
    )


class GrantRoleForm(FlaskForm):
    role = SelectField(_l("Role"), choices=role_choices())
    authority_id = SelectField(_l("Authority (focal points only)"), validators=[Optional()])


class ReasonForm(FlaskForm):
    reason = StringField(_l("Reason (kept in the audit log)"), validators=[Optional(), Length(max=500)])


class MergeForm(FlaskForm):
    removed_id = IntegerField(_l("Account to merge away (its number)"), validators=[DataRequired()])
    reason = TextAreaField(_l("Reason (kept in the audit log)"), validators=[Optional(), Length(max=500)])


class AuthorityForm(FlaskForm):
    code = StringField(
        _l("Code"),
        description=_l("Short and stable, e.g. ua-sbgs; Latin letters, digits and hyphens."),
        validators=[DataRequired(), Length(max=40)],
    )
    name = StringField(_l("Name"), validators=[DataRequired(), Length(max=200)])
    kind = SelectField(
        _l("Kind"),
        choices=[
            SelectChoice("border_guard", _l("Border guard")),
            SelectChoice("migration", _l("Migration")),
            SelectChoice("interior", _l("Interior")),
            SelectChoice("police", _l("Police")),
            SelectChoice("other", _l("Other")),
        ],
    )
    country_code = SelectField(_l("Country"), validators=[DataRequired()])


class CountryForm(FlaskForm):
    code = StringField(_l("Code (ISO 3166-1 alpha-2)"), validators=[DataRequired(), Length(min=2, max=2)])
    name = StringField(_l("Name in English"), validators=[DataRequired(), Length(max=100)])


class AppointFocalPointForm(FlaskForm):
    email = EmailField(
        _l("Email of the person to appoint"),
        validators=[DataRequired(), Email(check_deliverability=False), Length(max=254)],
    )


class AuditFilterForm(FlaskForm):
    class Meta:
        csrf = False

    action = StringField(_l("Action"), validators=[Optional(), Length(max=60)])
    actor = StringField(_l("Actor's email"), validators=[Optional(), Length(max=254)])
    subject_type = StringField(_l("Subject type"), validators=[Optional(), Length(max=40)])
    subject_id = StringField(_l("Subject id"), validators=[Optional(), Length(max=64)])
    since = StringField(_l("From (YYYY-MM-DD)"), validators=[Optional(), Length(max=10), valid_day])
    until = StringField(
        _l("Until (YYYY-MM-DD, inclusive)"), validators=[Optional(), Length(max=10), valid_day]
    )
