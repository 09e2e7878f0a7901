"""Each question type's authoring check, freezing, parsing and grading, without an app."""

from __future__ import annotations

from decimal import Decimal
from random import Random
from typing import Any

import pytest

from lms.quizzes.analysis import ItemRow, item_statistics
from lms.quizzes.grading import REGISTRY, question_type, quiz_grade
from lms.quizzes.question_types import AnswerRejected, make_localiser
from lms.quizzes.text_rules import TextRule, parse_number

EN = make_localiser("en", "en")


def freeze(
    spec: dict[str, Any], shuffle: bool = False, seed: int = 1, language: str = "en"
) -> dict[str, Any]:
    localise = make_localiser(language, "en")
    rng = Random(seed)  # noqa: S311  # presentation shuffle, not secrecy
    return question_type(spec["type"]).freeze(spec, localise, rng, shuffle).as_dict()


def grade(frozen: dict[str, Any], raw: dict[str, list[str]]) -> float:
    qtype = question_type(frozen["type"])
    return qtype.grade(frozen, qtype.parse(frozen["view"], raw)).fraction


SINGLE = {
    "type": "single_choice",
    "prompt": "Where do border checks take place?",
    "choices": [
        {"text": "At crossing points", "correct": True, "feedback": "Yes."},
        {"text": "Between crossing points", "feedback": "That is surveillance."},
        {"text": "At sea"},
    ],
    "feedback": {"correct": "Well done.", "incorrect": "Read lesson 4 again."},
}


def test_registry_has_every_type_with_a_template() -> None:
    assert set(REGISTRY) == {
        "single_choice", "multiple_response", "true_false", "short_text",
        "numeric", "matching", "ordering", "cloze",
    }  # fmt: skip
    assert all(t.template == f"quizzes/types/{name}.html" for name, t in REGISTRY.items())


def test_single_choice_right_wrong_empty_and_feedback() -> None:
    frozen = freeze(SINGLE)
    assert grade(frozen, {"": ["0"]}) == 1.0
    assert grade(frozen, {"": ["1"]}) == 0.0
    assert grade(frozen, {}) == 0.0
    assert grade(frozen, {"": [""]}) == 0.0
    result = question_type("single_choice").grade(frozen, 1)
    assert result.feedback == ["That is surveillance.", "Read lesson 4 again."]


def test_single_choice_refuses_extra_choices_and_double_answers() -> None:
    frozen = freeze(SINGLE)
    qtype = question_type("single_choice")
    with pytest.raises(AnswerRejected):
        qtype.parse(frozen["view"], {"": ["3"]})  # a choice that was never shown
    with pytest.raises(AnswerRejected):
        qtype.parse(frozen["view"], {"": ["0", "1"]})
    with pytest.raises(AnswerRejected):
        qtype.parse(frozen["view"], {"": ["-1"]})
    with pytest.raises(AnswerRejected):
        qtype.parse(frozen["view"], {"1": ["0"]})  # a part this question does not have


def test_shuffled_choices_keep_the_key_with_the_text_and_the_view_has_no_key() -> None:
    frozen = freeze(SINGLE, shuffle=True, seed=7)
    right = frozen["view"]["choices"].index("At crossing points")
    assert frozen["solution"]["correct"] == [right]
    assert grade(frozen, {"": [str(right)]}) == 1.0
    assert "correct" not in str(frozen["view"]) and "feedback" not in frozen["view"]


def test_multiple_response_partial_credit_and_all_or_nothing() -> None:
    spec = {
        "type": "multiple_response",
        "prompt": "Which are levels of cooperation?",
        "choices": [
            {"text": "Intra-service", "correct": True},
            {"text": "Inter-agency", "correct": True},
            {"text": "International", "correct": True},
            {"text": "Commercial"},
        ],
    }
    frozen = freeze(spec)
    assert grade(frozen, {"": ["0", "1", "2"]}) == 1.0
    assert grade(frozen, {"": ["0", "1"]}) == pytest.approx(2 / 3)
    assert grade(frozen, {"": ["0", "1", "3"]}) == pytest.approx(1 / 3)  # a wrong pick cancels a right one
    assert grade(frozen, {"": ["0", "1", "2", "3"]}) == pytest.approx(2 / 3)  # ticking everything costs
    assert grade(frozen, {"": ["3"]}) == 0.0  # never below zero
    assert grade(frozen, {}) == 0.0
    assert grade(frozen, {"": ["0", "0", "0"]}) == pytest.approx(1 / 3)  # repeats count once
    with pytest.raises(AnswerRejected):
        question_type("multiple_response").parse(frozen["view"], {"": ["0", "9"]})
    strict = freeze({**spec, "scoring": "all_or_nothing"})
    assert grade(strict, {"": ["0", "1"]}) == 0.0
    assert grade(strict, {"": ["2", "1", "0"]}) == 1.0


def test_true_false() -> None:
    frozen = freeze({"type": "true_false", "prompt": "Referral is a sanction.", "answer": False})
    assert grade(frozen, {"": ["false"]}) == 1.0
    assert grade(frozen, {"": ["true"]}) == 0.0
    assert grade(frozen, {}) == 0.0
    with pytest.raises(AnswerRejected):
        question_type("true_false").parse(frozen["view"], {"": ["maybe"]})


def test_short_text_case_whitespace_and_several_answers() -> None:
    spec = {"type": "short_text", "prompt": "Two words", "accept": ["focal point", "contact point"]}
    frozen = freeze(spec)
    assert grade(frozen, {"": ["Focal Point"]}) == 1.0
    assert grade(frozen, {"": ["  focal    point \n"]}) == 1.0
    assert grade(frozen, {"": ["contact point"]}) == 1.0
    assert grade(frozen, {"": ["focalpoint"]}) == 0.0
    assert grade(frozen, {"": [""]}) == 0.0
    assert grade(frozen, {"": ["   "]}) == 0.0
    strict = freeze({**spec, "case_sensitive": True, "whitespace": "exact"})
    assert grade(strict, {"": ["Focal point"]}) == 0.0
    assert grade(strict, {"": ["focal  point"]}) == 0.0
    assert grade(strict, {"": ["focal point"]}) == 1.0
    squeezed = freeze(
        {"type": "short_text", "prompt": "MRZ filler", "accept": ["P<UTO"], "whitespace": "ignore"}
    )
    assert grade(squeezed, {"": ["P < UTO"]}) == 1.0


def test_short_text_cyrillic_and_arabic_answers() -> None:
    spec = {
        "type": "short_text",
        "prompt": {"en": "Term?", "ru": "Термин?"},
        "accept": {"en": ["focal point"], "ru": ["Контактное лицо"], "ar": ["نقطة اتصال"]},
    }
    frozen = freeze(spec, language="ru")
    assert frozen["view"]["prompt"] == "Термин?"
    assert grade(frozen, {"": ["КОНТАКТНОЕ  ЛИЦО"]}) == 1.0  # Cyrillic case folding
    assert grade(frozen, {"": ["контактное лицо"]}) == 1.0
    assert grade(frozen, {"": ["контакт"]}) == 0.0
    assert grade(frozen, {"": ["نقطة اتصال"]}) == 1.0
    assert grade(frozen, {"": ["نقطةاتصال"]}) == 0.0
    # With diacritics ignored, harakat and tatweel do not matter; without, they do.
    marked = "نُقْطَة اتّـصال"
    assert grade(frozen, {"": [marked]}) == 0.0
    relaxed = freeze({**spec, "ignore_diacritics": True}, language="ru")
    assert grade(relaxed, {"": [marked]}) == 1.0
    # Composed and decomposed forms of the same letter are equal (NFKC).
    assert TextRule().matches("й", ["и\u0306"])


def test_numeric_tolerance_borders_and_number_formats() -> None:
    frozen = freeze({"type": "numeric", "prompt": "Value?", "answer": 2.5, "tolerance": 0.1})
    assert grade(frozen, {"": ["2.5"]}) == 1.0
    assert grade(frozen, {"": ["2.6"]}) == 1.0  # border included, exactly (decimal arithmetic)
    assert grade(frozen, {"": ["2.4"]}) == 1.0
    assert grade(frozen, {"": ["2.6000001"]}) == 0.0
    assert grade(frozen, {"": ["2.3999"]}) == 0.0
    assert grade(frozen, {"": ["2,5"]}) == 1.0  # decimal comma
    assert grade(frozen, {"": ["٢٫٥"]}) == 1.0  # Arabic-Indic digits and separator
    assert grade(frozen, {"": ["two and a half"]}) == 0.0
    assert grade(frozen, {"": [""]}) == 0.0
    exact = freeze({"type": "numeric", "prompt": "Year?", "answer": 1951})
    assert grade(exact, {"": ["1951"]}) == 1.0
    assert grade(exact, {"": ["1 951"]}) == 1.0
    assert grade(exact, {"": ["1952"]}) == 0.0
    assert grade(exact, {"": ["NaN"]}) == 0.0
    assert parse_number("-0,25") == Decimal("-0.25")
    assert parse_number("Infinity") is None


def test_matching_partial_and_refusals() -> None:
    spec = {
        "type": "matching",
        "prompt": "Match",
        "pairs": [
            {"left": "Act", "right": "Recruitment"},
            {"left": "Means", "right": "Deception"},
            {"left": "Purpose", "right": "Exploitation"},
        ],
        "distractors": ["Payment"],
    }
    frozen = freeze(spec)
    options = frozen["view"]["options"]
    assert sorted(options) == ["Deception", "Exploitation", "Payment", "Recruitment"]
    right = {
        str(i): [str(options.index(r))] for i, r in enumerate(["Recruitment", "Deception", "Exploitation"])
    }
    assert grade(frozen, right) == 1.0
    assert grade(frozen, {**right, "2": [str(options.index("Payment"))]}) == pytest.approx(2 / 3)
    assert grade(frozen, {}) == 0.0
    qtype = question_type("matching")
    with pytest.raises(AnswerRejected):
        qtype.parse(frozen["view"], {"0": ["9"]})
    with pytest.raises(AnswerRejected):
        qtype.parse(frozen["view"], {"3": ["0"]})
    strict = freeze({**spec, "scoring": "all_or_nothing"})
    assert grade(strict, {**right, "2": [str(options.index("Payment"))]}) == 0.0


def test_ordering_is_always_shown_mixed_and_grades_positions() -> None:
    spec = {
        "type": "ordering",
        "prompt": "Order",
        "items": ["Direction", "Collection", "Analysis", "Feedback"],
    }
    for seed in range(20):
        frozen = freeze(spec, shuffle=False, seed=seed)
        items = frozen["view"]["items"]
        assert items != spec["items"]  # the written order is the answer: never shown as is
        right = {str(i): [str(spec["items"].index(item) + 1)] for i, item in enumerate(items)}
        assert grade(frozen, right) == 1.0
    wrong_two = dict(right)
    wrong_two["0"], wrong_two["1"] = right["1"], right["0"]
    assert grade(frozen, wrong_two) == pytest.approx(0.5)
    assert grade(frozen, {}) == 0.0
    with pytest.raises(AnswerRejected):
        question_type("ordering").parse(frozen["view"], {"0": ["5"]})
    assert question_type("ordering").correct_answer(frozen) == spec["items"]


def test_cloze_blanks_with_unicode() -> None:
    spec = {
        "type": "cloze",
        "text": {"en": "Risk is threat, [[1]] and [[2]].", "ru": "Риск — это угроза, [[1]] и [[2]]."},
        "blanks": [{"accept": {"en": ["vulnerability"], "ru": ["уязвимость"]}}, ["impact", "последствия"]],
    }
    frozen = freeze(spec, language="ru")
    assert [s.get("text") for s in frozen["view"]["segments"] if "text" in s] == [
        "Риск — это угроза, ",
        " и ",
        ".",
    ]
    assert grade(frozen, {"0": ["Уязвимость"], "1": ["ПОСЛЕДСТВИЯ"]}) == 1.0
    assert grade(frozen, {"0": ["vulnerability"], "1": [""]}) == 0.5
    assert grade(frozen, {}) == 0.0
    with pytest.raises(AnswerRejected):
        question_type("cloze").parse(frozen["view"], {"2": ["x"]})


@pytest.mark.parametrize(
    ("spec", "message"),
    [
        (
            {"type": "single_choice", "prompt": "P", "choices": [{"text": "a"}, {"text": "b"}]},
            "no choice is marked correct",
        ),
        (
            {
                "type": "single_choice",
                "prompt": "P",
                "choices": [{"text": "a", "correct": True}, {"text": "b", "correct": True}],
            },
            "exactly one",
        ),
        ({"type": "multiple_response", "prompt": "P", "choices": [{"text": "a"}]}, "at least two"),
        ({"type": "true_false", "prompt": "P"}, "answer: true"),
        ({"type": "short_text", "prompt": "P", "accept": []}, "no correct answer"),
        ({"type": "numeric", "prompt": "P"}, "no correct answer"),
        ({"type": "numeric", "prompt": "P", "answer": 1, "tolerance": -1}, "tolerance"),
        ({"type": "matching", "prompt": "P", "pairs": [{"left": "a", "right": "b"}]}, "no correct answer"),
        ({"type": "ordering", "prompt": "P", "items": ["a"]}, "no correct answer"),
        ({"type": "cloze", "text": "a [[1]] b [[3]]", "blanks": [["x"], ["y"]]}, "[[1]] to [[2]]"),
        ({"type": "cloze", "text": "a [[1]]", "blanks": [[]]}, "no correct answer"),
    ],
)
def test_authoring_checks(spec: dict[str, Any], message: str) -> None:
    problems = question_type(spec["type"]).check(spec)
    assert any(message in text for _, text in problems), problems


def test_regrading_replays_the_order_with_a_fixed_key() -> None:
    frozen = freeze(SINGLE, shuffle=True, seed=3)
    fixed = {**SINGLE, "choices": [{**c, "correct": c["text"] == "At sea"} for c in SINGLE["choices"]]}
    replay = (
        question_type("single_choice")
        .freeze(fixed, EN, Random(0), False, order=frozen["order"])  # noqa: S311  # a replay, nothing drawn
        .as_dict()
    )
    assert replay["view"] == frozen["view"]
    assert replay["solution"]["correct"] == [frozen["view"]["choices"].index("At sea")]


def test_grading_methods() -> None:
    assert quiz_grade([40.0, 80.0, 60.0], "highest") == 80.0
    assert quiz_grade([40.0, 80.0, 60.0], "last") == 60.0
    assert quiz_grade([40.0, 80.0, 60.0], "first") == 40.0
    assert quiz_grade([40.0, 80.0, 60.0], "average") == 60.0
    assert quiz_grade([], "highest") is None


def test_item_statistics_facility_and_discrimination() -> None:
    # Question 1 is answered right by the strong trainees only; question 2 by everyone.
    rows = [
        ItemRow(1, 1.0, 1.0, 3.0), ItemRow(2, 1.0, 1.0, 3.0), ItemRow(3, 1.0, 1.0, 3.0),
        ItemRow(1, 1.0, 1.0, 2.0), ItemRow(2, 1.0, 1.0, 2.0), ItemRow(3, 0.0, 0.0, 2.0),
        ItemRow(1, 0.0, 0.0, 1.0), ItemRow(2, 1.0, 1.0, 1.0), ItemRow(3, 0.0, 0.0, 1.0),
    ]  # fmt: skip
    stats = item_statistics(rows)
    assert stats[1].facility == pytest.approx(0.667, abs=1e-3)
    assert stats[2].facility == 1.0
    assert stats[2].discrimination is None  # no spread: everyone right
    assert stats[1].discrimination == pytest.approx(0.5)  # Pearson r with the rest of the attempt, by hand
    assert stats[3].discrimination == pytest.approx(0.5)
    reversed_rows = [ItemRow(9, 0.0, 0.0, 3.0), ItemRow(9, 0.0, 0.0, 2.0), ItemRow(9, 1.0, 1.0, 0.0)]
    assert (item_statistics(reversed_rows)[9].discrimination or 0) < -0.9
    assert item_statistics([]) == {}
