"""Question types where the trainee picks: single choice, multiple response, true/false."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from lms.quizzes.question_types import (
    AnswerRejected,
    AuthoringProblem,
    Grade,
    QuestionType,
    RawAnswer,
    check_suffixes,
    index_in_range,
    require_prompt,
    shown_order,
    single_value,
)
from lms.yaml_lines import line_of

# --- choice types ----------------------------------------------------------------------------------------


class _ChoiceType(QuestionType):
    def _choices(self, spec: Mapping[str, Any]) -> list[Mapping[str, Any]]:
        return [c for c in spec.get("choices") or [] if isinstance(c, Mapping)]

    def _keys(self, spec: Mapping[str, Any]) -> list[str]:
        return [str(c.get("id", index)) for index, c in enumerate(self._choices(spec))]

    def check(self, spec: Mapping[str, Any]) -> list[AuthoringProblem]:
        problems = require_prompt(spec)
        raw = spec.get("choices")
        if not isinstance(raw, list) or len(raw) < 2:
            return [*problems, (line_of(spec, "choices"), "a choice question needs at least two choices")]
        for choice in raw:
            if not isinstance(choice, Mapping) or not choice.get("text"):
                problems.append(
                    (line_of(choice, default=line_of(spec, "choices")), "each choice needs a 'text'")
                )
            elif "correct" in choice and not isinstance(choice["correct"], bool):
                problems.append((line_of(choice, "correct"), "'correct' must be true or false"))
        keys = self._keys(spec)
        if len(set(keys)) != len(keys):
            problems.append((line_of(spec, "choices"), "two choices have the same id"))
        correct = [c for c in self._choices(spec) if c.get("correct") is True]
        if not correct:
            problems.append((line_of(spec, "choices"), "no choice is marked correct: true"))
        return problems

    def freeze(self, spec, localise, rng, shuffle, order=None):
        choices = dict(zip(self._keys(spec), self._choices(spec), strict=True))
        shown = shown_order(list(choices), rng, shuffle, order)
        return self.freeze_common(
            spec,
            localise,
            shown,
            view={"choices": [localise(choices[key]["text"]) for key in shown]},
            solution={
                "correct": [i for i, key in enumerate(shown) if choices[key].get("correct") is True],
                "choice_feedback": [localise(choices[key].get("feedback") or "") for key in shown],
                **self._extra_solution(spec),
            },
        )

    def _extra_solution(self, spec: Mapping[str, Any]) -> dict[str, Any]:
        return {}

    def correct_answer(self, frozen: Mapping[str, Any]) -> list[str]:
        choices = frozen["view"]["choices"]
        return [choices[i] for i in frozen["solution"]["correct"]]

    def _choice_feedback(self, frozen: Mapping[str, Any], picked: Sequence[int]) -> list[str]:
        texts = frozen["solution"].get("choice_feedback") or []
        return [texts[i] for i in picked if i < len(texts) and texts[i]]


class SingleChoice(_ChoiceType):
    name = "single_choice"
    label = "Single choice"

    def check(self, spec: Mapping[str, Any]) -> list[AuthoringProblem]:
        problems = super().check(spec)
        if len([c for c in self._choices(spec) if c.get("correct") is True]) > 1:
            problems.append(
                (line_of(spec, "choices"), "a single-choice question has exactly one correct choice")
            )
        return problems

    def parse(self, view: Mapping[str, Any], raw: RawAnswer) -> int | None:
        check_suffixes(raw, {""})
        value = single_value(raw)
        return index_in_range(value, len(view["choices"])) if value else None

    def grade(self, frozen: Mapping[str, Any], answer: Any) -> Grade:
        if not isinstance(answer, int) or isinstance(answer, bool):
            return self.question_grade(frozen, 0.0, [])
        fraction = 1.0 if answer in frozen["solution"]["correct"] else 0.0
        return self.question_grade(frozen, fraction, self._choice_feedback(frozen, [answer]))


class MultipleResponse(_ChoiceType):
    """Partial credit: (right picks - wrong picks) / number of right choices, never below 0."""

    name = "multiple_response"
    label = "Multiple response"
    SCORING = ("partial", "all_or_nothing")

    def check(self, spec: Mapping[str, Any]) -> list[AuthoringProblem]:
        problems = super().check(spec)
        if spec.get("scoring", "partial") not in self.SCORING:
            problems.append((line_of(spec, "scoring"), f"scoring must be one of {', '.join(self.SCORING)}"))
        return problems

    def _extra_solution(self, spec: Mapping[str, Any]) -> dict[str, Any]:
        return {"scoring": spec.get("scoring", "partial")}

    def parse(self, view: Mapping[str, Any], raw: RawAnswer) -> list[int]:
        check_suffixes(raw, {""})
        size = len(view["choices"])
        return sorted({index_in_range(v, size) for v in raw.get("", []) if v != ""})

    def grade(self, frozen: Mapping[str, Any], answer: Any) -> Grade:
        picked = {a for a in answer if isinstance(a, int)} if isinstance(answer, list) else set()
        correct = set(frozen["solution"]["correct"])
        if frozen["solution"].get("scoring") == "all_or_nothing":
            fraction = 1.0 if picked == correct else 0.0
        else:
            fraction = max(0.0, (len(picked & correct) - len(picked - correct)) / len(correct))
        return self.question_grade(frozen, fraction, self._choice_feedback(frozen, sorted(picked)))


class TrueFalse(QuestionType):
    name = "true_false"
    label = "True or false"

    def check(self, spec: Mapping[str, Any]) -> list[AuthoringProblem]:
        problems = require_prompt(spec)
        if not isinstance(spec.get("answer"), bool):
            problems.append(
                (line_of(spec, "answer"), "a true/false question needs 'answer: true' or 'answer: false'")
            )
        return problems

    def freeze(self, spec, localise, rng, shuffle, order=None):
        return self.freeze_common(spec, localise, [], view={}, solution={"answer": spec["answer"]})

    def parse(self, view: Mapping[str, Any], raw: RawAnswer) -> bool | None:
        check_suffixes(raw, {""})
        value = single_value(raw)
        if value not in ("", "true", "false"):
            raise AnswerRejected("true or false only")
        return None if value == "" else value == "true"

    def grade(self, frozen: Mapping[str, Any], answer: Any) -> Grade:
        fraction = 1.0 if isinstance(answer, bool) and answer == frozen["solution"]["answer"] else 0.0
        return self.question_grade(frozen, fraction, [])

    def correct_answer(self, frozen: Mapping[str, Any]) -> list[str]:
        return ["true" if frozen["solution"]["answer"] else "false"]
