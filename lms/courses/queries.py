"""Read side of courses: catalogue, outlines, lesson order."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

from sqlalchemy import ColumnElement, func, select
from sqlalchemy.orm import selectinload

from lms.courses.models import Course, Lesson, Module
from lms.extensions import db


@dataclass(frozen=True)
class CatalogueEntry:
    course: Course
    lesson_count: int
    module_count: int


def catalogue(search: str | None = None) -> list[CatalogueEntry]:
    query = select(Course).where(Course.is_published.is_(True)).order_by(Course.title)
    if search:
        pattern = f"%{search.strip()}%"
        query = query.where(Course.title.ilike(pattern) | Course.summary.ilike(pattern))
    courses = db.session.scalars(query).all()
    counts = published_counts([c.id for c in courses])
    return [
        CatalogueEntry(course=c, lesson_count=counts[c.id][1], module_count=counts[c.id][0]) for c in courses
    ]


def published_counts(course_ids: Iterable[int]) -> dict[int, tuple[int, int]]:
    """course id -> (published modules, published lessons), in one query."""
    ids = list(course_ids)
    result: dict[int, tuple[int, int]] = defaultdict(lambda: (0, 0))
    if not ids:
        return result
    rows = db.session.execute(
        select(Module.course_id, func.count(func.distinct(Module.id)), func.count(Lesson.id))
        .join(Lesson, (Lesson.module_id == Module.id) & Lesson.is_published.is_(True), isouter=True)
        .where(Module.course_id.in_(ids), Module.is_published.is_(True))
        .group_by(Module.course_id)
    ).all()
    for course_id, modules, lessons in rows:
        result[course_id] = (modules, lessons)
    return result


def course_by_slug(slug: str, *, with_outline: bool = True) -> Course | None:
    """The published course; ``with_outline`` also loads its modules, lessons and their translations
    (pages that only need the course row, or that read the outline from lms.courses.published, skip it)."""
    query = select(Course).where(Course.slug == slug, Course.is_published.is_(True))
    if with_outline:
        query = query.options(
            selectinload(Course.modules).selectinload(Module.lessons).selectinload(Lesson.translations)
        )
    return db.session.scalar(query)


def published_outline(course: Course) -> list[tuple[Module, list[Lesson]]]:
    return [
        (module, [lesson for lesson in module.lessons if lesson.is_published])
        for module in course.modules
        if module.is_published
    ]


def published_reading_order() -> tuple[tuple[ColumnElement[bool], ...], tuple[ColumnElement[Any], ...]]:
    """Which lessons a course's progress counts (a published lesson of a published module) and their
    reading order, on the tables: for every statement that lists them (here, and the completion check's
    lessons-with-completions in lms.enrolment.completion)."""
    lesson, module = Lesson.__table__, Module.__table__
    return (
        (module.c.is_published.is_(True), lesson.c.is_published.is_(True)),
        (module.c.position, lesson.c.position),
    )


def ordered_lesson_ids(course_ids: Iterable[int]) -> dict[int, list[int]]:
    """course id -> its published lesson ids in reading order, in one query."""
    ids = list(course_ids)
    result: dict[int, list[int]] = {course_id: [] for course_id in ids}
    if not ids:
        return result
    counted, order = published_reading_order()
    rows = db.session.execute(
        select(Module.course_id, Lesson.id)
        .join(Lesson, Lesson.module_id == Module.id)
        .where(Module.course_id.in_(ids), *counted)
        .order_by(Module.course_id, *order)
    ).all()
    for course_id, lesson_id in rows:
        result[course_id].append(lesson_id)
    return result
