"""What an answer to a survey item must look like (lms/surveys/answer_rules.py): pure, no app."""

from __future__ import annotations

from typing import Any

import pytest

from lms.surveys.answer_rules import (
    TEXT_LIMIT,
    CheckedAnswer,
    ItemRule,
    Problem,
    ProblemKind,
    check_answers,
    pick_text,
)

ITEMS = (
    ItemRule("scale", "agreement", True),
    ItemRule("score", "rating", True),
    ItemRule("one", "single", True, ("a", "b")),
    ItemRule("many", "multiple", False, ("a", "b", "c")),
    ItemRule("note", "text", False),
)


def test_a_full_set_of_answers_as_the_form_sends_them() -> None:
    checked = check_answers(
        ITEMS, {"scale": ["5"], "score": ["0"], "one": ["b"], "many": ["c", "a", "c"], "note": [" Fine "]}
    )
    assert checked.problems == ()
    assert checked.answers == (
        CheckedAnswer("scale", number=5),
        CheckedAnswer("score", number=0),
        CheckedAnswer("one", choices=("b",)),
        CheckedAnswer("many", choices=("c", "a")),
        CheckedAnswer("note", text="Fine"),
    )


def test_optional_items_left_empty_are_not_answered_and_unknown_keys_are_ignored() -> None:
    checked = check_answers(ITEMS, {"scale": 3, "score": 10, "one": "a", "many": [], "note": "  ", "x": "1"})
    assert checked.problems == ()
    assert [a.item_key for a in checked.answers] == ["scale", "score", "one"]


@pytest.mark.parametrize(
    ("given", "problem"),
    [
        ({"scale": None}, Problem("scale", ProblemKind.MISSING)),
        ({"scale": "0"}, Problem("scale", ProblemKind.OUT_OF_RANGE)),
        ({"scale": "4.5"}, Problem("scale", ProblemKind.OUT_OF_RANGE)),
        ({"scale": ["4", "5"]}, Problem("scale", ProblemKind.OUT_OF_RANGE)),
        ({"score": "11"}, Problem("score", ProblemKind.OUT_OF_RANGE)),
        ({"score": "9" * 40}, Problem("score", ProblemKind.OUT_OF_RANGE)),
        ({"one": "z"}, Problem("one", ProblemKind.UNKNOWN_OPTION)),
        ({"one": ["a", "b"]}, Problem("one", ProblemKind.UNKNOWN_OPTION)),
        ({"many": ["a", "zz"]}, Problem("many", ProblemKind.UNKNOWN_OPTION)),
        ({"note": "x" * (TEXT_LIMIT + 1)}, Problem("note", ProblemKind.TOO_LONG)),
    ],
)
def test_each_problem_is_named_with_its_item(given: dict[str, Any], problem: Problem) -> None:
    base: dict[str, Any] = {"scale": 4, "score": 7, "one": "a"}
    checked = check_answers(ITEMS, {**base, **given})
    assert checked.problems == (problem,)


def test_texts_fall_back_to_english_then_to_any_language() -> None:
    assert pick_text({"en": "Hello", "ar": "مرحبا"}, "ar") == ("مرحبا", "ar")
    assert pick_text({"en": "Hello", "ar": ""}, "ar") == ("Hello", "en")
    assert pick_text({"fr": "Bonjour"}, "ru") == ("Bonjour", "fr")
    assert pick_text(None, "ru") == ("", "en")
