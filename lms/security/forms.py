from __future__ import annotations

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import EmailField, PasswordField, StringField, TextAreaField
from wtforms.validators import DataRequired, EqualTo, Length


class ForgotPasswordForm(FlaskForm):
    email = EmailField(_l("Email"), validators=[DataRequired(), Length(max=254)])


class ResetPasswordForm(FlaskForm):
    new_password = PasswordField(
        _l("New password"),
        description=_l("At least 10 characters; not a commonly used password."),
        validators=[DataRequired(), Length(max=200)],
    )
    confirm_password = PasswordField(
        _l("Repeat the new password"),
        validators=[DataRequired(), EqualTo("new_password", message=_l("The passwords do not match."))],
    )


class TwoFactorCodeForm(FlaskForm):
    code = StringField(
        _l("Six-digit code from your authenticator app"), validators=[DataRequired(), Length(max=12)]
    )


class DisableTwoFactorForm(FlaskForm):
    password = PasswordField(_l("Your password"), validators=[DataRequired(), Length(max=200)])


class EraseForm(FlaskForm):
    reason = TextAreaField(
        _l("Reason (for example the date and reference of the person's request)"),
        validators=[DataRequired(), Length(max=500)],
    )
