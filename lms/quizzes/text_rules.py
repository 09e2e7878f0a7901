"""How typed answers are compared: the text rule (case, whitespace, diacritics), accepted texts, numbers
written in any of the academy's scripts. Pure logic, shared by the text types and cloze gaps.
"""

from __future__ import annotations

import unicodedata
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from decimal import Decimal, InvalidOperation
from typing import Any

from lms.quizzes.question_types import AuthoringProblem
from lms.yaml_lines import line_of

# --- text comparison -------------------------------------------------------------------------------------


@dataclass(frozen=True)
class TextRule:
    case_sensitive: bool = False
    whitespace: str = "collapse"  # collapse | ignore | exact
    ignore_diacritics: bool = False

    @classmethod
    def from_spec(cls, spec: Mapping[str, Any]) -> TextRule:
        return cls(
            case_sensitive=bool(spec.get("case_sensitive", False)),
            whitespace=str(spec.get("whitespace", "collapse")),
            ignore_diacritics=bool(spec.get("ignore_diacritics", False)),
        )

    def normalise(self, text: str) -> str:
        value = unicodedata.normalize("NFKC", text)
        if self.ignore_diacritics:  # e.g. Arabic harakat, Cyrillic stress marks
            decomposed = unicodedata.normalize("NFD", value)
            value = unicodedata.normalize(
                "NFC", "".join(c for c in decomposed if unicodedata.category(c) != "Mn")
            ).replace("\u0640", "")  # Arabic tatweel only stretches a word
        if self.whitespace == "ignore":
            value = "".join(value.split())
        elif self.whitespace == "collapse":
            value = " ".join(value.split())
        if not self.case_sensitive:
            value = value.casefold()
        return value

    def matches(self, given: str, accepted: Sequence[str]) -> bool:
        if not given.strip():
            return False
        mine = self.normalise(given)
        return any(mine == self.normalise(option) for option in accepted)


TEXT_RULE_KEYS = ("case_sensitive", "whitespace", "ignore_diacritics")
WHITESPACE_RULES = ("collapse", "ignore", "exact")


def accepted_texts(value: Any) -> list[str]:
    """`accept` is a list, or per language a list; grading accepts the answers of every language."""
    if isinstance(value, Mapping):
        result: list[str] = []
        for options in value.values():
            result.extend(accepted_texts(options))
        return result
    if isinstance(value, list):
        return [str(v) for v in value if str(v).strip()]
    if value is not None and str(value).strip():
        return [str(value)]
    return []


def parse_number(text: str) -> Decimal | None:
    """A number as people type it: '1.5', '1,5', '1 500', '-2', Arabic-Indic digits; None when not one."""
    value = unicodedata.normalize("NFKC", text).strip().replace("\u066b", ".").replace("\u066c", "")
    value = "".join(value.split())
    if "," in value and "." not in value and value.count(",") == 1:
        value = value.replace(",", ".")
    value = value.replace(",", "")
    if not value:
        return None
    try:
        digits = "".join(str(unicodedata.digit(c)) if c.isdigit() else c for c in value)
        number = Decimal(digits)
    except (InvalidOperation, ValueError):
        return None
    return number if number.is_finite() else None


# --- typed answers ---------------------------------------------------------------------------------------


def check_text_rule(spec: Mapping[str, Any]) -> list[AuthoringProblem]:
    problems: list[AuthoringProblem] = []
    if spec.get("whitespace", "collapse") not in WHITESPACE_RULES:
        problems.append(
            (line_of(spec, "whitespace"), f"whitespace must be one of {', '.join(WHITESPACE_RULES)}")
        )
    return problems
