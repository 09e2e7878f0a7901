from __future__ import annotations

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import EmailField, PasswordField, SelectChoice, SelectField, StringField
from wtforms.validators import DataRequired, Email, EqualTo, Length, Optional

from lms.auth.models import Sex


class LoginForm(FlaskForm):
    email = EmailField(_l("Email"), validators=[DataRequired(), Length(max=254)])
    password = PasswordField(_l("Password"), validators=[DataRequired(), Length(max=200)])


class RegistrationForm(FlaskForm):
    given_name = StringField(_l("Given name"), validators=[DataRequired(), Length(max=100)])
    family_name = StringField(_l("Family name"), validators=[DataRequired(), Length(max=100)])
    patronymic = StringField(_l("Patronymic (optional)"), validators=[Optional(), Length(max=100)])
    native_name = StringField(
        _l("Your name in your own script (optional)"),
        description=_l("For example Олена Коваль or ليلى حداد, as it should appear on certificates."),
        validators=[Optional(), Length(max=200)],
    )
    email = EmailField(
        _l("Email"), validators=[DataRequired(), Email(check_deliverability=False), Length(max=254)]
    )
    password = PasswordField(
        _l("Password"),
        description=_l("At least 10 characters."),
        validators=[
            DataRequired(),
            Length(min=10, max=200, message=_l("Use at least 10 characters (at most 200).")),
        ],
    )
    confirm_password = PasswordField(
        _l("Repeat the password"),
        validators=[DataRequired(), EqualTo("password", message=_l("The passwords do not match."))],
    )
    country = SelectField(_l("Country"), validators=[DataRequired()])
    authority = SelectField(
        _l("Authority"),
        description=_l("The national agency you work for."),
        validators=[DataRequired()],
        coerce=int,
    )
    sex = SelectField(
        _l("Sex (for anonymous statistics)"),
        choices=[
            SelectChoice("", _l("Prefer not to say")),
            SelectChoice(Sex.FEMALE.value, _l("Female")),
            SelectChoice(Sex.MALE.value, _l("Male")),
        ],
        validators=[Optional()],
    )
    position = StringField(_l("Position or rank (optional)"), validators=[Optional(), Length(max=120)])
