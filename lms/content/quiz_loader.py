"""Quiz and question-bank files -> plain specs, every problem named by file and line. No database here.

    courses/<slug>/banks/<bank-slug>.yml     title, questions (each with a stable `id`, `type`, `tags`)
    courses/<slug>/quizzes/<quiz-slug>.yml   settings and `questions`: inline questions, `question: <id>`
                                             (a bank question) or `draw: N` from `bank:` (optionally `tag:`)

Any text may be written once, or per language: `prompt: {en: "...", ru: "..."}` (see docs/quizzes.md).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import date, datetime
from pathlib import Path
from typing import Any, Protocol, TypeVar

import yaml
from pydantic import BaseModel

from lms.config import LANGUAGES
from lms.content.file_models import BankFile, BankQuestion, Question, QuizFile, validate_file
from lms.quizzes.grading import REGISTRY
from lms.yaml_lines import LineDict, line_of, load_yaml_with_lines

QUESTION_KEYS = set(Question.model_fields)
M = TypeVar("M", bound=BaseModel)


class ProblemSink(Protocol):
    def add(self, path: Path, line: int, message: str) -> None: ...


@dataclass
class QuestionSpec:
    key: str
    type: str
    points: float
    tags: list[str]
    spec: dict[str, Any]
    bank: str | None = None  # None: written inside a quiz


@dataclass
class BankSpec:
    slug: str
    title: str
    questions: list[QuestionSpec] = field(default_factory=list)


@dataclass
class SlotSpec:
    question: str | None = None  # a question's id
    bank: str | None = None
    tag: str | None = None
    draw: int = 1


@dataclass
class QuizSpec:
    slug: str
    title: str
    description: str
    translations: dict[str, dict[str, str]]
    role: str
    pass_mark: int
    attempts_allowed: int | None
    time_limit_minutes: int | None
    grading_method: str
    shuffle_questions: bool
    shuffle_choices: bool
    review: dict[str, str]
    closes_at: str | None
    slots: list[SlotSpec]
    questions: list[QuestionSpec]  # the ones written inside this quiz


def plain(value: Any) -> Any:
    """LineDict/LineStr -> dict/str, so specs hash and store as ordinary JSON."""
    if isinstance(value, Mapping):
        return {str(k): plain(v) for k, v in value.items()}
    if isinstance(value, list):
        return [plain(v) for v in value]
    if isinstance(value, str):
        return str(value)
    if isinstance(value, datetime | date):
        return value.isoformat()
    return value


def _is_localised(value: Any) -> bool:
    return isinstance(value, Mapping) and bool(value) and all(k in LANGUAGES for k in value)


class _FileReport:
    def __init__(self, sink: ProblemSink, path: Path, primary: str, seen: dict[str, str]) -> None:
        self.sink = sink
        self.path = path
        self.primary = primary
        self.seen = seen  # question id -> the file that first used it
        self.count = 0

    def add(self, line: int, message: str) -> None:
        self.count += 1
        self.sink.add(self.path, line, message)

    def check_languages(self, value: Any, line: int) -> None:
        """Every per-language text must have the course's own language; walk the whole value."""
        if _is_localised(value):
            if self.primary not in value:
                self.add(line_of(value, default=line), f"a text given per language lacks '{self.primary}'")
            return
        if isinstance(value, Mapping):
            for key, item in value.items():
                self.check_languages(item, line_of(value, key, line))
        elif isinstance(value, list):
            for item in value:
                self.check_languages(item, line_of(item, default=line))


def _load_yaml(path: Path, report: _FileReport) -> Any:
    try:
        text = path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as error:
        report.add(1, f"cannot be read ({error})")
        return None
    try:
        data = load_yaml_with_lines(text)
    except yaml.MarkedYAMLError as error:
        report.add(error.problem_mark.line + 1 if error.problem_mark else 1, f"invalid YAML: {error.problem}")
        return None
    except yaml.YAMLError as error:
        report.add(1, f"invalid YAML: {error}")
        return None
    if not isinstance(data, LineDict):
        report.add(1, "the file must be a mapping of keys to values")
        return None
    return data


def _text(value: Any, primary: str) -> str:
    if _is_localised(value):
        return str(value.get(primary) or "").strip()
    return str(value or "").strip()


def _validated(model: type[M], data: Any, report: _FileReport) -> M | None:
    found, problems = validate_file(model, data)
    for line, message in problems:
        report.add(line, message)
    return found


def _question(model: Question, raw: LineDict, report: _FileReport, bank: str | None) -> QuestionSpec | None:
    before = report.count
    if model.id in report.seen:
        report.add(
            line_of(raw, "id"),
            f"question id '{model.id}' is used twice in this course (also in {report.seen[model.id]})",
        )
    report.seen.setdefault(model.id, report.path.name)
    for problem_line, message in REGISTRY[model.type].check(raw):
        report.add(problem_line, f"question '{model.id}': {message}")
    report.check_languages(raw, raw.line)
    if report.count != before:
        return None
    tags = [str(t) for t in model.tags or []]
    return QuestionSpec(model.id, model.type, float(model.points), tags, plain(raw), bank=bank)


def load_bank(path: Path, sink: ProblemSink, primary: str, seen: dict[str, str]) -> BankSpec | None:
    report = _FileReport(sink, path, primary, seen)
    data = _load_yaml(path, report)
    model = _validated(BankFile, data, report) if data is not None else None
    if model is None:
        return None
    bank = BankSpec(slug=path.stem, title=_text(model.title, primary) or path.stem)
    for item, raw in zip(model.questions, data["questions"], strict=True):
        question = _question(item, raw, report, bank.slug)
        if question is not None:
            bank.questions.append(question)
    return bank


def load_quiz(
    path: Path, sink: ProblemSink, primary: str, seen: dict[str, str], banks: dict[str, BankSpec]
) -> QuizSpec | None:
    report = _FileReport(sink, path, primary, seen)
    data = _load_yaml(path, report)
    model = _validated(QuizFile, data, report) if data is not None else None
    if model is None:
        return None
    title = _text(model.title, primary)
    if not title:
        report.add(line_of(data, "title"), "'title' is required")
    report.check_languages({k: data[k] for k in ("title", "description") if k in data}, data.line)
    translations: dict[str, dict[str, str]] = {}
    for key in ("title", "description"):
        value = getattr(model, key)
        if isinstance(value, dict):
            for lang, text in value.items():
                if lang != primary and text.strip():
                    translations.setdefault(lang, {})[key] = text.strip()
    quiz = QuizSpec(
        slug=path.stem,
        title=title,
        description=_text(model.description, primary),
        translations=translations,
        role=model.role,
        pass_mark=int(model.pass_mark),
        attempts_allowed=model.attempts_allowed,
        time_limit_minutes=model.time_limit_minutes,
        grading_method=model.grading_method,
        shuffle_questions=model.shuffle_questions,
        shuffle_choices=model.shuffle_choices,
        review=model.review.model_dump(),
        closes_at=model.closes(),
        slots=[],
        questions=[],
    )
    all_questions = {q.key for b in banks.values() for q in b.questions}
    for entry, raw in zip(model.questions, data["questions"], strict=True):
        if isinstance(entry, Question):
            question = _question(entry, raw, report, None)
            if question is not None:
                quiz.questions.append(question)
                quiz.slots.append(SlotSpec(question=question.key))
        elif isinstance(entry, BankQuestion):
            if entry.question not in all_questions:
                report.add(line_of(raw, "question"), f"no bank question has the id '{entry.question}'")
            quiz.slots.append(SlotSpec(question=entry.question))
        else:
            if entry.bank not in banks:
                report.add(
                    line_of(raw, "bank"), f"draw needs the 'bank' it draws from; no bank '{entry.bank}'"
                )
            quiz.slots.append(SlotSpec(bank=entry.bank, tag=entry.tag, draw=entry.draw))
    _check_draws(quiz, report, banks, data["questions"])
    return quiz


def _check_draws(quiz: QuizSpec, report: _FileReport, banks: dict[str, BankSpec], items: list[Any]) -> None:
    fixed = {slot.question for slot in quiz.slots if slot.question}
    drawn: dict[tuple[str, str | None], int] = {}
    for slot, item in zip(quiz.slots, items, strict=False):
        if slot.question or slot.bank not in banks:
            continue
        assert slot.bank is not None  # noqa: S101  # checked just above; narrows the type
        pool = [
            q
            for q in banks[slot.bank].questions
            if (slot.tag is None or slot.tag in q.tags) and q.key not in fixed
        ]
        wanted = drawn.get((slot.bank, slot.tag), 0) + slot.draw
        drawn[(slot.bank, slot.tag)] = wanted
        if wanted > len(pool):
            where = f"tagged '{slot.tag}' " if slot.tag else ""
            report.add(
                line_of(item, "draw"),
                f"draws {wanted} questions {where}from bank '{slot.bank}', which holds only {len(pool)}",
            )


def load_assessments(
    folder: Path, sink: ProblemSink, primary: str, listed: Any, manifest: Path, listed_line: int
) -> tuple[list[BankSpec], list[QuizSpec]]:
    """Banks are discovered; quizzes follow the manifest's `quizzes:` order when it lists them."""
    seen: dict[str, str] = {}
    banks: dict[str, BankSpec] = {}
    for path in sorted((folder / "banks").glob("*.yml")):
        bank = load_bank(path, sink, primary, seen)
        if bank is not None:
            banks[bank.slug] = bank
    files = {p.stem: p for p in sorted((folder / "quizzes").glob("*.yml"))}
    order = list(files)
    if listed is not None:  # a list of text (checked by CourseFile)
        for slug in listed:
            if slug not in files:
                where = line_of(slug, default=listed_line)
                sink.add(manifest, where, f"quiz file quizzes/{slug}.yml does not exist")
        for slug in files:
            if slug not in listed:
                sink.add(files[slug], 1, "this quiz file is not listed under 'quizzes' in course.yml")
        order = [s for s in listed if s in files]
    quizzes: list[QuizSpec] = []
    finals: list[str] = []
    for slug in order:
        quiz = load_quiz(files[slug], sink, primary, seen, banks)
        if quiz is not None:
            quizzes.append(quiz)
            if quiz.role == "final":
                finals.append(slug)
                if len(finals) > 1:
                    sink.add(
                        files[slug], 1, f"a course has one final assessment; '{finals[0]}' is already final"
                    )
    return list(banks.values()), quizzes
