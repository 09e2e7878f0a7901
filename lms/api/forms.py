"""The token forms of the account and admin pages: shape only; lms.api.tokens checks the rules."""

from __future__ import annotations

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import IntegerField, SelectChoice, SelectMultipleField, StringField, widgets
from wtforms.validators import DataRequired, InputRequired, Length, NumberRange

from lms.api.tokens import MAX_DAYS, SCOPES, TokenRequest


class ScopeBoxes(SelectMultipleField):
    widget = widgets.ListWidget(prefix_label=False)
    option_widget = widgets.CheckboxInput()


class TokenForm(FlaskForm):
    name = StringField(_l("Name"), validators=[DataRequired(), Length(max=120)])
    scopes = ScopeBoxes(_l("Scopes"), choices=[SelectChoice(key, label) for key, label in SCOPES.items()],
                        validators=[InputRequired()])  # fmt: skip
    days = IntegerField(
        _l("Valid for (days)"), default=90, validators=[InputRequired(), NumberRange(1, MAX_DAYS)]
    )

    def token_request(self) -> TokenRequest:
        return TokenRequest(self.name.data or "", tuple(self.scopes.data or ()), int(self.days.data or 0))


class AuthorityTokenForm(TokenForm):
    authority_id = IntegerField(_l("Authority (id)"), validators=[InputRequired(), NumberRange(1, 2**31 - 1)])
    acting_user_id = IntegerField(_l("Acts as the focal point (person id)"),
                                  validators=[InputRequired(), NumberRange(1, 2**31 - 1)])  # fmt: skip


class RevokeForm(FlaskForm):
    pass
