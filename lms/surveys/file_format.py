"""The shape of a survey form file, courses/_surveys/<slug>.yml, as a pydantic model (docs/surveys.md).

Built like the course files' models (lms/content/file_models.py, whose ``FileModel``, ``Says`` and
``validate_file`` it reuses): each problem keeps the ``file:line: message`` form, the messages are the
authors' words, and ``python -m lms.surveys.file_format`` writes the JSON Schema for authors' editors
(docs/schema/survey.schema.json, part of ``make schema``).

Every text is given per language, ``{en: "...", ru: "...", fr: "...", ar: "..."}``: English is required,
the others fall back to it when a form is shown. Rules between fields (languages, duplicate keys, which
types take options) are in ``SurveyFile.problems`` so that each names its own line.
"""

from __future__ import annotations

import json
from collections import Counter
from collections.abc import Iterator
from pathlib import Path
from typing import Annotated, ClassVar, Literal

from pydantic import Field

from lms.config import LANGUAGES
from lms.content.file_models import SCHEMA_DIR, FileModel, Says

ITEM_KEY = r"^[a-z0-9_]{1,64}$"
FORM_SLUG = r"^[a-z0-9]+(?:-[a-z0-9]+)*$"
KINDS = ("end_of_course", "follow_up")
ITEM_TYPES = ("agreement", "single", "multiple", "rating", "text")
INDICATORS = ("satisfaction", "applied")
CHOICE_TYPES = ("single", "multiple")  # the types that need options
AGREEMENT_POINTS = 5

Problem = tuple[tuple[str | int, ...], str]

Texts = Annotated[
    dict[str, Annotated[str, Says("each language's text must be text")]],
    Field(json_schema_extra={"propertyNames": {"enum": list(LANGUAGES)}, "required": ["en"]}),
    Says('give the text per language: {en: "...", ru: "...", fr: "...", ar: "..."}'),
]


def _listed(values: tuple[str, ...]) -> str:
    return ", ".join(values)


class OptionFile(FileModel):
    """One option of a single or multiple choice item."""

    unknown: ClassVar[str] = "unknown option key '{key}' (key, label, positive)"
    shape: ClassVar[str] = "each option must be a mapping with key and label"
    key: Annotated[
        str,
        Field(pattern=ITEM_KEY),
        Says("option key '{value}' is not valid: use a-z, 0-9 and _", missing="each option needs a 'key'"),
    ]
    """Stable: answers store it, results count it."""
    label: Annotated[Texts, Says("each option needs a 'label' per language")]
    positive: Annotated[bool, Says("'positive' must be true or false")] = False
    """The option counts towards the item's indicator (a follow-up's "yes, regularly")."""


class ItemFile(FileModel):
    """One question of the form."""

    unknown: ClassVar[str] = "unknown item key '{key}'"
    shape: ClassVar[str] = "each item must be a mapping (key, type, prompt...)"
    key: Annotated[
        str,
        Field(pattern=ITEM_KEY),
        Says(
            "item key '{value}' is not valid: use a-z, 0-9 and _ (at most 64)",
            missing="each item needs a stable 'key', so that results combine across versions",
        ),
    ]
    """Never change it: results combine across versions, runs and languages by the key."""
    type: Annotated[
        Literal[ITEM_TYPES],  # type: ignore[valid-type]
        Says(
            f"unknown item type '{{value}}' (known: {_listed(ITEM_TYPES)})",
            missing="each item needs a 'type'",
        ),
    ]
    required: Annotated[bool, Says("'required' must be true or false")] = True
    prompt: Annotated[Texts, Says("each item needs a 'prompt' per language")]
    options: Annotated[list[OptionFile] | None, Says("'options' must be a list of {key, label}")] = None
    """single, multiple: what a person picks from."""
    low: Annotated[Texts | None, Says("'low' must be a text per language")] = None
    """rating: the label under 0."""
    high: Annotated[Texts | None, Says("'high' must be a text per language")] = None
    """rating: the label under 10."""
    indicator: Annotated[
        Literal[INDICATORS] | None,  # type: ignore[valid-type]
        Says(f"indicator must be one of {_listed(INDICATORS)}"),
    ] = None
    """The donor indicator this item feeds: satisfaction (agreement: share answering 4-5) or applied
    (agreement 4-5, or single: share choosing a `positive` option)."""


class SurveyFile(FileModel):
    """courses/_surveys/<slug>.yml"""

    unknown: ClassVar[str] = "unknown survey form key '{key}'"
    slug: Annotated[str | None, Field(pattern=FORM_SLUG), Says("slug '{value}' is not a valid slug")] = None
    """The file's name without .yml (written or not)."""
    kind: Annotated[
        Literal[KINDS],  # type: ignore[valid-type]
        Says(f"kind must be one of {_listed(KINDS)}", missing=f"'kind' is required ({_listed(KINDS)})"),
    ]
    title: Annotated[Texts, Says("'title' is required, per language")]
    intro: Annotated[Texts | None, Says("'intro' must be a text per language")] = None
    """Shown above the questions (Markdown)."""
    agreement_points: Annotated[
        list[Texts] | None,
        Says("agreement_points must list the five points, each a text per language"),
    ] = None
    """This form's own five points of the agreement scale (default: the academy's, translated)."""
    items: Annotated[list[ItemFile], Field(min_length=1), Says("a survey form must list at least one item")]

    def problems(self) -> list[Problem]:
        found = [*self._language_problems()]
        points = self.agreement_points
        if points is not None and len(points) != AGREEMENT_POINTS:
            found.append(
                (("agreement_points",), f"agreement_points must list exactly {AGREEMENT_POINTS} points")
            )
        keys: Counter[str] = Counter()
        for index, item in enumerate(self.items):
            keys[item.key] += 1
            if keys[item.key] == 2:
                found.append((("items", index, "key"), f"item key '{item.key}' is used twice in this form"))
            found.extend((("items", index, *loc), message) for loc, message in _item_problems(item))
        return found

    def _language_problems(self) -> Iterator[Problem]:
        for loc, what, texts in _all_texts(self):
            for lang, text in texts.items():
                if lang not in LANGUAGES:
                    yield (*loc, lang), f"'{lang}' is not a language of the academy ({_listed(LANGUAGES)})"
                elif not text.strip():
                    yield (*loc, lang), f"the '{lang}' text of {what} is empty"
            if "en" not in texts:
                yield loc, f"{what} has no English text (en)"


def _all_texts(form: SurveyFile) -> Iterator[tuple[tuple[str | int, ...], str, dict[str, str]]]:
    yield ("title",), "the title", form.title
    if form.intro is not None:
        yield ("intro",), "the intro", form.intro
    for index, point in enumerate(form.agreement_points or ()):
        yield ("agreement_points", index), f"agreement point {index + 1}", point
    for index, item in enumerate(form.items):
        yield ("items", index, "prompt"), f"the prompt of item '{item.key}'", item.prompt
        for end in ("low", "high"):
            texts = getattr(item, end)
            if texts is not None:
                yield ("items", index, end), f"'{end}' of item '{item.key}'", texts
        for position, option in enumerate(item.options or ()):
            where = ("items", index, "options", position, "label")
            yield where, f"option '{option.key}' of item '{item.key}'", option.label


def _item_problems(item: ItemFile) -> Iterator[Problem]:
    if item.type in CHOICE_TYPES:
        if not item.options:
            yield ("key",), f"item '{item.key}': {item.type} items need 'options' (at least two)"
        elif len(item.options) < 2:
            yield ("options",), f"item '{item.key}': {item.type} items need at least two options"
        seen: set[str] = set()
        for position, option in enumerate(item.options or ()):
            if option.key in seen:
                yield ("options", position, "key"), f"option key '{option.key}' is used twice in this item"
            seen.add(option.key)
    elif item.options is not None:
        yield ("options",), f"item '{item.key}': {item.type} items take no options"
    if item.type != "rating":
        for end in ("low", "high"):
            if getattr(item, end) is not None:
                yield (end,), f"item '{item.key}': '{end}' is for rating items only"
    if item.type not in CHOICE_TYPES and any(o.positive for o in item.options or ()):
        yield ("options",), "'positive' is for the options of single and multiple items"
    yield from _indicator_problems(item)


def _indicator_problems(item: ItemFile) -> Iterator[Problem]:
    if item.indicator == "satisfaction" and item.type != "agreement":
        yield ("indicator",), f"item '{item.key}': the satisfaction indicator reads an agreement item"
    if item.indicator == "applied":
        if item.type not in ("agreement", "single"):
            yield (
                ("indicator",),
                f"item '{item.key}': the applied indicator reads an agreement or single item",
            )
        elif item.type == "single" and not any(o.positive for o in item.options or ()):
            yield (
                ("indicator",),
                f"item '{item.key}': mark the options that count as applied with 'positive: true'",
            )


SCHEMA_PATH = SCHEMA_DIR / "survey.schema.json"


def json_schema() -> str:
    schema = {"$schema": "https://json-schema.org/draft/2020-12/schema", **SurveyFile.model_json_schema()}
    return json.dumps(schema, indent=2, ensure_ascii=False) + "\n"


def write_schema(path: Path = SCHEMA_PATH) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json_schema(), encoding="utf-8")
    return path


if __name__ == "__main__":  # make schema
    print(write_schema())
