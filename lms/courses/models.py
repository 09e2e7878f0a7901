from __future__ import annotations

import enum
from collections.abc import Mapping
from datetime import datetime
from decimal import Decimal
from typing import TYPE_CHECKING, Any

from sqlalchemy import JSON, ForeignKey, Numeric, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from lms.db import UTCDateTime, utcnow
from lms.extensions import db


class DeliveryMode(enum.StrEnum):
    ONLINE = "online"
    BLENDED = "blended"
    IN_PERSON = "in_person"


class LessonCompletionMode(enum.StrEnum):
    MANUAL = "manual"  # the trainee marks the lesson complete
    ON_READ = "on_read"  # opening the lesson completes it


class CourseTexts:
    """A course's texts in its languages: shared by the Course row and its published snapshot
    (lms.courses.published), so both answer the same way."""

    if TYPE_CHECKING:  # provided by the class this is mixed into (a mapped column or a dataclass field)
        language: str
        translations: Mapping[str, Mapping[str, Any]]

    @property
    def languages(self) -> list[str]:
        return [self.language, *sorted(lang for lang in self.translations if lang != self.language)]

    def text(self, field: str, language: str) -> Any:
        translated = self.translations.get(language, {}).get(field)
        return translated if translated else getattr(self, field)


class Course(CourseTexts, db.Model):  # type: ignore[name-defined]
    __tablename__ = "course"

    id: Mapped[int] = mapped_column(primary_key=True)
    slug: Mapped[str] = mapped_column(String(80), unique=True)
    title: Mapped[str] = mapped_column(String(200))
    summary: Mapped[str] = mapped_column(Text, default="")
    language: Mapped[str] = mapped_column(String(5), default="en")
    version: Mapped[int] = mapped_column(default=1)
    level: Mapped[str | None] = mapped_column(String(20))
    credits: Mapped[Decimal | None] = mapped_column(Numeric(5, 2))
    notional_hours: Mapped[int | None]
    learning_outcomes: Mapped[list[str]] = mapped_column(JSON, default=list)
    delivery_mode: Mapped[str] = mapped_column(String(20), default=DeliveryMode.ONLINE)
    lesson_completion: Mapped[str] = mapped_column(String(10), default=LessonCompletionMode.MANUAL)
    certificate_validity_months: Mapped[int | None]
    # {"ru": {"title": ..., "summary": ..., "learning_outcomes": [...]}}
    translations: Mapped[dict[str, dict[str, object]]] = mapped_column(JSON, default=dict)
    is_published: Mapped[bool] = mapped_column(default=True)
    content_hash: Mapped[str | None] = mapped_column(String(64))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, onupdate=utcnow)

    modules: Mapped[list[Module]] = relationship(
        back_populates="course", order_by="Module.position", cascade="all, delete-orphan"
    )


class Module(db.Model):  # type: ignore[name-defined]
    __tablename__ = "module"
    __table_args__ = (UniqueConstraint("course_id", "slug"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    course_id: Mapped[int] = mapped_column(ForeignKey("course.id", ondelete="CASCADE"), index=True)
    slug: Mapped[str] = mapped_column(String(80))
    title: Mapped[str] = mapped_column(String(200))
    translations: Mapped[dict[str, str]] = mapped_column(JSON, default=dict)  # {"ru": "title"}
    position: Mapped[int] = mapped_column(default=0)
    is_published: Mapped[bool] = mapped_column(default=True)

    course: Mapped[Course] = relationship(back_populates="modules")
    lessons: Mapped[list[Lesson]] = relationship(
        back_populates="module", order_by="Lesson.position", cascade="all, delete-orphan"
    )

    def title_in(self, language: str) -> str:
        return self.translations.get(language) or self.title


class Lesson(db.Model):  # type: ignore[name-defined]
    __tablename__ = "lesson"
    __table_args__ = (UniqueConstraint("module_id", "slug"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    module_id: Mapped[int] = mapped_column(ForeignKey("module.id", ondelete="CASCADE"), index=True)
    slug: Mapped[str] = mapped_column(String(80))
    title: Mapped[str] = mapped_column(String(200))
    body_md: Mapped[str] = mapped_column(Text, default="")
    body_html: Mapped[str] = mapped_column(Text, default="")
    minutes: Mapped[int | None]
    # A video by URL always comes with its transcript (docs/course-format.md).
    video_url: Mapped[str | None] = mapped_column(String(500))
    transcript_md: Mapped[str] = mapped_column(Text, default="")
    transcript_html: Mapped[str] = mapped_column(Text, default="")
    position: Mapped[int] = mapped_column(default=0)
    is_published: Mapped[bool] = mapped_column(default=True)
    # A SCORM package's item (an SCO) shown as this lesson (issue 25, lms/packages): the package and the
    # item's identifier in its manifest, so a new version of the package keeps the lesson (None: text lesson).
    package_id: Mapped[int | None] = mapped_column(ForeignKey("package.id", ondelete="CASCADE"), index=True)
    package_item_identifier: Mapped[str | None] = mapped_column(String(200))

    module: Mapped[Module] = relationship(back_populates="lessons")
    translations: Mapped[list[LessonTranslation]] = relationship(
        back_populates="lesson", cascade="all, delete-orphan"
    )

    @property
    def course_id(self) -> int:
        return self.module.course_id

    def text_in(self, language: str) -> LessonTranslation | None:
        return next((t for t in self.translations if t.language == language), None)

    def title_in(self, language: str) -> str:
        text = self.text_in(language)
        return text.title if text else self.title


class LessonTranslation(db.Model):  # type: ignore[name-defined]
    __tablename__ = "lesson_translation"
    __table_args__ = (UniqueConstraint("lesson_id", "language"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    lesson_id: Mapped[int] = mapped_column(ForeignKey("lesson.id", ondelete="CASCADE"), index=True)
    language: Mapped[str] = mapped_column(String(5))
    title: Mapped[str] = mapped_column(String(200))
    body_md: Mapped[str] = mapped_column(Text, default="")
    body_html: Mapped[str] = mapped_column(Text, default="")
    transcript_md: Mapped[str] = mapped_column(Text, default="")
    transcript_html: Mapped[str] = mapped_column(Text, default="")

    lesson: Mapped[Lesson] = relationship(back_populates="translations")
