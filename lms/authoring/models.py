from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import JSON, ForeignKey, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from lms.db import UTCDateTime, utcnow
from lms.extensions import db


class CourseTrainer(db.Model):  # type: ignore[name-defined]
    """A trainer assigned (by an admin) to author a course."""

    __tablename__ = "course_trainer"
    __table_args__ = (UniqueConstraint("course_id", "user_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    course_id: Mapped[int] = mapped_column(ForeignKey("course.id", ondelete="CASCADE"), index=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("user.id", ondelete="CASCADE"), index=True)
    assigned_by_id: Mapped[int | None] = mapped_column(ForeignKey("user.id"))
    assigned_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


class CourseDraft(db.Model):  # type: ignore[name-defined]
    """The course being edited: a CourseSpec as JSON (lms/authoring/document.py). Trainees never see it.

    `revision` goes up with every saved edit and every publish; each edit form carries the revision it was
    opened at, and a save against an older one is refused (stale form).
    """

    __tablename__ = "course_draft"

    id: Mapped[int] = mapped_column(primary_key=True)
    course_id: Mapped[int] = mapped_column(ForeignKey("course.id", ondelete="CASCADE"), unique=True)
    document: Mapped[dict[str, Any]] = mapped_column(JSON)
    revision: Mapped[int] = mapped_column(default=1)
    updated_by_id: Mapped[int | None] = mapped_column(ForeignKey("user.id"))
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


class DraftEdit(db.Model):  # type: ignore[name-defined]
    """One saved change to a draft: what a stale form is told it missed."""

    __tablename__ = "course_draft_edit"

    id: Mapped[int] = mapped_column(primary_key=True)
    course_id: Mapped[int] = mapped_column(ForeignKey("course.id", ondelete="CASCADE"), index=True)
    revision: Mapped[int]
    user_id: Mapped[int | None] = mapped_column(ForeignKey("user.id"))
    at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    summary: Mapped[str] = mapped_column(String(500))


class CourseVersion(db.Model):  # type: ignore[name-defined]
    """A published version: who published what, when, and why."""

    __tablename__ = "course_version"
    __table_args__ = (UniqueConstraint("course_id", "version"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    course_id: Mapped[int] = mapped_column(ForeignKey("course.id", ondelete="CASCADE"), index=True)
    version: Mapped[int]
    note: Mapped[str] = mapped_column(Text, default="")
    changes: Mapped[list[str]] = mapped_column(JSON, default=list)
    content_hash: Mapped[str | None] = mapped_column(String(64))
    published_by_id: Mapped[int | None] = mapped_column(ForeignKey("user.id"))
    published_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


class CourseAsset(db.Model):  # type: ignore[name-defined]
    """An image or PDF uploaded for a course; the bytes live in instance/uploads/, never served directly."""

    __tablename__ = "course_asset"
    __table_args__ = (UniqueConstraint("course_id", "name"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    course_id: Mapped[int] = mapped_column(ForeignKey("course.id", ondelete="CASCADE"), index=True)
    name: Mapped[str] = mapped_column(String(80))  # the name in lessons: /courses/<slug>/files/<name>
    content_type: Mapped[str] = mapped_column(String(40))
    size: Mapped[int]
    sha256: Mapped[str] = mapped_column(String(64))
    uploaded_by_id: Mapped[int | None] = mapped_column(ForeignKey("user.id"))
    uploaded_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
