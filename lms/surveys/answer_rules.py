"""What an answer to a survey item must look like (pure: plain values in, dataclasses out; tested without
an app). ``lms.surveys.answering`` reads the items, calls ``check_answers`` and writes what it returns.

An answer arrives as the form sends it: a list of strings per item key (``request.form.getlist``); an int,
a string or a list is accepted too (the demo and the tests pass Python values).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from enum import StrEnum
from typing import Any

TEXT_LIMIT = 2000  # characters of one free-text answer (the column holds 4000: room for any encoding)
AGREEMENT_RANGE = (1, 5)
RATING_RANGE = (0, 10)


class ProblemKind(StrEnum):
    MISSING = "missing"  # a required item without an answer
    OUT_OF_RANGE = "out_of_range"  # a number outside the item's scale, or not a number
    UNKNOWN_OPTION = "unknown_option"  # a choice the item does not offer (or two for a single choice)
    TOO_LONG = "too_long"  # free text over TEXT_LIMIT


@dataclass(frozen=True)
class ItemRule:
    key: str
    type: str  # lms.surveys.models.ItemType
    required: bool
    option_keys: tuple[str, ...] = ()


@dataclass(frozen=True)
class CheckedAnswer:
    item_key: str
    number: int | None = None
    choices: tuple[str, ...] | None = None
    text: str | None = None


@dataclass(frozen=True)
class Problem:
    item_key: str
    kind: ProblemKind


@dataclass(frozen=True)
class Checked:
    answers: tuple[CheckedAnswer, ...]
    problems: tuple[Problem, ...]


def _values(raw: Any) -> list[str]:
    """The given value(s) as non-empty, stripped strings."""
    if raw is None:
        return []
    items = raw if isinstance(raw, list | tuple) else [raw]
    return [text for text in (str(item).strip() for item in items) if text]


def _number(values: list[str], bounds: tuple[int, int]) -> int | None:
    if len(values) != 1 or not values[0].lstrip("-").isdigit() or len(values[0]) > 3:
        return None
    number = int(values[0])
    return number if bounds[0] <= number <= bounds[1] else None


def _check_one(item: ItemRule, values: list[str]) -> CheckedAnswer | ProblemKind:
    if item.type in ("agreement", "rating"):
        number = _number(values, AGREEMENT_RANGE if item.type == "agreement" else RATING_RANGE)
        return ProblemKind.OUT_OF_RANGE if number is None else CheckedAnswer(item.key, number=number)
    if item.type in ("single", "multiple"):
        chosen = tuple(dict.fromkeys(values))  # a repeated key counts once, in the order given
        if any(key not in item.option_keys for key in chosen) or (item.type == "single" and len(chosen) > 1):
            return ProblemKind.UNKNOWN_OPTION
        return CheckedAnswer(item.key, choices=chosen)
    text = "\n".join(values).replace("\r\n", "\n")
    return ProblemKind.TOO_LONG if len(text) > TEXT_LIMIT else CheckedAnswer(item.key, text=text)


def check_answers(items: Sequence[ItemRule], given: Mapping[str, Any]) -> Checked:
    """Every item's answer checked against its type; keys the form does not ask are ignored (a retired
    item, a hand-made request), an optional item left empty is simply not answered."""
    answers: list[CheckedAnswer] = []
    problems: list[Problem] = []
    for item in items:
        values = _values(given.get(item.key))
        if not values:
            if item.required:
                problems.append(Problem(item.key, ProblemKind.MISSING))
            continue
        outcome = _check_one(item, values)
        if isinstance(outcome, CheckedAnswer):
            answers.append(outcome)
        else:
            problems.append(Problem(item.key, outcome))
    return Checked(tuple(answers), tuple(problems))


def pick_text(texts: Mapping[str, str] | None, language: str, fallback: str = "en") -> tuple[str, str]:
    """A per-language text in ``language``, else English, else the first there is; with its language."""
    texts = texts or {}
    for code in (language, fallback):
        if texts.get(code):
            return texts[code], code
    for code, text in texts.items():
        if text:
            return text, code
    return "", fallback
