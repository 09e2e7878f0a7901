"""The draft of a course as a JSON document: exactly a CourseSpec, as plain dicts and lists. Pure.

Keeping the draft in the loader's own shape means one set of rules: the draft is exported with the exporter
and loaded with the loader before anything is published, exactly as a course folder would be.
"""

from __future__ import annotations

import copy
from dataclasses import asdict
from typing import Any

from lms.content.loader import CourseSpec, LessonSpec, LessonText, ModuleSpec
from lms.content.quiz_loader import BankSpec, QuestionSpec, QuizSpec, SlotSpec

Document = dict[str, Any]


def to_document(spec: CourseSpec) -> Document:
    document = copy.deepcopy(asdict(spec))
    for module in document["modules"]:  # packages are live, never drafted (lms/authoring/package_files.py)
        module.pop("packages", None)
    return document


def _lesson_text(data: dict[str, Any]) -> LessonText:
    return LessonText(
        title=data["title"],
        body_md=data.get("body_md", ""),
        minutes=data.get("minutes"),
        video_url=data.get("video_url"),
        transcript_md=data.get("transcript_md", ""),
    )


def _question(data: dict[str, Any]) -> QuestionSpec:
    return QuestionSpec(
        key=data["key"],
        type=data["type"],
        points=float(data.get("points", 1)),
        tags=list(data.get("tags") or []),
        spec=copy.deepcopy(data["spec"]),
        bank=data.get("bank"),
    )


def from_document(doc: Document) -> CourseSpec:
    data = copy.deepcopy(doc)
    return CourseSpec(
        slug=data["slug"],
        title=data["title"],
        summary=data.get("summary", ""),
        language=data.get("language", "en"),
        version=int(data.get("version", 1)),
        level=data.get("level"),
        credits=data.get("credits"),
        notional_hours=data.get("notional_hours"),
        delivery_mode=data.get("delivery_mode", "online"),
        lesson_completion=data.get("lesson_completion", "manual"),
        certificate_validity_months=data.get("certificate_validity_months"),
        learning_outcomes=list(data.get("learning_outcomes") or []),
        translations=dict(data.get("translations") or {}),
        modules=[
            ModuleSpec(
                slug=m["slug"],
                title=m["title"],
                translations=dict(m.get("translations") or {}),
                lessons=[
                    LessonSpec(
                        slug=lesson["slug"],
                        text=_lesson_text(lesson["text"]),
                        translations={
                            lang: _lesson_text(t) for lang, t in (lesson.get("translations") or {}).items()
                        },
                    )
                    for lesson in m.get("lessons") or []
                ],
            )
            for m in data.get("modules") or []
        ],
        banks=[
            BankSpec(
                slug=b["slug"], title=b["title"], questions=[_question(q) for q in b.get("questions") or []]
            )
            for b in data.get("banks") or []
        ],
        quizzes=[
            QuizSpec(
                slug=q["slug"],
                title=q["title"],
                description=q.get("description", ""),
                translations=dict(q.get("translations") or {}),
                role=q.get("role", "practice"),
                pass_mark=int(q.get("pass_mark", 70)),
                attempts_allowed=q.get("attempts_allowed"),
                time_limit_minutes=q.get("time_limit_minutes"),
                grading_method=q.get("grading_method", "highest"),
                shuffle_questions=bool(q.get("shuffle_questions", False)),
                shuffle_choices=bool(q.get("shuffle_choices", False)),
                review=dict(q.get("review") or {}),
                closes_at=q.get("closes_at"),
                slots=[SlotSpec(**s) for s in q.get("slots") or []],
                questions=[_question(x) for x in q.get("questions") or []],
            )
            for q in data.get("quizzes") or []
        ],
    )


def new_document(slug: str, title: str, language: str) -> Document:
    """A course that does not exist yet: no modules (the loader will ask for one before publishing)."""
    return to_document(
        CourseSpec(
            slug=slug,
            title=title,
            summary="",
            language=language,
            version=1,
            level=None,
            credits=None,
            notional_hours=None,
            delivery_mode="online",
            lesson_completion="manual",
            certificate_validity_months=None,
            learning_outcomes=[],
            translations={},
            modules=[],
        )
    )


def lesson_usage(doc: Document) -> dict[str, str]:
    """lesson slug -> module slug, for finding a lesson in the draft."""
    return {lesson["slug"]: module["slug"] for module in doc["modules"] for lesson in module["lessons"]}


def describe_changes(before: Document, after: Document) -> list[str]:
    """Plain-language list of what differs between two drafts (for stale-form messages and history)."""
    changes: list[str] = []
    for key in (
        "title",
        "summary",
        "language",
        "level",
        "credits",
        "notional_hours",
        "delivery_mode",
        "lesson_completion",
        "certificate_validity_months",
        "learning_outcomes",
        "translations",
    ):
        if before.get(key) != after.get(key):
            changes.append(f"course {key.replace('_', ' ')} changed")
    old_modules = {m["slug"]: m for m in before.get("modules", [])}
    new_modules = {m["slug"]: m for m in after.get("modules", [])}
    for slug in new_modules.keys() - old_modules.keys():
        changes.append(f"module '{slug}' added")
    for slug in old_modules.keys() - new_modules.keys():
        changes.append(f"module '{slug}' removed")
    if [s for s in old_modules if s in new_modules] != [s for s in new_modules if s in old_modules]:
        changes.append("modules reordered")
    old_lessons = {ls["slug"]: ls for m in before.get("modules", []) for ls in m["lessons"]}
    new_lessons = {ls["slug"]: ls for m in after.get("modules", []) for ls in m["lessons"]}
    for slug in sorted(new_lessons.keys() - old_lessons.keys()):
        changes.append(f"lesson '{slug}' added")
    for slug in sorted(old_lessons.keys() - new_lessons.keys()):
        changes.append(f"lesson '{slug}' removed")
    for slug in sorted(new_lessons.keys() & old_lessons.keys()):
        if new_lessons[slug] != old_lessons[slug]:
            changes.append(f"lesson '{slug}' edited")
    for slug, module in new_modules.items():
        old = old_modules.get(slug)
        if old is not None and (
            old["title"] != module["title"] or old.get("translations") != module.get("translations")
        ):
            changes.append(f"module '{slug}' renamed")
        old_order = [ls["slug"] for ls in old["lessons"]] if old is not None else []
        new_order = [ls["slug"] for ls in module["lessons"]]
        if old is not None and old_order != new_order and set(old_order) == set(new_order):
            changes.append(f"lessons of module '{slug}' reordered")
    for kind in ("banks", "quizzes"):
        old_items = {x["slug"]: x for x in before.get(kind, [])}
        new_items = {x["slug"]: x for x in after.get(kind, [])}
        label = "bank" if kind == "banks" else "quiz"
        for slug in sorted(new_items.keys() - old_items.keys()):
            changes.append(f"{label} '{slug}' added")
        for slug in sorted(old_items.keys() - new_items.keys()):
            changes.append(f"{label} '{slug}' removed")
        for slug in sorted(new_items.keys() & old_items.keys()):
            if new_items[slug] != old_items[slug]:
                changes.append(f"{label} '{slug}' edited")
    return changes
