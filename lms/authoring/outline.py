"""Edits of a draft's outline: the course's metadata, its modules and lessons.

Each function changes the draft's document in place and raises ValidationFailed on a refused edit.
"""

from __future__ import annotations

from typing import Any

from flask_babel import gettext as _

from lms.authoring.document import Document
from lms.content.loader import SLUG_PATTERN
from lms.errors import NotFound, ValidationFailed

# --- edits of the document (called inside edit_draft) --------------------------------------------------


def refused(message: str) -> ValidationFailed:
    return ValidationFailed(message)


def find_module(doc: Document, slug: str) -> dict[str, Any]:
    module = next((m for m in doc["modules"] if m["slug"] == slug), None)
    if module is None:
        raise NotFound(_("No module %(slug)s in this course.", slug=slug))
    return module


def find_lesson(doc: Document, slug: str) -> tuple[dict[str, Any], dict[str, Any]]:
    for module in doc["modules"]:
        for lesson in module["lessons"]:
            if lesson["slug"] == slug:
                return module, lesson
    raise NotFound(_("No lesson %(slug)s in this course.", slug=slug))


def check_slug(slug: str) -> None:
    if not SLUG_PATTERN.match(slug):
        raise refused(_("The short name may hold only lowercase letters, digits and hyphens."))


def add_module(doc: Document, slug: str, title: str) -> None:
    check_slug(slug)
    if any(m["slug"] == slug for m in doc["modules"]):
        raise refused(_("A module with the short name %(slug)s already exists.", slug=slug))
    doc["modules"].append({"slug": slug, "title": title, "translations": {}, "lessons": []})


def rename_module(doc: Document, slug: str, title: str) -> None:
    find_module(doc, slug)["title"] = title


def move_item(items: list[Any], index: int, direction: str) -> None:
    target = index - 1 if direction == "up" else index + 1
    if 0 <= target < len(items):
        items[index], items[target] = items[target], items[index]


def move_module(doc: Document, slug: str, direction: str) -> None:
    index = next((i for i, m in enumerate(doc["modules"]) if m["slug"] == slug), None)
    if index is None:
        raise NotFound(_("No module %(slug)s in this course.", slug=slug))
    move_item(doc["modules"], index, direction)


def delete_module(doc: Document, slug: str) -> None:
    find_module(doc, slug)
    doc["modules"] = [m for m in doc["modules"] if m["slug"] != slug]


def add_lesson(doc: Document, module_slug: str, slug: str, title: str) -> None:
    check_slug(slug)
    module = find_module(doc, module_slug)
    if any(lesson["slug"] == slug for m in doc["modules"] for lesson in m["lessons"]):
        raise refused(_("A lesson with the short name %(slug)s already exists in this course.", slug=slug))
    text = {"title": title, "body_md": "", "minutes": None, "video_url": None, "transcript_md": ""}
    module["lessons"].append({"slug": slug, "text": text, "translations": {}})


def update_lesson(doc: Document, slug: str, values: dict[str, Any]) -> None:
    _module, lesson = find_lesson(doc, slug)
    lesson["text"].update(values)


def move_lesson(doc: Document, slug: str, direction: str) -> None:
    module, lesson = find_lesson(doc, slug)
    move_item(module["lessons"], module["lessons"].index(lesson), direction)


def delete_lesson(doc: Document, slug: str) -> None:
    module, lesson = find_lesson(doc, slug)
    module["lessons"].remove(lesson)


def update_metadata(doc: Document, values: dict[str, Any]) -> None:
    doc.update(values)
