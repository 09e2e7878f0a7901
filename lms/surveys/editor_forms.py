"""The forms of the survey form editor (lms/surveys/views/editor.py): shape only, the rules are in
lms/surveys/editing.py. Every text has one field per language; English is required."""

from __future__ import annotations

from typing import Any

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import (
    BooleanField,
    Field,
    FieldList,
    Form,
    FormField,
    SelectChoice,
    SelectField,
    StringField,
    TextAreaField,
)
from wtforms.validators import AnyOf, DataRequired, Length, Optional, Regexp

from lms.config import LANGUAGE_NAMES, LANGUAGES, RTL_LANGUAGES
from lms.surveys.editing import FormTexts, ItemData, OptionData
from lms.surveys.file_format import FORM_SLUG, ITEM_KEY

OPTION_ROWS = 20  # at most this many options are read from a post
KEY_RULE = Regexp(ITEM_KEY, message=_l("Use lower-case letters, digits and _ only."))


def kind_choices() -> list[SelectChoice]:
    return [
        SelectChoice("end_of_course", _l("End of course")),
        SelectChoice("follow_up", _l("Follow-up, months after completion")),
    ]


def type_names() -> dict[str, Any]:
    return {
        "agreement": _l("Agreement (five labelled points)"),
        "single": _l("Single choice"),
        "multiple": _l("Multiple choice"),
        "rating": _l("Rating from 0 to 10"),
        "text": _l("Free text"),
    }


def _language_attributes(lang: str) -> dict[str, str]:
    return {"lang": lang, "dir": "rtl" if lang in RTL_LANGUAGES else "ltr"}


def _per_language(form_class: type, name: str, what: Any, field_class: type[Field], max_length: int) -> None:
    for lang in LANGUAGES:
        first = (
            [DataRequired(_l("Give the English text."))]
            if lang == "en" and name in ("title", "prompt")
            else []
        )
        label = _l("%(what)s (%(language)s)", what=what, language=LANGUAGE_NAMES[lang])
        validators = [*(first or [Optional()]), Length(max=max_length)]
        setattr(
            form_class,
            f"{name}_{lang}",
            field_class(label, validators=validators, render_kw=_language_attributes(lang)),
        )


def texts_of(form: Form, name: str) -> dict[str, str]:
    return {lang: (form[f"{name}_{lang}"].data or "").strip() for lang in LANGUAGES}


def texts_data(name: str, texts: dict[str, str]) -> dict[str, str]:
    return {f"{name}_{lang}": texts.get(lang, "") for lang in LANGUAGES}


class SurveyFormDetails(FlaskForm):
    slug = StringField(
        _l("Short name"),
        description=_l("Lower-case letters, digits and hyphens; it cannot change later."),
        validators=[
            DataRequired(),
            Length(max=80),
            Regexp(FORM_SLUG, message=_l("Use a-z, 0-9 and hyphens only.")),
        ],
    )
    kind = SelectField(_l("Kind"), choices=kind_choices())

    def texts(self) -> FormTexts:
        return FormTexts(self.kind.data or "", texts_of(self, "title"), texts_of(self, "intro"))


_per_language(SurveyFormDetails, "title", _l("Title"), StringField, 200)
_per_language(SurveyFormDetails, "intro", _l("Introduction"), TextAreaField, 4000)


class OptionRow(Form):
    """One option of a choice question; a row left empty is no option. Its rules (key, lengths, English)
    are checked by the service, so that the message names the option rather than a row's field."""

    key = StringField(_l("Key"))
    positive = BooleanField(_l("Counts as applied"))


for _lang in LANGUAGES:
    label = _l("%(what)s (%(language)s)", what=_l("Label"), language=LANGUAGE_NAMES[_lang])
    setattr(OptionRow, f"label_{_lang}", StringField(label, render_kw=_language_attributes(_lang)))


class SurveyItemForm(FlaskForm):
    key = StringField(
        _l("Key"),
        description=_l(
            "Stable: results combine by it across versions and languages. It cannot change later."
        ),
        validators=[DataRequired(), Length(max=64), KEY_RULE],
    )
    required = BooleanField(_l("An answer is required"), default=True)
    indicator = SelectField(
        _l("Donor indicator"),
        default="",  # not on the page of a type that feeds no indicator
        choices=[
            SelectChoice("", _l("None")),
            SelectChoice("satisfaction", _l("Satisfaction (share answering 4 or 5)")),
            SelectChoice("applied", _l("Applied at work (follow-up)")),
        ],
    )
    options = FieldList(FormField(OptionRow), max_entries=OPTION_ROWS)

    def item_data(self) -> ItemData:
        options = [
            OptionData((row.key.data or "").strip(), texts_of(row, "label"), bool(row.positive.data))
            for row in self.options
            if (row.key.data or "").strip() or any(texts_of(row, "label").values())
        ]
        return ItemData(
            prompt=texts_of(self, "prompt"),
            required=bool(self.required.data),
            indicator=self.indicator.data or None,
            options=options,
            low=texts_of(self, "low"),
            high=texts_of(self, "high"),
        )


_per_language(SurveyItemForm, "prompt", _l("Question"), TextAreaField, 2000)
_per_language(SurveyItemForm, "low", _l("Label under 0"), StringField, 200)
_per_language(SurveyItemForm, "high", _l("Label under 10"), StringField, 200)


class MoveForm(FlaskForm):
    direction = StringField(validators=[AnyOf(["up", "down"])])


class PreviewLanguageForm(FlaskForm):
    class Meta:
        csrf = False  # a GET that changes nothing

    lang = SelectField(
        _l("Language"), choices=[SelectChoice(code, name) for code, name in LANGUAGE_NAMES.items()]
    )
