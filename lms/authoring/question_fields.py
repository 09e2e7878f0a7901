"""A question as simple form fields <-> its spec (the mapping written in a bank or quiz file). Pure.

Trainers are not developers: each type is edited with plain text areas, one entry per line.

    choices      one per line; a line starting with "*" is a correct choice
    accept       one accepted answer per line (short text)
    pairs        "left = right", one pair per line (matching); distractors one per line
    items        one per line, in the right order (ordering)
    blanks       one line per gap [[1]], [[2]]...: accepted answers separated by "|" (cloze)

A question whose texts are written per language (`{en: ..., ru: ...}`) or that uses options these fields do
not carry is edited as YAML instead (`yaml_only`), with the same checks.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

import yaml

from lms.content.quiz_loader import QUESTION_KEYS, plain
from lms.quizzes.grading import REGISTRY
from lms.quizzes.question_types import LANGUAGE_CODES
from lms.yaml_lines import LineDict, load_yaml_with_lines

CHOICE_TYPES = ("single_choice", "multiple_response")
SIMPLE_KEYS = {
    "id",
    "type",
    "points",
    "tags",
    "prompt",
    "feedback",
    "choices",
    "scoring",
    "answer",
    "tolerance",
    "unit",
    "accept",
    "case_sensitive",
    "pairs",
    "distractors",
    "items",
    "text",
    "blanks",
}


@dataclass
class QuestionFields:
    key: str = ""
    type: str = "single_choice"
    points: str = "1"
    tags: str = ""
    prompt: str = ""
    feedback: str = ""
    choices: str = ""
    scoring: str = "partial"
    answer: str = ""  # true/false, or the number
    tolerance: str = ""
    unit: str = ""
    accept: str = ""
    case_sensitive: bool = False
    pairs: str = ""
    distractors: str = ""
    items: str = ""
    text: str = ""
    blanks: str = ""


@dataclass
class FieldProblems:
    by_field: dict[str, list[str]] = field(default_factory=dict)

    def add(self, name: str, message: str) -> None:
        self.by_field.setdefault(name, []).append(message)

    def __bool__(self) -> bool:
        return bool(self.by_field)

    def messages(self) -> list[str]:
        return [m for messages in self.by_field.values() for m in messages]


def _localised(value: Any) -> bool:
    if isinstance(value, Mapping):
        if value and all(k in LANGUAGE_CODES for k in value):
            return True
        return any(_localised(v) for v in value.values())
    if isinstance(value, list):
        return any(_localised(v) for v in value)
    return False


def yaml_only(spec: Mapping[str, Any]) -> bool:
    """True when the simple fields cannot carry this question without losing something."""
    if _localised(spec) or set(spec) - SIMPLE_KEYS:
        return True
    feedback = spec.get("feedback")
    if feedback is not None and not isinstance(feedback, str):
        return True
    for choice in spec.get("choices") or []:
        if not isinstance(choice, Mapping) or set(choice) - {"text", "correct"}:
            return True
    return any(isinstance(blank, Mapping) and set(blank) - {"accept"} for blank in spec.get("blanks") or [])


def _lines(text: str) -> list[str]:
    return [line.strip() for line in text.replace("\r\n", "\n").split("\n") if line.strip()]


def _number(text: str) -> int | float | None:
    try:
        value = float(text.replace(",", "."))
    except ValueError:
        return None
    return int(value) if value.is_integer() and "." not in text and "," not in text else value


def fields_from_spec(spec: Mapping[str, Any]) -> QuestionFields:
    qtype = str(spec.get("type", "single_choice"))
    fields = QuestionFields(
        key=str(spec.get("id", "")),
        type=qtype,
        points=str(spec.get("points", 1)),
        tags=", ".join(str(t) for t in spec.get("tags") or []),
        prompt=str(spec.get("prompt") or ""),
        feedback=str(spec.get("feedback") or ""),
        scoring=str(spec.get("scoring", "partial")),
        unit=str(spec.get("unit") or ""),
        case_sensitive=bool(spec.get("case_sensitive", False)),
        text=str(spec.get("text") or ""),
    )
    fields.choices = "\n".join(
        ("* " if c.get("correct") else "") + str(c.get("text", "")) for c in spec.get("choices") or []
    )
    if qtype == "true_false":
        fields.answer = (
            "true" if spec.get("answer") is True else "false" if spec.get("answer") is False else ""
        )
    elif "answer" in spec:
        fields.answer = str(spec["answer"])
    if "tolerance" in spec:
        fields.tolerance = str(spec["tolerance"])
    fields.accept = "\n".join(str(a) for a in spec.get("accept") or [])
    fields.pairs = "\n".join(f"{p.get('left', '')} = {p.get('right', '')}" for p in spec.get("pairs") or [])
    fields.distractors = "\n".join(str(d) for d in spec.get("distractors") or [])
    fields.items = "\n".join(str(i) for i in spec.get("items") or [])
    fields.blanks = "\n".join(
        " | ".join(str(a) for a in (b.get("accept") if isinstance(b, Mapping) else b) or [])
        for b in spec.get("blanks") or []
    )
    return fields


def spec_from_fields(fields: QuestionFields) -> tuple[dict[str, Any], FieldProblems]:
    """The question's spec, and the problems to show beside each field (empty when it is sound)."""
    problems = FieldProblems()
    spec: dict[str, Any] = {"id": fields.key.strip(), "type": fields.type}
    if fields.type not in REGISTRY:
        problems.add("type", f"unknown question type '{fields.type}'")
        return spec, problems
    points = _number(fields.points.strip() or "1")
    if points is None or points <= 0:
        problems.add("points", "points must be a number above 0")
    elif points != 1:
        spec["points"] = points
    tags = [t.strip() for t in fields.tags.split(",") if t.strip()]
    if tags:
        spec["tags"] = tags
    if fields.type != "cloze" or fields.prompt.strip():
        spec["prompt"] = fields.prompt.strip()
    qtype = fields.type
    if qtype in CHOICE_TYPES:
        if qtype == "multiple_response":
            spec["scoring"] = fields.scoring or "partial"
        choices: list[dict[str, Any]] = []
        for line in _lines(fields.choices):
            correct = line.startswith("*")
            text = line.lstrip("*").strip()
            choices.append({"text": text, "correct": True} if correct else {"text": text})
        texts = [str(c["text"]).casefold() for c in choices]
        duplicates = sorted({t for t in texts if texts.count(t) > 1})
        if duplicates:
            problems.add("choices", f"duplicate choices: {', '.join(duplicates)}")
        spec["choices"] = choices
    elif qtype == "true_false":
        if fields.answer in ("true", "false"):
            spec["answer"] = fields.answer == "true"
        else:
            problems.add("answer", "no correct answer: choose true or false")
    elif qtype == "numeric":
        number = _number(fields.answer.strip()) if fields.answer.strip() else None
        if number is None:
            problems.add("answer", "no correct answer: give the number")
        else:
            spec["answer"] = number
        if fields.tolerance.strip():
            tolerance = _number(fields.tolerance.strip())
            if tolerance is None or tolerance < 0:
                problems.add("tolerance", "tolerance must be a number of 0 or more")
            else:
                spec["tolerance"] = tolerance
        if fields.unit.strip():
            spec["unit"] = fields.unit.strip()
    elif qtype == "short_text":
        spec["accept"] = _lines(fields.accept)
        if fields.case_sensitive:
            spec["case_sensitive"] = True
    elif qtype == "matching":
        spec["scoring"] = fields.scoring or "partial"
        pairs = []
        for line in _lines(fields.pairs):
            left, sep, right = line.partition("=")
            if not sep or not left.strip() or not right.strip():
                problems.add("pairs", f"'{line}': write each pair as 'left = right'")
                continue
            pairs.append({"left": left.strip(), "right": right.strip()})
        spec["pairs"] = pairs
        distractors = _lines(fields.distractors)
        if distractors:
            spec["distractors"] = distractors
    elif qtype == "ordering":
        spec["scoring"] = fields.scoring or "partial"
        spec["items"] = _lines(fields.items)
    elif qtype == "cloze":
        spec["scoring"] = fields.scoring or "partial"
        spec["text"] = fields.text.strip()
        spec["blanks"] = [
            {"accept": [a.strip() for a in line.split("|") if a.strip()]} for line in _lines(fields.blanks)
        ]
    if fields.feedback.strip():
        spec["feedback"] = fields.feedback.strip()
    check_spec(spec, problems)
    return spec, problems


FIELD_OF_KEY = {
    "choices": "choices",
    "accept": "accept",
    "answer": "answer",
    "tolerance": "tolerance",
    "pairs": "pairs",
    "items": "items",
    "text": "text",
    "blanks": "blanks",
    "prompt": "prompt",
    "scoring": "scoring",
}


def check_spec(spec: Mapping[str, Any], problems: FieldProblems) -> None:
    """The registry's own authoring checks, the same ones the file loader runs."""
    if not str(spec.get("id") or "").strip():
        problems.add("key", "each question needs a stable id (letters, digits, hyphens)")
    qtype = REGISTRY.get(str(spec.get("type")))
    if qtype is None:
        problems.add("type", f"unknown question type '{spec.get('type')}'")
        return
    already = set(problems.by_field)  # a field the form already explained is not explained twice
    for _line, message in qtype.check(spec):
        name = next((f for key, f in FIELD_OF_KEY.items() if key in message), "prompt")
        if "prompt" in message:
            name = "prompt"
        elif "correct" in message and qtype.name in CHOICE_TYPES:
            name = "choices"
        if name not in already:
            problems.add(name, message)


def spec_from_yaml(text: str) -> tuple[dict[str, Any], FieldProblems]:
    """The advanced editor: the question exactly as written in a file."""
    problems = FieldProblems()
    try:
        raw = load_yaml_with_lines(text)
    except yaml.YAMLError as error:
        problems.add("source", f"invalid YAML: {error}")
        return {}, problems
    if not isinstance(raw, LineDict):
        problems.add("source", "the question must be a mapping (id, type, prompt...)")
        return {}, problems
    for name in raw:
        if name not in QUESTION_KEYS:
            problems.add("source", f"unknown question key '{name}'")
    spec = plain(raw)
    check_spec(raw, problems)
    return spec, problems
