"""A learner's attempts on a package item (an SCO) and their CMI data (issue 25, docs/packages.md).

One row per (enrolment, lesson, attempt number). The lesson names the package item
(``lesson.package_id`` + ``lesson.package_item_identifier``); the row keeps the version and the item it was
played on, so a new version of the package leaves old attempts as they were. The enrolment is named by
table ("enrolment.id"): packages sit below enrolment and do not import its models.
"""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal
from typing import Any

from sqlalchemy import JSON, ForeignKey, Numeric, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from lms.db import UTCDateTime, utcnow
from lms.extensions import db


class PackageAttempt(db.Model):  # type: ignore[name-defined]
    __tablename__ = "package_attempt"
    __table_args__ = (UniqueConstraint("enrolment_id", "lesson_id", "number"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    enrolment_id: Mapped[int] = mapped_column(ForeignKey("enrolment.id", ondelete="CASCADE"), index=True)
    lesson_id: Mapped[int] = mapped_column(ForeignKey("lesson.id", ondelete="CASCADE"), index=True)
    version_id: Mapped[int] = mapped_column(ForeignKey("package_version.id", ondelete="CASCADE"), index=True)
    item_id: Mapped[int] = mapped_column(ForeignKey("package_item.id", ondelete="CASCADE"), index=True)
    number: Mapped[int]  # 1, 2, ... per enrolment and lesson
    # The stored data model elements, flattened ("cmi.core.lesson_status": "passed"), checked by
    # lms.packages.runtime.cmi: only elements a package may write, within their sizes and vocabularies.
    cmi: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    # SCORM 2004 names; a SCORM 1.2 lesson_status is split into both (lms.packages.runtime.cmi).
    completion_status: Mapped[str] = mapped_column(String(16), default="not attempted")
    success_status: Mapped[str] = mapped_column(String(16), default="unknown")
    score_raw: Mapped[Decimal | None] = mapped_column(Numeric(12, 4))
    score_scaled: Mapped[Decimal | None] = mapped_column(Numeric(6, 5))
    location: Mapped[str] = mapped_column(String(1000), default="")
    suspend_data: Mapped[str] = mapped_column(Text, default="")
    exit: Mapped[str] = mapped_column(String(16), default="")
    total_seconds: Mapped[int] = mapped_column(default=0)  # every session's time, the current one included
    session_seconds: Mapped[int] = mapped_column(default=0)  # the current session's (its latest commit)
    # The player page's session (a random key per opening) and the number of its last commit applied:
    # a retried or late commit of the same session with a lower number changes nothing.
    session_key: Mapped[str] = mapped_column(String(64), default="")
    last_sequence: Mapped[int] = mapped_column(default=0)
    started_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    # Set when the SCO terminated without suspending after reaching a result: the next opening starts
    # attempt number + 1 (lms.packages.runtime.services.launch).
    finished_at: Mapped[datetime | None] = mapped_column(UTCDateTime)

    @property
    def satisfied(self) -> bool:
        """The item counts as done: completed (or passed) and not failed."""
        return self.success_status != "failed" and (
            self.completion_status == "completed" or self.success_status == "passed"
        )
