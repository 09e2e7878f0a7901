"""The token forms of the account and admin pages: shape only; lms.api.tokens checks the rules."""

from __future__ import annotations

from typing import Any

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import IntegerField, SelectChoice, SelectField, SelectMultipleField, StringField, widgets
from wtforms.validators import DataRequired, InputRequired, Length, NumberRange

from lms.api.tokens import MAX_DAYS, SCOPES, TokenRequest, focal_point_choices


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
    acting = SelectField(_l("Authority and the focal point the token acts as"), validators=[InputRequired()])

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.acting.choices = [SelectChoice(value, label) for value, label in focal_point_choices()]

    def acting_ids(self) -> tuple[int, int]:
        authority_id, user_id = (self.acting.data or "0:0").split(":")
        return int(authority_id), int(user_id)


class RevokeForm(FlaskForm):
    pass
