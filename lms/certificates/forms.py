from __future__ import annotations

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import BooleanField, EmailField, SelectField, SelectMultipleField, StringField, TextAreaField
from wtforms.validators import DataRequired, Length, ValidationError
from wtforms.widgets import CheckboxInput, ListWidget


class VerifyForm(FlaskForm):
    """A read-only lookup submitted by GET, so it carries no CSRF token."""

    class Meta:
        csrf = False

    code = StringField(
        _l("Certificate code"),
        description=_l("The 12-character code printed on the certificate, e.g. K7QM-2XRT-93FD."),
        validators=[DataRequired(), Length(max=40)],
    )


class AtLeastOneChosen:
    """Like DataRequired, but without its `required` flag: on a list of checkboxes that flag puts
    `required` on every box, and the browser then refuses the form unless *all* are ticked."""

    def __call__(self, form: FlaskForm, field: SelectMultipleField) -> None:
        if not field.data:
            raise ValidationError(_l("Choose at least one person."))


class BulkIssueForm(FlaskForm):
    enrolments = SelectMultipleField(
        _l("Completed, without a certificate"),
        coerce=int,
        validators=[AtLeastOneChosen()],
        widget=ListWidget(prefix_label=False),
        option_widget=CheckboxInput(),
    )


class ManualIssueForm(FlaskForm):
    # A lookup key for an existing account, not a new address: no deliverability or domain rules.
    email = EmailField(_l("Trainee's email"), validators=[DataRequired(), Length(max=254)])
    run = SelectField(_l("Course run"), coerce=int, validators=[DataRequired()])
    reason = TextAreaField(
        _l("Reason"),
        description=_l("Why this certificate is issued outside the usual rule; kept in the audit trail."),
        validators=[DataRequired(), Length(max=2000)],
    )


class ReissueForm(FlaskForm):
    reason = TextAreaField(
        _l("Reason for the re-issue"),
        description=_l("The old certificate stays on record as superseded."),
        validators=[DataRequired(), Length(max=2000)],
    )


class RevokeForm(FlaskForm):
    reason = TextAreaField(_l("Reason for the revocation"), validators=[DataRequired(), Length(max=2000)])
    show_reason_publicly = BooleanField(_l("Show the reason on the public verification page"))
