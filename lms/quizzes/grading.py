"""Question types: how a question is checked when written, frozen into an attempt, read from a form, graded.

Pure logic over plain values (no app, no database). Each type is one class registered in ``REGISTRY`` plus
one template ``templates/quizzes/types/<name>.html``; nothing else in the code names a type.

A *frozen* question is what an attempt keeps (``FrozenQuestion.as_dict``)::

    {"type": ..., "points": 1.0, "order": [source keys in shown order],
     "view": {... what the trainee is shown: texts only ...},
     "solution": {... the grading key, never sent to the browser ...},
     "feedback": {"correct": ..., "incorrect": ..., "general": ...}}

Answers are plain JSON values made by ``parse`` from the posted form values of one question: a mapping of
field suffix ("" for the question's own field, "0", "1"... for its parts) to the list of posted strings.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from decimal import Decimal, InvalidOperation
from random import Random
from typing import Any, ClassVar

from lms.config import LANGUAGES
from lms.yaml_lines import line_of

Localise = Callable[[Any], str]
RawAnswer = Mapping[str, Sequence[str]]
AuthoringProblem = tuple[int, str]

CLOZE_MARKER = re.compile(r"\[\[(\d+)\]\]")


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


LANGUAGE_CODES = LANGUAGES  # the academy's languages (lms.config)


def make_localiser(language: str, primary: str) -> Localise:
    """Texts are written once or per language ({en: ..., ru: ...}); fall back to the course's own language."""

    def localise(value: Any) -> str:
        if isinstance(value, Mapping) and value and all(k in LANGUAGE_CODES for k in value):
            chosen = value.get(language) or value.get(primary) or next(iter(value.values()))
            return str(chosen or "")
        return "" if value is None else str(value)

    return localise


# --- registry --------------------------------------------------------------------------------------------


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


REGISTRY: dict[str, QuestionType] = {}


def register(cls: type[QuestionType]) -> type[QuestionType]:
    REGISTRY[cls.name] = cls()
    return cls


def question_type(name: str) -> QuestionType:
    try:
        return REGISTRY[name]
    except KeyError:
        raise KeyError(f"unknown question type '{name}'") from None


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


def _require_prompt(spec: Mapping[str, Any]) -> list[AuthoringProblem]:
    if not spec.get("prompt"):
        return [(line_of(spec), "the question needs a 'prompt'")]
    return []


# --- choice types ----------------------------------------------------------------------------------------


class _ChoiceType(QuestionType):
    def _choices(self, spec: Mapping[str, Any]) -> list[Mapping[str, Any]]:
        return [c for c in spec.get("choices") or [] if isinstance(c, Mapping)]

    def _keys(self, spec: Mapping[str, Any]) -> list[str]:
        return [str(c.get("id", index)) for index, c in enumerate(self._choices(spec))]

    def check(self, spec: Mapping[str, Any]) -> list[AuthoringProblem]:
        problems = _require_prompt(spec)
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


@register
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


@register
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


@register
class TrueFalse(QuestionType):
    name = "true_false"
    label = "True or false"

    def check(self, spec: Mapping[str, Any]) -> list[AuthoringProblem]:
        problems = _require_prompt(spec)
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


# --- typed answers ---------------------------------------------------------------------------------------


def check_text_rule(spec: Mapping[str, Any]) -> list[AuthoringProblem]:
    problems: list[AuthoringProblem] = []
    if spec.get("whitespace", "collapse") not in WHITESPACE_RULES:
        problems.append(
            (line_of(spec, "whitespace"), f"whitespace must be one of {', '.join(WHITESPACE_RULES)}")
        )
    return problems


@register
class ShortText(QuestionType):
    name = "short_text"
    label = "Short text"

    def check(self, spec: Mapping[str, Any]) -> list[AuthoringProblem]:
        problems = _require_prompt(spec) + check_text_rule(spec)
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


@register
class Numeric(QuestionType):
    """Right when |given - answer| <= tolerance, borders included; exact decimal arithmetic."""

    name = "numeric"
    label = "Number"

    def check(self, spec: Mapping[str, Any]) -> list[AuthoringProblem]:
        problems = _require_prompt(spec)
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


@register
class Matching(_PartsType):
    """Each left item gets one of the right items (plus distractors) from a list."""

    name = "matching"
    label = "Matching"

    def check(self, spec: Mapping[str, Any]) -> list[AuthoringProblem]:
        problems = _require_prompt(spec) + self.check_scoring(spec)
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


@register
class Ordering(_PartsType):
    """Items written in the right order; always shown mixed (in the written order they would give it away)."""

    name = "ordering"
    label = "Ordering"

    def check(self, spec: Mapping[str, Any]) -> list[AuthoringProblem]:
        problems = _require_prompt(spec) + self.check_scoring(spec)
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


@register
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


# --- quiz-level arithmetic -------------------------------------------------------------------------------

GRADING_METHODS = ("highest", "last", "average", "first")


def quiz_grade(percents_in_attempt_order: Sequence[float], method: str) -> float | None:
    """The trainee's result for a quiz from their submitted attempts' percentages (oldest first)."""
    if not percents_in_attempt_order:
        return None
    if method == "last":
        return percents_in_attempt_order[-1]
    if method == "first":
        return percents_in_attempt_order[0]
    if method == "average":
        return sum(percents_in_attempt_order) / len(percents_in_attempt_order)
    return max(percents_in_attempt_order)


def percent(score: float, max_score: float) -> float:
    return round(score * 100 / max_score, 2) if max_score > 0 else 0.0


def is_answered(answer: Any) -> bool:
    """Whether a saved answer holds anything the trainee gave (the quiz page's question navigator):
    a choice, a non-blank text, or at least one part of a question with parts."""
    if answer is None:
        return False
    if isinstance(answer, str):
        return bool(answer.strip())
    if isinstance(answer, list | tuple):
        return any(is_answered(part) for part in answer)
    return True
