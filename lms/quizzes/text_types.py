"""Question types where the trainee types one answer: short text and numeric."""

from __future__ import annotations

from collections.abc import Mapping
from decimal import Decimal
from typing import Any

from lms.quizzes.question_types import (
    AuthoringProblem,
    Grade,
    QuestionType,
    RawAnswer,
    check_suffixes,
    require_prompt,
    single_value,
)
from lms.quizzes.text_rules import TextRule, accepted_texts, check_text_rule, parse_number
from lms.yaml_lines import line_of


class ShortText(QuestionType):
    name = "short_text"
    label = "Short text"

    def check(self, spec: Mapping[str, Any]) -> list[AuthoringProblem]:
        problems = require_prompt(spec) + check_text_rule(spec)
        if not accepted_texts(spec.get("accept")):
            problems.append(
                (line_of(spec, "accept"), "no correct answer: list the accepted answers under 'accept'")
            )
        return problems

    def freeze(self, spec, localise, rng, shuffle, order=None):
        rule = TextRule.from_spec(spec)
        solution = {"accept": accepted_texts(spec.get("accept")), **rule.__dict__}
        return self.freeze_common(spec, localise, [], view={}, solution=solution)

    def parse(self, view: Mapping[str, Any], raw: RawAnswer) -> str:
        check_suffixes(raw, {""})
        return single_value(raw)[:500]

    def grade(self, frozen: Mapping[str, Any], answer: Any) -> Grade:
        solution = frozen["solution"]
        ok = isinstance(answer, str) and TextRule.from_spec(solution).matches(answer, solution["accept"])
        return self.question_grade(frozen, 1.0 if ok else 0.0, [])

    def correct_answer(self, frozen: Mapping[str, Any]) -> list[str]:
        return list(frozen["solution"]["accept"][:1])


class Numeric(QuestionType):
    """Right when |given - answer| <= tolerance, borders included; exact decimal arithmetic."""

    name = "numeric"
    label = "Number"

    def check(self, spec: Mapping[str, Any]) -> list[AuthoringProblem]:
        problems = require_prompt(spec)
        answer = spec.get("answer")
        if (
            isinstance(answer, bool)
            or not isinstance(answer, int | float | str)
            or parse_number(str(answer)) is None
        ):
            problems.append(
                (line_of(spec, "answer"), "no correct answer: a numeric question needs 'answer: <number>'")
            )
        tolerance = spec.get("tolerance", 0)
        number = None if isinstance(tolerance, bool) else parse_number(str(tolerance))
        if number is None or number < 0:
            problems.append((line_of(spec, "tolerance"), "tolerance must be a number of 0 or more"))
        return problems

    def freeze(self, spec, localise, rng, shuffle, order=None):
        solution = {"answer": str(spec["answer"]), "tolerance": str(spec.get("tolerance", 0))}
        view = {"unit": localise(spec.get("unit") or "")}
        return self.freeze_common(spec, localise, [], view=view, solution=solution)

    def parse(self, view: Mapping[str, Any], raw: RawAnswer) -> str:
        check_suffixes(raw, {""})
        return single_value(raw)[:50]

    def grade(self, frozen: Mapping[str, Any], answer: Any) -> Grade:
        given = parse_number(answer) if isinstance(answer, str) else None
        target = parse_number(frozen["solution"]["answer"])
        tolerance = parse_number(frozen["solution"]["tolerance"]) or Decimal(0)
        ok = given is not None and target is not None and abs(given - target) <= tolerance
        return self.question_grade(frozen, 1.0 if ok else 0.0, [])

    def correct_answer(self, frozen: Mapping[str, Any]) -> list[str]:
        solution = frozen["solution"]
        tolerance = parse_number(solution["tolerance"]) or Decimal(0)
        unit = f" {frozen['view'].get('unit')}" if frozen["view"].get("unit") else ""
        return [f"{solution['answer']}{unit}" + (f" (± {tolerance})" if tolerance else "")]
