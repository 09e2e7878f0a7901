"""A published course's outline as plain immutable values, kept per process.

Every lesson page, course page and lesson completion needs the course's modules and lessons in reading
order, with titles and bodies in each language. Loading that through the ORM cost five queries and most of
the lesson page's time, yet it changes only when the course is synced or published
(``lms.content.services.sync_course``), which rewrites the course row (``content_hash``, and so
``updated_at``). So each process keeps one snapshot per course and checks it against the course row on
every use (one single-row query by the unique slug): a publish made by another process or server is seen
by the next request, never served stale. The course's own texts (title, summary, translations: 11 kB of
JSON for a translated course) are in the snapshot too, so the check reads the key columns only (issue 22).
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Hashable, Mapping
from dataclasses import dataclass, field
from datetime import datetime
from functools import cache
from threading import Lock
from typing import Any, NamedTuple

from sqlalchemy import Select, bindparam, select

from lms.courses.models import Course, CourseTexts, Lesson, LessonTranslation, Module
from lms.extensions import db

# Courses are few (dozens); the bound only guards against a runaway number of slugs.
MAX_SNAPSHOTS = 256


@dataclass(frozen=True)
class LessonText:
    language: str
    title: str
    body_html: str
    transcript_html: str


@dataclass(frozen=True)
class PublishedLesson:
    id: int
    module_id: int
    course_id: int
    slug: str
    title: str
    minutes: int | None
    video_url: str | None
    body_html: str
    transcript_html: str
    texts: Mapping[str, LessonText] = field(default_factory=dict)
    is_published: bool = True  # only published lessons are in a snapshot
    # A SCORM package's item (lms/packages): the outline links it to its player (/lessons/<id>/play).
    package_id: int | None = None

    def text_in(self, language: str) -> LessonText | None:
        return self.texts.get(language)

    def title_in(self, language: str) -> str:
        text = self.texts.get(language)
        return text.title if text else self.title


@dataclass(frozen=True)
class PublishedModule:
    id: int
    slug: str
    title: str
    translations: Mapping[str, str]
    lessons: tuple[PublishedLesson, ...]

    def title_in(self, language: str) -> str:
        return self.translations.get(language) or self.title


@dataclass(frozen=True)
class PublishedCourse(CourseTexts):
    id: int
    slug: str
    title: str
    summary: str
    language: str
    lesson_completion: str
    translations: Mapping[str, Mapping[str, Any]]
    modules: tuple[PublishedModule, ...]
    key: tuple[str | None, datetime | None]
    lessons: tuple[PublishedLesson, ...] = ()  # reading order
    _by_id: Mapping[int, int] = field(default_factory=dict, repr=False)
    # What later modules derive from this published version (lms.quizzes.queries keeps the course's
    # quizzes here): it lives and dies with the snapshot, so it is never older than the course row.
    derived: dict[Hashable, Any] = field(default_factory=dict, repr=False, compare=False)

    @classmethod
    def build(cls, course: Mapping[str, Any], modules: tuple[PublishedModule, ...]) -> PublishedCourse:
        lessons = tuple(lesson for module in modules for lesson in module.lessons)
        return cls(
            modules=modules,
            lessons=lessons,
            _by_id={lesson.id: index for index, lesson in enumerate(lessons)},
            **course,
        )

    @property
    def lesson_ids(self) -> list[int]:
        return [lesson.id for lesson in self.lessons]

    def outline(self) -> list[tuple[PublishedModule, list[PublishedLesson]]]:
        return [(module, list(module.lessons)) for module in self.modules]

    def position(self, lesson_id: int) -> int | None:
        return self._by_id.get(lesson_id)

    def lesson(self, lesson_id: int) -> PublishedLesson | None:
        index = self._by_id.get(lesson_id)
        return None if index is None else self.lessons[index]

    def neighbours(self, lesson_id: int) -> tuple[PublishedLesson | None, PublishedLesson | None]:
        index = self._by_id[lesson_id]
        before = self.lessons[index - 1] if index > 0 else None
        after = self.lessons[index + 1] if index + 1 < len(self.lessons) else None
        return before, after


class CourseKey(NamedTuple):
    """What a request reads of a course row to know whether its snapshot is current (``key_columns``)."""

    id: int
    slug: str
    content_hash: str | None
    updated_at: datetime | None


_snapshots: dict[int, PublishedCourse] = {}
_lock = Lock()


def published_course(slug: str) -> PublishedCourse | None:
    """The published course with this slug, from this process's snapshot when the course row is unchanged."""
    row = db.session.execute(_course_key_by_slug(), {"slug": slug}).first()
    return None if row is None else snapshot_of(CourseKey(*row))


def snapshot_of(key: CourseKey) -> PublishedCourse:
    """The outline of the course whose row has this key (read with ``key_columns()``, e.g. joined into a
    query the page sends anyway): no query while the snapshot is current.

    Unlike ``published_course`` this also answers for a course that is no longer published: a trainee's
    dashboard still shows what they enrolled in.
    """
    cached = _snapshots.get(key.id)
    if cached is not None and cached.key == (key.content_hash, key.updated_at) and cached.slug == key.slug:
        return cached
    return _build_snapshot(key.id)


def key_columns() -> tuple[Any, ...]:
    """The course row's columns a snapshot is checked against, in ``CourseKey`` order."""
    return (Course.id, Course.slug, Course.content_hash, Course.updated_at)


def _build_snapshot(course_id: int) -> PublishedCourse:
    # The key is read again with the texts: the snapshot is stored under the key of what it holds.
    row = db.session.execute(_course_row_by_id(), {"id": course_id}).one()
    course = {
        "id": row.id,
        "slug": row.slug,
        "title": row.title,
        "summary": row.summary,
        "language": row.language,
        "lesson_completion": row.lesson_completion,
        "translations": dict(row.translations or {}),
        "key": (row.content_hash, row.updated_at),
    }
    snapshot = PublishedCourse.build(course, _load_modules(row.id))
    with _lock:
        if len(_snapshots) >= MAX_SNAPSHOTS:
            _snapshots.clear()
        _snapshots[row.id] = snapshot
    return snapshot


# Built once: a statement object keeps its cache key, and these run on every lesson and dashboard request.
_COURSE_COLUMNS = (
    "id",
    "slug",
    "content_hash",
    "updated_at",
    "title",
    "summary",
    "language",
    "lesson_completion",
    "translations",
)


@cache
def _course_key_by_slug() -> Select[Any]:
    # On the table, not the mapped class (the same columns as key_columns()): a Core statement skips the
    # ORM's per-statement set-up, ~40 µs of every lesson page and completion (issue 22).
    table = Course.__table__
    columns = (table.c.id, table.c.slug, table.c.content_hash, table.c.updated_at)
    return select(*columns).where(table.c.slug == bindparam("slug"), table.c.is_published.is_(True))


@cache
def _course_row_by_id() -> Select[Any]:
    columns = [getattr(Course, name) for name in _COURSE_COLUMNS]
    return select(*columns).where(Course.id == bindparam("id"))


def forget_snapshots() -> None:
    """Drop every snapshot (tests that rebuild the schema; never needed for correctness)."""
    with _lock:
        _snapshots.clear()


def _load_modules(course_id: int) -> tuple[PublishedModule, ...]:
    module_rows = db.session.execute(
        select(Module.id, Module.slug, Module.title, Module.translations)
        .where(Module.course_id == course_id, Module.is_published.is_(True))
        .order_by(Module.position, Module.id)
    ).all()
    lesson_rows = db.session.execute(
        select(
            Lesson.id,
            Lesson.module_id,
            Lesson.slug,
            Lesson.title,
            Lesson.minutes,
            Lesson.video_url,
            Lesson.body_html,
            Lesson.transcript_html,
            Lesson.package_id,
        )
        .join(Module, Lesson.module_id == Module.id)
        .where(Module.course_id == course_id, Module.is_published.is_(True), Lesson.is_published.is_(True))
        .order_by(Lesson.position, Lesson.id)
    ).all()
    texts: dict[int, dict[str, LessonText]] = defaultdict(dict)
    for lesson_id, language, title, body_html, transcript_html in db.session.execute(
        select(
            LessonTranslation.lesson_id,
            LessonTranslation.language,
            LessonTranslation.title,
            LessonTranslation.body_html,
            LessonTranslation.transcript_html,
        )
        .join(Lesson, LessonTranslation.lesson_id == Lesson.id)
        .join(Module, Lesson.module_id == Module.id)
        .where(Module.course_id == course_id)
    ):
        texts[lesson_id][language] = LessonText(language, title, body_html, transcript_html)
    lessons_by_module: dict[int, list[PublishedLesson]] = defaultdict(list)
    for lesson in lesson_rows:
        lessons_by_module[lesson.module_id].append(
            PublishedLesson(
                id=lesson.id,
                module_id=lesson.module_id,
                course_id=course_id,
                slug=lesson.slug,
                title=lesson.title,
                minutes=lesson.minutes,
                video_url=lesson.video_url,
                body_html=lesson.body_html,
                transcript_html=lesson.transcript_html,
                texts=dict(texts.get(lesson.id, {})),
                package_id=lesson.package_id,
            )
        )
    return tuple(
        PublishedModule(
            id=module.id,
            slug=module.slug,
            title=module.title,
            translations=dict(module.translations or {}),
            lessons=tuple(lessons_by_module.get(module.id, [])),
        )
        for module in module_rows
    )
