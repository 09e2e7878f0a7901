"""Question types with several parts, each scored: matching, ordering and cloze (gaps in a text)."""

from __future__ import annotations

import re
from collections.abc import Mapping
from random import Random
from typing import Any

from lms.quizzes.question_types import (
    AnswerRejected,
    AuthoringProblem,
    Grade,
    QuestionType,
    RawAnswer,
    check_suffixes,
    index_in_range,
    is_small_number,
    require_prompt,
    shown_order,
    single_value,
)
from lms.quizzes.text_rules import TextRule, accepted_texts, check_text_rule
from lms.yaml_lines import line_of

CLOZE_MARKER = re.compile(r"\[\[(\d+)\]\]")


# --- structured answers ----------------------------------------------------------------------------------


class _PartsType(QuestionType):
    SCORING = ("partial", "all_or_nothing")

    def check_scoring(self, spec: Mapping[str, Any]) -> list[AuthoringProblem]:
        if spec.get("scoring", "partial") not in self.SCORING:
            return [(line_of(spec, "scoring"), f"scoring must be one of {', '.join(self.SCORING)}")]
        return []

    def parts_fraction(self, frozen: Mapping[str, Any], right: int, total: int) -> float:
        if total == 0:
            return 0.0
        if frozen["solution"].get("scoring") == "all_or_nothing":
            return 1.0 if right == total else 0.0
        return right / total


class Matching(_PartsType):
    """Each left item gets one of the right items (plus distractors) from a list."""

    name = "matching"
    label = "Matching"

    def check(self, spec: Mapping[str, Any]) -> list[AuthoringProblem]:
        problems = require_prompt(spec) + self.check_scoring(spec)
        pairs = spec.get("pairs")
        if not isinstance(pairs, list) or len(pairs) < 2:
            return [
                *problems,
                (line_of(spec, "pairs"), "no correct answer: a matching question needs at least two pairs"),
            ]
        for pair in pairs:
            if not isinstance(pair, Mapping) or not pair.get("left") or not pair.get("right"):
                problems.append(
                    (line_of(pair, default=line_of(spec, "pairs")), "each pair needs 'left' and 'right'")
                )
        return problems

    def freeze(self, spec, localise, rng, shuffle, order=None):
        pairs = list(spec["pairs"])
        rights = [localise(p["right"]) for p in pairs] + [localise(d) for d in spec.get("distractors") or []]
        keys = [str(i) for i in range(len(pairs))]
        shown = shown_order(keys, rng, shuffle, order)
        options = sorted(set(rights), key=rights.index)
        option_order = list(options)
        rng_for_options = Random("|".join(shown))  # noqa: S311  # presentation only; replayable
        rng_for_options.shuffle(option_order)  # the list of answers is always mixed
        return self.freeze_common(
            spec,
            localise,
            shown,
            view={"lefts": [localise(pairs[int(k)]["left"]) for k in shown], "options": option_order},
            solution={
                "pairs": [option_order.index(localise(pairs[int(k)]["right"])) for k in shown],
                "scoring": spec.get("scoring", "partial"),
            },
        )

    def parse(self, view: Mapping[str, Any], raw: RawAnswer) -> list[int | None]:
        size = len(view["lefts"])
        check_suffixes(raw, {str(i) for i in range(size)})
        result: list[int | None] = []
        for i in range(size):
            value = single_value(raw, str(i))
            result.append(index_in_range(value, len(view["options"])) if value else None)
        return result

    def grade(self, frozen: Mapping[str, Any], answer: Any) -> Grade:
        expected = frozen["solution"]["pairs"]
        given = answer if isinstance(answer, list) else []
        right = sum(1 for i, want in enumerate(expected) if i < len(given) and given[i] == want)
        return self.question_grade(frozen, self.parts_fraction(frozen, right, len(expected)), [])

    def correct_answer(self, frozen: Mapping[str, Any]) -> list[str]:
        options = frozen["view"]["options"]
        return [
            f"{left} → {options[i]}"
            for left, i in zip(frozen["view"]["lefts"], frozen["solution"]["pairs"], strict=True)
        ]


class Ordering(_PartsType):
    """Items written in the right order; always shown mixed (in the written order they would give it away)."""

    name = "ordering"
    label = "Ordering"

    def check(self, spec: Mapping[str, Any]) -> list[AuthoringProblem]:
        problems = require_prompt(spec) + self.check_scoring(spec)
        items = spec.get("items")
        if not isinstance(items, list) or len(items) < 2:
            problems.append(
                (line_of(spec, "items"), "no correct answer: list at least two 'items' in the right order")
            )
        return problems

    def freeze(self, spec, localise, rng, shuffle, order=None):
        items = list(spec["items"])
        keys = [str(i) for i in range(len(items))]
        if order is None:
            shown = list(keys)
            while shown == keys:
                rng.shuffle(shown)
        else:
            shown = shown_order(keys, rng, True, order)
        return self.freeze_common(
            spec,
            localise,
            shown,
            view={"items": [localise(items[int(k)]) for k in shown]},
            solution={"positions": [int(k) + 1 for k in shown], "scoring": spec.get("scoring", "partial")},
        )

    def parse(self, view: Mapping[str, Any], raw: RawAnswer) -> list[int | None]:
        size = len(view["items"])
        check_suffixes(raw, {str(i) for i in range(size)})
        result: list[int | None] = []
        for i in range(size):
            value = single_value(raw, str(i))
            if value and (not is_small_number(value) or not 1 <= int(value) <= size):
                raise AnswerRejected(f"position '{value}' is out of range")
            result.append(int(value) if value else None)
        return result

    def grade(self, frozen: Mapping[str, Any], answer: Any) -> Grade:
        expected = frozen["solution"]["positions"]
        given = answer if isinstance(answer, list) else []
        right = sum(1 for i, want in enumerate(expected) if i < len(given) and given[i] == want)
        return self.question_grade(frozen, self.parts_fraction(frozen, right, len(expected)), [])

    def correct_answer(self, frozen: Mapping[str, Any]) -> list[str]:
        items = frozen["view"]["items"]
        positions = frozen["solution"]["positions"]
        return [item for _, item in sorted(zip(positions, items, strict=True))]


class Cloze(_PartsType):
    """Text with gaps marked [[1]], [[2]]...; each gap lists its accepted answers."""

    name = "cloze"
    label = "Fill in the blanks"

    def check(self, spec: Mapping[str, Any]) -> list[AuthoringProblem]:
        problems = self.check_scoring(spec) + check_text_rule(spec)
        text = spec.get("text")
        blanks = spec.get("blanks")
        if not text:
            return [
                *problems,
                (line_of(spec), "a cloze question needs 'text' with gaps marked [[1]], [[2]]..."),
            ]
        if not isinstance(blanks, list) or not blanks:
            return [
                *problems,
                (line_of(spec, "blanks"), "no correct answer: list the accepted answers under 'blanks'"),
            ]
        variants = text.values() if isinstance(text, Mapping) else [text]
        for variant in variants:
            markers = [int(n) for n in CLOZE_MARKER.findall(str(variant))]
            if sorted(markers) != list(range(1, len(blanks) + 1)):
                problems.append(
                    (line_of(spec, "text"), f"the text must mark gaps [[1]] to [[{len(blanks)}]] once each")
                )
        for blank in blanks:
            if not accepted_texts(blank.get("accept") if isinstance(blank, Mapping) else blank):
                problems.append(
                    (line_of(blank, default=line_of(spec, "blanks")), "no correct answer for a gap")
                )
        return problems

    def freeze(self, spec, localise, rng, shuffle, order=None):
        text = localise(spec["text"])
        segments: list[dict[str, Any]] = []
        position = 0
        for match in CLOZE_MARKER.finditer(text):
            segments.append({"text": text[position : match.start()]})
            segments.append({"blank": int(match.group(1)) - 1})
            position = match.end()
        segments.append({"text": text[position:]})
        blanks = [accepted_texts(b.get("accept") if isinstance(b, Mapping) else b) for b in spec["blanks"]]
        rule = TextRule.from_spec(spec)
        return self.freeze_common(
            spec,
            localise,
            [],
            view={"segments": segments, "blank_count": len(blanks)},
            solution={"blanks": blanks, "scoring": spec.get("scoring", "partial"), **rule.__dict__},
        )

    def parse(self, view: Mapping[str, Any], raw: RawAnswer) -> list[str]:
        size = int(view["blank_count"])
        check_suffixes(raw, {str(i) for i in range(size)})
        return [single_value(raw, str(i))[:200] for i in range(size)]

    def grade(self, frozen: Mapping[str, Any], answer: Any) -> Grade:
        solution = frozen["solution"]
        rule = TextRule.from_spec(solution)
        given = answer if isinstance(answer, list) else []
        right = sum(
            1
            for i, accepted in enumerate(solution["blanks"])
            if i < len(given) and isinstance(given[i], str) and rule.matches(given[i], accepted)
        )
        return self.question_grade(frozen, self.parts_fraction(frozen, right, len(solution["blanks"])), [])

    def correct_answer(self, frozen: Mapping[str, Any]) -> list[str]:
        return [accepted[0] for accepted in frozen["solution"]["blanks"]]
