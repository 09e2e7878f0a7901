"""The pages' forms: shape only; lms.integrations.subscriptions checks the rules (address, events, owner)."""

from __future__ import annotations

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import BooleanField, PasswordField, SelectField, SelectMultipleField, StringField
from wtforms.validators import DataRequired, Length, Optional
from wtforms.widgets import CheckboxInput, ListWidget

from lms.integrations.models import WebhookEvent


def event_choices() -> list[tuple[str, str]]:
    return [
        (WebhookEvent.ENROLMENT_DECIDED.value, _l("A nomination or request was approved or rejected")),
        (WebhookEvent.ENROLMENT_COMPLETED.value, _l("A course was completed")),
        (WebhookEvent.CERTIFICATE_ISSUED.value, _l("A certificate was issued")),
        (WebhookEvent.CERTIFICATE_REVOKED.value, _l("A certificate was revoked")),
    ]


class SubscriptionForm(FlaskForm):
    url = StringField(
        _l("Receiver address"),
        validators=[DataRequired(), Length(max=500)],
        description=_l("The https:// address your system receives the events on."),
    )
    description = StringField(_l("Description"), validators=[Optional(), Length(max=200)])
    events = SelectMultipleField(
        _l("Events"),
        choices=event_choices,
        # no DataRequired: it would put `required` on every checkbox (the browser then wants them all);
        # the service refuses an empty choice ("Choose at least one event.")
        option_widget=CheckboxInput(),
        widget=ListWidget(prefix_label=False),
    )
    # "" is the academy's own subscription (admins); otherwise an authority's id
    owner = SelectField(_l("For"), choices=[], validate_choice=True)


class LrsForm(FlaskForm):
    enabled = BooleanField(_l("Send xAPI statements"))
    endpoint = StringField(
        _l("LRS endpoint"),
        validators=[Optional(), Length(max=500)],
        description=_l(
            "The address the statements resource is under, for example https://lrs.example.org/xapi"
        ),
    )
    key = StringField(_l("Key (user name)"), validators=[Optional(), Length(max=200)])
    secret = PasswordField(
        _l("Secret"),
        validators=[Optional(), Length(max=200)],
        description=_l("Leave empty to keep the stored secret."),
    )
