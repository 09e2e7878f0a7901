"""Question types: how a question is checked when written, frozen into an attempt, read from a form, graded.

Pure logic over plain values (no app, no database). This module holds what every type shares: the
``QuestionType`` base class, the frozen question, the grade and the answer helpers. The types live in one
module per family (``choice_types``, ``text_types``, ``part_types``) and are registered in
``lms.quizzes.grading.REGISTRY``; each has one template ``templates/quizzes/types/<name>.html``; nothing
else in the code names a type.

A *frozen* question is what an attempt keeps (``FrozenQuestion.as_dict``)::

    {"type": ..., "points": 1.0, "order": [source keys in shown order],
     "view": {... what the trainee is shown: texts only ...},
     "solution": {... the grading key, never sent to the browser ...},
     "feedback": {"correct": ..., "incorrect": ..., "general": ...}}

Answers are plain JSON values made by ``parse`` from the posted form values of one question: a mapping of
field suffix ("" for the question's own field, "0", "1"... for its parts) to the list of posted strings.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from random import Random
from typing import Any, ClassVar

from lms.config import LANGUAGES
from lms.yaml_lines import line_of

Localise = Callable[[Any], str]
RawAnswer = Mapping[str, Sequence[str]]
AuthoringProblem = tuple[int, str]


class AnswerRejected(ValueError):
    """The posted values cannot be an answer to this question (e.g. a choice that was never shown)."""


@dataclass(frozen=True)
class Grade:
    fraction: float  # 0..1 of the question's points
    feedback: list[str] = field(default_factory=list)

    @property
    def correct(self) -> bool:
        return self.fraction >= 1.0


@dataclass(frozen=True)
class FrozenQuestion:
    type: str
    points: float
    order: list[str]
    view: dict[str, Any]
    solution: dict[str, Any]
    feedback: dict[str, str]

    def as_dict(self) -> dict[str, Any]:
        return {
            "type": self.type,
            "points": self.points,
            "order": self.order,
            "view": self.view,
            "solution": self.solution,
            "feedback": self.feedback,
        }


LANGUAGE_CODES = LANGUAGES  # the academy's languages (lms.config)


def make_localiser(language: str, primary: str) -> Localise:
    """Texts are written once or per language ({en: ..., ru: ...}); fall back to the course's own language."""

    def localise(value: Any) -> str:
        if isinstance(value, Mapping) and value and all(k in LANGUAGE_CODES for k in value):
            chosen = value.get(language) or value.get(primary) or next(iter(value.values()))
            return str(chosen or "")
        return "" if value is None else str(value)

    return localise


# --- the base class -----------------------------------------------------------------------------------------


class QuestionType:
    name: ClassVar[str]
    label: ClassVar[str]

    @property
    def template(self) -> str:
        return f"quizzes/types/{self.name}.html"

    # Authoring ---------------------------------------------------------------------------------------------
    def check(self, spec: Mapping[str, Any]) -> list[AuthoringProblem]:
        """Problems of a question as written in a file, each with its line."""
        raise NotImplementedError

    # Attempt -----------------------------------------------------------------------------------------------
    def freeze(
        self,
        spec: Mapping[str, Any],
        localise: Localise,
        rng: Random,
        shuffle: bool,
        order: Sequence[str] | None = None,
    ) -> FrozenQuestion:
        """What an attempt keeps; ``order`` replays an earlier freeze (regrading keeps the shown order)."""
        raise NotImplementedError

    def parse(self, view: Mapping[str, Any], raw: RawAnswer) -> Any:
        raise NotImplementedError

    def grade(self, frozen: Mapping[str, Any], answer: Any) -> Grade:
        raise NotImplementedError

    def correct_answer(self, frozen: Mapping[str, Any]) -> list[str]:
        """The right answer in words, for a review that may show it."""
        raise NotImplementedError

    # Shared helpers ----------------------------------------------------------------------------------------
    def freeze_common(
        self,
        spec: Mapping[str, Any],
        localise: Localise,
        order: list[str],
        view: dict[str, Any],
        solution: dict[str, Any],
    ) -> FrozenQuestion:
        view = {"prompt": localise(spec.get("prompt", "")), **view}
        return FrozenQuestion(
            type=self.name,
            points=float(spec.get("points", 1)),
            order=order,
            view=view,
            solution=solution,
            feedback=question_feedback(spec.get("feedback"), localise),
        )

    def question_grade(self, frozen: Mapping[str, Any], fraction: float, extra: list[str]) -> Grade:
        texts = frozen.get("feedback") or {}
        feedback = list(extra)
        verdict = texts.get("correct") if fraction >= 1.0 else texts.get("incorrect")
        if verdict:
            feedback.append(verdict)
        if texts.get("general"):
            feedback.append(texts["general"])
        return Grade(fraction=max(0.0, min(1.0, fraction)), feedback=feedback)


def question_feedback(raw: Any, localise: Localise) -> dict[str, str]:
    if raw is None:
        return {}
    if isinstance(raw, Mapping) and set(raw) <= {"correct", "incorrect", "general"}:
        return {key: localise(value) for key, value in raw.items() if value}
    return {"general": localise(raw)}


def single_value(raw: RawAnswer, suffix: str = "") -> str:
    values = [v for v in raw.get(suffix, []) if v != ""]
    if len(values) > 1:
        raise AnswerRejected("more than one value for a single answer")
    return values[0] if values else ""


def is_small_number(value: str) -> bool:
    """Plain ASCII digits, few enough for an option's index or position ("²".isdigit() is true but
    int("²") fails; int() refuses thousands of digits)."""
    return value.isascii() and value.isdigit() and len(value) <= 6


def index_in_range(value: str, size: int) -> int:
    if not is_small_number(value) or int(value) >= size:
        raise AnswerRejected(f"'{value}' is not one of the options shown")
    return int(value)


def check_suffixes(raw: RawAnswer, allowed: set[str]) -> None:
    unknown = set(raw) - allowed
    if unknown:
        raise AnswerRejected(f"answer parts not in this question: {', '.join(sorted(unknown))}")


def shown_order(keys: list[str], rng: Random, shuffle: bool, order: Sequence[str] | None) -> list[str]:
    if order is not None:
        if sorted(order) != sorted(keys):
            raise ValueError("the question's parts changed since the attempt was made")
        return list(order)
    result = list(keys)
    if shuffle:
        rng.shuffle(result)
    return result


def require_prompt(spec: Mapping[str, Any]) -> list[AuthoringProblem]:
    if not spec.get("prompt"):
        return [(line_of(spec), "the question needs a 'prompt'")]
    return []
