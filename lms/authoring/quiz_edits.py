"""Edits of a draft's quizzes, question banks, questions and quiz slots.

Each function changes the draft's document in place and raises ValidationFailed on a refused edit.
"""

from __future__ import annotations

from typing import Any

from flask_babel import gettext as _

from lms.authoring.document import Document
from lms.authoring.outline import check_slug, move_item, refused
from lms.errors import NotFound


def find_quiz(doc: Document, slug: str) -> dict[str, Any]:
    quiz = next((q for q in doc["quizzes"] if q["slug"] == slug), None)
    if quiz is None:
        raise NotFound(_("No quiz %(slug)s in this course.", slug=slug))
    return quiz


def find_bank(doc: Document, slug: str) -> dict[str, Any]:
    bank = next((b for b in doc["banks"] if b["slug"] == slug), None)
    if bank is None:
        raise NotFound(_("No question bank %(slug)s in this course.", slug=slug))
    return bank


def add_quiz(doc: Document, slug: str, title: str) -> None:
    check_slug(slug)
    if any(q["slug"] == slug for q in doc["quizzes"]):
        raise refused(_("A quiz with the short name %(slug)s already exists.", slug=slug))
    doc["quizzes"].append(
        {
            "slug": slug,
            "title": title,
            "description": "",
            "translations": {},
            "role": "practice",
            "pass_mark": 70,
            "attempts_allowed": None,
            "time_limit_minutes": None,
            "grading_method": "highest",
            "shuffle_questions": False,
            "shuffle_choices": False,
            "review": {"answers": "immediately", "correct_answers": "after_close", "feedback": "immediately"},
            "closes_at": None,
            "slots": [],
            "questions": [],
        }
    )


def update_quiz(doc: Document, slug: str, values: dict[str, Any]) -> None:
    quiz = find_quiz(doc, slug)
    if values.get("role") == "final" and any(
        q["role"] == "final" and q["slug"] != slug for q in doc["quizzes"]
    ):
        raise refused(_("A course has one final assessment, and another quiz already is the final one."))
    quiz.update(values)


def delete_quiz(doc: Document, slug: str) -> None:
    find_quiz(doc, slug)
    doc["quizzes"] = [q for q in doc["quizzes"] if q["slug"] != slug]


def add_bank(doc: Document, slug: str, title: str) -> None:
    check_slug(slug)
    if any(b["slug"] == slug for b in doc["banks"]):
        raise refused(_("A question bank with the short name %(slug)s already exists.", slug=slug))
    doc["banks"].append({"slug": slug, "title": title, "questions": []})
    doc["banks"].sort(key=lambda b: b["slug"])  # the loader discovers banks in file-name order


def delete_bank(doc: Document, slug: str) -> None:
    find_bank(doc, slug)
    for quiz in doc["quizzes"]:
        if any(s.get("bank") == slug for s in quiz["slots"]):
            raise refused(_("Quiz %(quiz)s draws from this bank: remove that draw first.", quiz=quiz["slug"]))
    doc["banks"] = [b for b in doc["banks"] if b["slug"] != slug]


def all_question_keys(doc: Document) -> set[str]:
    keys = {q["key"] for b in doc["banks"] for q in b["questions"]}
    return keys | {q["key"] for quiz in doc["quizzes"] for q in quiz["questions"]}


def question_entry(spec: dict[str, Any], bank: str | None) -> dict[str, Any]:
    return {
        "key": str(spec["id"]),
        "type": str(spec["type"]),
        "points": float(spec.get("points", 1)),
        "tags": [str(t) for t in spec.get("tags") or []],
        "spec": spec,
        "bank": bank,
    }


def save_question(
    doc: Document, where: str, slug: str, original_key: str | None, spec: dict[str, Any]
) -> None:
    """Add (original_key None) or replace a question of a quiz (`where`="quiz") or a bank."""
    key = str(spec["id"])
    if key != original_key and key in all_question_keys(doc):
        raise refused(_("The question id %(key)s is already used in this course.", key=key))
    container = find_quiz(doc, slug) if where == "quiz" else find_bank(doc, slug)
    entry = question_entry(spec, None if where == "quiz" else slug)
    questions = container["questions"]
    if original_key is None:
        questions.append(entry)
        if where == "quiz":
            container["slots"].append({"question": key, "bank": None, "tag": None, "draw": 1})
        return
    index = next((i for i, q in enumerate(questions) if q["key"] == original_key), None)
    if index is None:
        raise NotFound(_("No question %(key)s here.", key=original_key))
    questions[index] = entry
    for quiz in doc["quizzes"]:
        for slot in quiz["slots"]:
            if slot.get("question") == original_key:
                slot["question"] = key


def delete_question(doc: Document, where: str, slug: str, key: str) -> None:
    container = find_quiz(doc, slug) if where == "quiz" else find_bank(doc, slug)
    container["questions"] = [q for q in container["questions"] if q["key"] != key]
    for quiz in doc["quizzes"]:
        quiz["slots"] = [s for s in quiz["slots"] if s.get("question") != key]


def add_draw(doc: Document, quiz_slug: str, bank: str, tag: str | None, count: int) -> None:
    find_bank(doc, bank)
    find_quiz(doc, quiz_slug)["slots"].append(
        {"question": None, "bank": bank, "tag": tag or None, "draw": count}
    )


def add_bank_question_to_quiz(doc: Document, quiz_slug: str, key: str) -> None:
    if key not in {q["key"] for b in doc["banks"] for q in b["questions"]}:
        raise NotFound(_("No bank question %(key)s.", key=key))
    find_quiz(doc, quiz_slug)["slots"].append({"question": key, "bank": None, "tag": None, "draw": 1})


def remove_slot(doc: Document, quiz_slug: str, index: int) -> None:
    quiz = find_quiz(doc, quiz_slug)
    if not 0 <= index < len(quiz["slots"]):
        raise NotFound(_("No such entry in this quiz."))
    slot = quiz["slots"].pop(index)
    if slot.get("question"):
        quiz["questions"] = [q for q in quiz["questions"] if q["key"] != slot["question"]]


def move_slot(doc: Document, quiz_slug: str, index: int, direction: str) -> None:
    quiz = find_quiz(doc, quiz_slug)
    if not 0 <= index < len(quiz["slots"]):
        raise NotFound(_("No such entry in this quiz."))
    move_item(quiz["slots"], index, direction)
