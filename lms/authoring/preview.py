""" "Preview as trainee" for a draft quiz: draw and freeze as an attempt would, grade without recording. Pure.

The same seed gives the same draw and order, so the page that shows the questions and the one that grades
the answers agree without storing anything.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from random import Random
from typing import Any

from lms.quizzes.grading import percent, question_type
from lms.quizzes.question_types import AnswerRejected, FrozenQuestion, make_localiser


@dataclass
class PreviewItem:
    position: int
    key: str
    frozen: FrozenQuestion
    answer: Any = None
    fraction: float | None = None
    feedback: list[str] = field(default_factory=list)
    rejected: str | None = None

    @property
    def name(self) -> str:
        return f"q{self.position}"

    @property
    def score(self) -> float | None:
        return None if self.fraction is None else self.fraction * self.frozen.points


def _questions_of(
    document: Mapping[str, Any], quiz: Mapping[str, Any], rng: Random
) -> list[Mapping[str, Any]]:
    by_key = {q["key"]: q for b in document.get("banks", []) for q in b["questions"]}
    by_key.update({q["key"]: q for q in quiz.get("questions", [])})
    fixed = [s["question"] for s in quiz["slots"] if s.get("question")]
    chosen: list[Mapping[str, Any]] = []
    taken: set[str] = set(fixed)
    for slot in quiz["slots"]:
        if slot.get("question"):
            if slot["question"] in by_key:
                chosen.append(by_key[slot["question"]])
            continue
        bank = next((b for b in document.get("banks", []) if b["slug"] == slot.get("bank")), None)
        if bank is None:
            continue
        pool = [
            q
            for q in bank["questions"]
            if q["key"] not in taken and (not slot.get("tag") or slot["tag"] in q["tags"])
        ]
        picked = rng.sample(pool, min(int(slot.get("draw") or 1), len(pool)))
        taken.update(q["key"] for q in picked)
        chosen.extend(picked)
    return chosen


def freeze_preview(
    document: Mapping[str, Any], quiz_slug: str, seed: int, language: str
) -> list[PreviewItem]:
    quiz = next(q for q in document["quizzes"] if q["slug"] == quiz_slug)
    rng = Random(seed)  # noqa: S311  # shuffling for a preview, not secrecy
    questions = _questions_of(document, quiz, rng)
    if quiz.get("shuffle_questions"):
        rng.shuffle(questions)
    localise = make_localiser(language, str(document.get("language", "en")))
    return [
        PreviewItem(
            position=position,
            key=question["key"],
            frozen=question_type(question["type"]).freeze(
                question["spec"], localise, rng, bool(quiz.get("shuffle_choices"))
            ),
        )
        for position, question in enumerate(questions, start=1)
    ]


def grade_preview(
    items: Sequence[PreviewItem], raw: Mapping[int, Mapping[str, Sequence[str]]]
) -> tuple[float, float]:
    """Grade each item from the posted answers; (score, percent). Nothing is stored anywhere."""
    score = 0.0
    for item in items:
        qtype = question_type(item.frozen.type)
        frozen = item.frozen.as_dict()
        try:
            item.answer = qtype.parse(frozen["view"], raw.get(item.position, {}))
        except AnswerRejected as error:
            item.rejected = str(error)
            item.answer = None
        grade = qtype.grade(frozen, item.answer)
        item.fraction = grade.fraction
        item.feedback = list(grade.feedback)
        score += grade.fraction * item.frozen.points
    total = sum(item.frozen.points for item in items)
    return score, percent(score, total)
