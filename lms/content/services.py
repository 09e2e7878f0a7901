"""Create or update courses in the database from their file specs, idempotently."""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal
from pathlib import Path

from sqlalchemy import select
from sqlalchemy.orm import selectinload

from lms.content.loader import CourseSpec, LessonSpec
from lms.content.markdown import render_markdown
from lms.content.quiz_sync import sync_assessments
from lms.courses.models import Course, Lesson, LessonTranslation, Module
from lms.extensions import db
from lms.packages.services import import_package


@dataclass(frozen=True)
class SyncResult:
    slug: str
    outcome: str  # "created", "updated" or "unchanged"
    course: Course


def sync_course(spec: CourseSpec) -> SyncResult:
    """Bring one course in line with its files.

    Lessons and modules missing from the files are unpublished, never deleted, so trainees'
    completions survive; putting them back republishes them.
    """
    course = db.session.scalar(
        select(Course)
        .where(Course.slug == spec.slug)
        .options(selectinload(Course.modules).selectinload(Module.lessons).selectinload(Lesson.translations))
    )
    digest = spec.content_hash()
    if course is not None and course.content_hash == digest:
        return SyncResult(spec.slug, "unchanged", course)
    outcome = "updated"
    if course is None:
        course = Course(slug=spec.slug, title=spec.title)
        db.session.add(course)
        outcome = "created"

    course.title = spec.title
    course.summary = spec.summary
    course.language = spec.language
    course.version = spec.version
    course.level = spec.level
    course.credits = Decimal(spec.credits) if spec.credits is not None else None
    course.notional_hours = spec.notional_hours
    course.delivery_mode = spec.delivery_mode
    course.lesson_completion = spec.lesson_completion
    course.certificate_validity_months = spec.certificate_validity_months
    course.learning_outcomes = list(spec.learning_outcomes)
    course.translations = dict(spec.translations)
    course.is_published = True
    course.content_hash = digest

    modules_by_slug = {m.slug: m for m in course.modules}
    lessons_by_slug = {lesson.slug: lesson for m in course.modules for lesson in m.lessons}
    seen_modules: set[str] = set()
    seen_lessons: set[str] = set()
    for position, module_spec in enumerate(spec.modules):
        module = modules_by_slug.get(module_spec.slug)
        if module is None:
            module = Module(slug=module_spec.slug, title=module_spec.title)
            course.modules.append(module)
        module.title = module_spec.title
        module.translations = dict(module_spec.translations)
        module.position = position
        module.is_published = True
        seen_modules.add(module_spec.slug)
        for lesson_position, lesson_spec in enumerate(module_spec.lessons):
            lesson = lessons_by_slug.get(lesson_spec.slug)
            if lesson is None:
                lesson = Lesson(slug=lesson_spec.slug, title=lesson_spec.text.title)
            if lesson not in module.lessons:
                if lesson.module is not None:
                    lesson.module.lessons.remove(lesson)
                module.lessons.append(lesson)
            _apply_lesson(lesson, lesson_spec, lesson_position)
            seen_lessons.add(lesson_spec.slug)

    for module in course.modules:
        if module.slug not in seen_modules:
            module.is_published = False
        for lesson in module.lessons:
            if lesson.slug not in seen_lessons and lesson.package_id is None:  # packages keep their own
                lesson.is_published = False
    db.session.flush()
    for module_spec in spec.modules:  # SCORM packages: a changed zip is a new version (lms.packages)
        module = next(m for m in course.modules if m.slug == module_spec.slug)
        for package in module_spec.packages:
            import_package(module, Path(package.source), actor=None, slug=package.slug)
    sync_assessments(course, spec.banks, spec.quizzes)
    return SyncResult(spec.slug, outcome, course)


def _apply_lesson(lesson: Lesson, spec: LessonSpec, position: int) -> None:
    lesson.title = spec.text.title
    lesson.minutes = spec.text.minutes
    if lesson.body_md != spec.text.body_md or not lesson.body_html:
        lesson.body_md = spec.text.body_md
        lesson.body_html = render_markdown(spec.text.body_md)
    lesson.video_url = spec.text.video_url
    if lesson.transcript_md != spec.text.transcript_md or bool(lesson.transcript_html) != bool(
        spec.text.transcript_md
    ):
        lesson.transcript_md = spec.text.transcript_md
        lesson.transcript_html = render_markdown(spec.text.transcript_md) if spec.text.transcript_md else ""
    lesson.position = position
    lesson.is_published = True
    existing = {t.language: t for t in lesson.translations}
    for language, text in spec.translations.items():
        translation = existing.pop(language, None)
        if translation is None:
            translation = LessonTranslation(language=language, title=text.title)
            lesson.translations.append(translation)
        translation.title = text.title
        if translation.body_md != text.body_md or not translation.body_html:
            translation.body_md = text.body_md
            translation.body_html = render_markdown(text.body_md)
        if translation.transcript_md != text.transcript_md:
            translation.transcript_md = text.transcript_md
            translation.transcript_html = render_markdown(text.transcript_md) if text.transcript_md else ""
    for stale in existing.values():
        lesson.translations.remove(stale)
