"""Forms of the course pages: shape only (the service checks the course has the language)."""

from __future__ import annotations

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import SelectChoice, SelectField
from wtforms.validators import InputRequired

from lms.i18n import LANGUAGE_NAMES


class StudyLanguageForm(FlaskForm):
    language = SelectField(_l("Study in"), validators=[InputRequired()])

    def offer(self, languages: list[str]) -> StudyLanguageForm:
        self.language.choices = [SelectChoice(code, LANGUAGE_NAMES.get(code, code)) for code in languages]
        return self
