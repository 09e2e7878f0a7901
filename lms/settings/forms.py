from __future__ import annotations

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from flask_wtf.file import FileField, FileRequired
from wtforms import EmailField, SelectChoice, SelectField, StringField, TextAreaField, URLField
from wtforms.validators import DataRequired, Email, Length, Optional

from lms.i18n import LANGUAGE_NAMES
from lms.settings.models import RegistrationPolicy


class SettingsForm(FlaskForm):
    academy_name = StringField(_l("Academy name"), validators=[DataRequired(), Length(max=200)])
    contact_email = EmailField(
        _l("Contact address"),
        validators=[Optional(), Email(check_deliverability=False), Length(max=254)],
    )
    default_language = SelectField(
        _l("Default language"),
        choices=[SelectChoice(code, name) for code, name in LANGUAGE_NAMES.items()],
    )
    registration_policy = SelectField(
        _l("Self-registration"),
        choices=[
            SelectChoice(RegistrationPolicy.OPEN.value, _l("Open to everyone")),
            SelectChoice(RegistrationPolicy.DOMAINS.value, _l("Open to the listed email domains only")),
            SelectChoice(RegistrationPolicy.CLOSED.value, _l("Closed: nomination and import only")),
        ],
    )
    allowed_email_domains = TextAreaField(
        _l("Allowed email domains"),
        description=_l("One per line, for example dpsu.gov.ua. A domain also admits its subdomains."),
        validators=[Optional(), Length(max=5000)],
    )
    public_base_url = URLField(
        _l("Public base URL"),
        description=_l(
            "The address people reach the academy at. Certificates link to it and the did:web "
            "identifier of credentials derives from it; changing it later breaks older links."
        ),
        validators=[DataRequired(), Length(max=300)],
    )
    mail_sender = StringField(
        _l("Mail sender"),
        description=_l("For example: Academy <no-reply@academy.example.org>"),
        validators=[DataRequired(), Length(max=300)],
    )


class LogoForm(FlaskForm):
    logo = FileField(_l("Logo"), description=_l("PNG or JPEG, at most 512 KB."), validators=[FileRequired()])
