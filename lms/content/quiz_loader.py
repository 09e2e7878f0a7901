"""Quiz and question-bank files -> plain specs, every problem named by file and line. No database here.

    courses/<slug>/banks/<bank-slug>.yml     title, questions (each with a stable `id`, `type`, `tags`)
    courses/<slug>/quizzes/<quiz-slug>.yml   settings and `questions`: inline questions, `question: <id>`
                                             (a bank question) or `draw: N` from `bank:` (optionally `tag:`)

Any text may be written once, or per language: `prompt: {en: "...", ru: "..."}` (see docs/quizzes.md).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any, Protocol

import yaml

from lms.config import LANGUAGES
from lms.content.yaml_lines import LineDict, line_of, load_yaml_with_lines
from lms.quizzes.grading import GRADING_METHODS, REGISTRY

QUIZ_ROLES = ("practice", "pre_test", "post_test", "final")
REVIEW_PARTS = ("answers", "correct_answers", "feedback")
REVIEW_WHEN = ("never", "immediately", "after_close")
DEFAULT_REVIEW = {"answers": "immediately", "correct_answers": "after_close", "feedback": "immediately"}
QUIZ_KEYS = {
    "title", "description", "role", "pass_mark", "attempts_allowed", "time_limit_minutes", "grading_method",
    "shuffle_questions", "shuffle_choices", "review", "closes_at", "questions",
}  # fmt: skip
QUESTION_KEYS = {
    "id", "type", "points", "tags", "prompt", "choices", "feedback", "scoring", "answer", "tolerance", "unit",
    "accept", "case_sensitive", "whitespace", "ignore_diacritics", "pairs", "distractors", "items", "text",
    "blanks",
}  # fmt: skip


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
    def __init__(self, sink: ProblemSink, path: Path, primary: str) -> None:
        self.sink = sink
        self.path = path
        self.primary = primary
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


def _question(raw: Any, report: _FileReport, bank: str | None, seen: dict[str, str]) -> QuestionSpec | None:
    line = line_of(raw, default=1)
    if not isinstance(raw, LineDict):
        report.add(line, "each question must be a mapping (id, type, prompt...)")
        return None
    key = raw.get("id")
    if not isinstance(key, str) or not key.strip():
        report.add(line, "each question needs a stable 'id' (text), so edits keep its history")
        key = ""
    elif key in seen:
        report.add(
            line_of(raw, "id"), f"question id '{key}' is used twice in this course (also in {seen[key]})"
        )
    else:
        seen[key] = report.path.name
    for name in raw:
        if name not in QUESTION_KEYS:
            report.add(line_of(raw, name), f"unknown question key '{name}'")
    type_name = raw.get("type")
    qtype = REGISTRY.get(str(type_name)) if type_name is not None else None
    if qtype is None:
        known = ", ".join(sorted(REGISTRY))
        report.add(line_of(raw, "type"), f"unknown question type '{type_name}' (known: {known})")
        return None
    points = raw.get("points", 1)
    if isinstance(points, bool) or not isinstance(points, int | float) or points <= 0:
        report.add(line_of(raw, "points"), "points must be a number above 0")
        points = 1
    tags = raw.get("tags") or []
    if not isinstance(tags, list) or not all(isinstance(t, str) for t in tags):
        report.add(line_of(raw, "tags"), "tags must be a list of words")
        tags = []
    before = report.count
    for problem_line, message in qtype.check(raw):
        report.add(problem_line, f"question '{key}': {message}")
    report.check_languages(raw, line)
    if report.count != before:
        return None
    return QuestionSpec(
        key=str(key),
        type=str(type_name),
        points=float(points),
        tags=[str(t) for t in tags],
        spec=plain(raw),
        bank=bank,
    )


def load_bank(path: Path, sink: ProblemSink, primary: str, seen: dict[str, str]) -> BankSpec | None:
    report = _FileReport(sink, path, primary)
    data = _load_yaml(path, report)
    if data is None:
        return None
    for name in data:
        if name not in {"title", "questions"}:
            report.add(line_of(data, name), f"unknown bank key '{name}'")
    bank = BankSpec(slug=path.stem, title=_text(data.get("title"), primary) or path.stem)
    raw = data.get("questions")
    if not isinstance(raw, list) or not raw:
        report.add(line_of(data, "questions"), "a bank must list at least one question")
        return bank
    for item in raw:
        question = _question(item, report, bank.slug, seen)
        if question is not None:
            bank.questions.append(question)
    return bank


def _whole(
    data: LineDict, key: str, report: _FileReport, low: int, high: int | None, message: str
) -> int | None:
    value = data.get(key)
    if value is None:
        return None
    if (
        isinstance(value, bool)
        or not isinstance(value, int)
        or value < low
        or (high is not None and value > high)
    ):
        report.add(line_of(data, key), message)
        return None
    return value


def load_quiz(
    path: Path, sink: ProblemSink, primary: str, seen: dict[str, str], banks: dict[str, BankSpec]
) -> QuizSpec | None:
    report = _FileReport(sink, path, primary)
    data = _load_yaml(path, report)
    if data is None:
        return None
    for name in data:
        if name not in QUIZ_KEYS:
            report.add(line_of(data, name), f"unknown quiz key '{name}'")
    title = _text(data.get("title"), primary)
    if not title:
        report.add(line_of(data, "title"), "'title' is required")
    report.check_languages({k: data[k] for k in ("title", "description") if k in data}, data.line)
    translations: dict[str, dict[str, str]] = {}
    for key in ("title", "description"):
        value = data.get(key)
        if _is_localised(value):
            for lang, text in value.items():
                if lang != primary and str(text).strip():
                    translations.setdefault(lang, {})[key] = str(text).strip()
    role = data.get("role", "practice")
    if role not in QUIZ_ROLES:
        report.add(line_of(data, "role"), f"role must be one of {', '.join(QUIZ_ROLES)}")
    pass_mark = data.get("pass_mark", 70)
    if isinstance(pass_mark, bool) or not isinstance(pass_mark, int | float) or not 0 <= pass_mark <= 100:
        report.add(
            line_of(data, "pass_mark"),
            f"pass mark {pass_mark} is out of range: give a percentage from 0 to 100",
        )
        pass_mark = 70
    attempts = _whole(
        data,
        "attempts_allowed",
        report,
        1,
        None,
        "attempts_allowed must be 1 or more (leave it out for no limit)",
    )
    minutes = _whole(
        data, "time_limit_minutes", report, 1, 24 * 60, "time_limit_minutes must be from 1 to 1440"
    )
    method = data.get("grading_method", "highest")
    if method not in GRADING_METHODS:
        report.add(
            line_of(data, "grading_method"), f"grading_method must be one of {', '.join(GRADING_METHODS)}"
        )
    for flag in ("shuffle_questions", "shuffle_choices"):
        if flag in data and not isinstance(data[flag], bool):
            report.add(line_of(data, flag), f"{flag} must be true or false")
    review = dict(DEFAULT_REVIEW)
    raw_review = data.get("review")
    if raw_review is not None:
        if not isinstance(raw_review, LineDict):
            report.add(
                line_of(data, "review"), f"review maps {', '.join(REVIEW_PARTS)} to when they are shown"
            )
        else:
            for part, when in raw_review.items():
                if part not in REVIEW_PARTS:
                    report.add(
                        line_of(raw_review, part), f"unknown review part '{part}' ({', '.join(REVIEW_PARTS)})"
                    )
                elif when not in REVIEW_WHEN:
                    report.add(
                        line_of(raw_review, part), f"review {part} must be one of {', '.join(REVIEW_WHEN)}"
                    )
                else:
                    review[part] = str(when)
    closes_at = data.get("closes_at")
    closes: str | None = None
    if closes_at is not None:
        if isinstance(closes_at, datetime):
            closes = (closes_at if closes_at.tzinfo else closes_at.replace(tzinfo=UTC)).isoformat()
        elif isinstance(closes_at, date):
            closes = datetime(closes_at.year, closes_at.month, closes_at.day, tzinfo=UTC).isoformat()
        else:
            report.add(line_of(data, "closes_at"), "closes_at must be a date (2026-12-31) or a date and time")

    quiz = QuizSpec(
        slug=path.stem,
        title=title,
        description=_text(data.get("description"), primary),
        translations=translations,
        role=str(role),
        pass_mark=int(pass_mark),
        attempts_allowed=attempts,
        time_limit_minutes=minutes,
        grading_method=str(method),
        shuffle_questions=bool(data.get("shuffle_questions", False)),
        shuffle_choices=bool(data.get("shuffle_choices", False)),
        review=review,
        closes_at=closes,
        slots=[],
        questions=[],
    )
    items = data.get("questions")
    if not isinstance(items, list) or not items:
        report.add(line_of(data, "questions"), "a quiz must list at least one question")
        return quiz
    all_questions = {q.key: q for b in banks.values() for q in b.questions}
    for item in items:
        line = line_of(item, default=line_of(data, "questions"))
        if isinstance(item, LineDict) and "type" in item:
            question = _question(item, report, None, seen)
            if question is not None:
                quiz.questions.append(question)
                quiz.slots.append(SlotSpec(question=question.key))
        elif isinstance(item, LineDict) and "question" in item:
            key = str(item["question"])
            if key not in all_questions:
                report.add(line_of(item, "question"), f"no bank question has the id '{key}'")
            quiz.slots.append(SlotSpec(question=key))
        elif isinstance(item, LineDict) and "draw" in item:
            quiz.slots.append(_draw_slot(item, report, banks))
        else:
            report.add(
                line, "each entry is a question (with 'type'), 'question: <id>' or 'draw: N' from a 'bank'"
            )
    _check_draws(quiz, report, banks, items)
    return quiz


def _draw_slot(item: LineDict, report: _FileReport, banks: dict[str, BankSpec]) -> SlotSpec:
    for name in item:
        if name not in {"draw", "bank", "tag"}:
            report.add(line_of(item, name), f"unknown key '{name}' in a draw (draw, bank, tag)")
    count = item.get("draw")
    if isinstance(count, bool) or not isinstance(count, int) or count < 1:
        report.add(line_of(item, "draw"), "draw must be a whole number of 1 or more")
        count = 1
    bank = item.get("bank")
    if not isinstance(bank, str) or bank not in banks:
        report.add(
            line_of(item, "bank", line_of(item)), f"draw needs the 'bank' it draws from; no bank '{bank}'"
        )
    tag = item.get("tag")
    return SlotSpec(bank=str(bank) if bank else None, tag=str(tag) if tag else None, draw=count)


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
    if listed is not None:
        if not isinstance(listed, list) or not all(isinstance(s, str) for s in listed):
            sink.add(manifest, listed_line, "'quizzes' must list quiz slugs (files in quizzes/)")
        else:
            for slug in listed:
                if slug not in files:
                    sink.add(
                        manifest,
                        line_of(slug, default=listed_line),
                        f"quiz file quizzes/{slug}.yml does not exist",
                    )
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
