"""The texts a survey item shows in one language: its prompt, its options, its scale's labelled points.

Forms keep their texts per language ({"en": ..., "ru": ...}); English is always there (the file format and
the editor require it), so a language a form lacks falls back to English. The agreement scale's five points
are the academy's own, translated through gettext, unless a form gives its own (stored in the item's
``options`` as keys "1".."5"). A rating item's end labels are its ``options`` with keys "0" and "10";
without them the ends read "0" and "10" (docs/surveys.md "Survey forms").
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from flask_babel import lazy_gettext as _l

FALLBACK_LANGUAGE = "en"
AGREEMENT_KEYS = ("1", "2", "3", "4", "5")
RATING_ENDS = ("0", "10")

# The academy's five labelled points, in order 1..5 (a satisfied answer is 4 or 5).
DEFAULT_AGREEMENT = (
    _l("Strongly disagree"),
    _l("Disagree"),
    _l("Neither agree nor disagree"),
    _l("Agree"),
    _l("Strongly agree"),
)


@dataclass(frozen=True)
class Choice:
    key: str  # what an answer stores (SurveyAnswer.choices, or the number as text)
    label: str


def localised(texts: Mapping[str, str] | None, language: str) -> str:
    """The text in ``language``, else in English, else empty."""
    texts = texts or {}
    return texts.get(language) or texts.get(FALLBACK_LANGUAGE) or ""


def _labels(options: Sequence[Mapping[str, Any]] | None) -> dict[str, Mapping[str, str]]:
    return {str(option.get("key")): option.get("label") or {} for option in options or ()}


def choices(item_type: str, options: Sequence[Mapping[str, Any]] | None, language: str) -> list[Choice]:
    """What a person picks from: the options of single/multiple, the five points of agreement.

    Rating and text items have no choices (see ``rating_ends``)."""
    if item_type in ("single", "multiple"):
        return [Choice(str(o.get("key")), localised(o.get("label"), language)) for o in options or ()]
    if item_type == "agreement":
        own = _labels(options)
        return [
            Choice(key, localised(own[key], language) if key in own else str(DEFAULT_AGREEMENT[n]))
            for n, key in enumerate(AGREEMENT_KEYS)
        ]
    return []


def rating_ends(options: Sequence[Mapping[str, Any]] | None, language: str) -> tuple[str, str]:
    """The labels under 0 and 10 of a rating item ("0" and "10" when the form gives none)."""
    own = _labels(options)
    return tuple(localised(own[end], language) if end in own else end for end in RATING_ENDS)  # type: ignore[return-value]


@dataclass(frozen=True)
class ItemView:
    """One question as a person sees it in one language (the taking page and the editor's preview)."""

    key: str
    type: str
    required: bool
    prompt: str
    choices: list[Choice]  # agreement: the five points; single/multiple: the options
    low: str  # rating: the label under 0
    high: str  # rating: the label under 10


def item_view(
    key: str,
    item_type: str,
    required: bool,
    prompt: Mapping[str, str],
    options: Sequence[Mapping[str, Any]] | None,
    language: str,
) -> ItemView:
    low, high = rating_ends(options, language) if item_type == "rating" else ("", "")
    return ItemView(
        key,
        item_type,
        required,
        localised(prompt, language),
        choices(item_type, options, language),
        low,
        high,
    )
