"""Survey forms, the surveys of a run, who has been asked, and the anonymous answers.

Anonymous by design (docs/surveys.md): ``SurveyResponse`` has no link to a person, its key is random (no
order to match against ``SurveyInvitation``), and its date is the day only. ``SurveyInvitation`` records
who was asked and whether they answered, for reminders and the "answered once" rule; nothing joins the two.
"""

from __future__ import annotations

import enum
from datetime import date, datetime
from typing import Any

from sqlalchemy import JSON, ForeignKey, Index, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from lms.db import UTCDateTime, utcnow
from lms.extensions import db


class SurveyKind(enum.StrEnum):
    END_OF_COURSE = "end_of_course"  # opens on completion (or when the run's last session ends)
    FOLLOW_UP = "follow_up"  # sent some months after completion (level 3: applied at work)


class ItemType(enum.StrEnum):
    AGREEMENT = "agreement"  # 5-point scale, labelled points (1 strongly disagree .. 5 strongly agree)
    SINGLE = "single"  # one of the options
    MULTIPLE = "multiple"  # any of the options
    RATING = "rating"  # 0-10
    TEXT = "text"  # free text (shown inert, only to trainers and admins, only for groups of five or more)


class SurveyForm(db.Model):  # type: ignore[name-defined]
    """A questionnaire, from a file under courses/_surveys/ or the browser editor. Texts are per language:
    ``title`` / ``intro`` are {"en": ..., "ru": ..., "fr": ..., "ar": ...}."""

    __tablename__ = "survey_form"

    id: Mapped[int] = mapped_column(primary_key=True)
    slug: Mapped[str] = mapped_column(String(80), unique=True)
    kind: Mapped[str] = mapped_column(String(20), default=SurveyKind.END_OF_COURSE)
    title: Mapped[dict[str, str]] = mapped_column(JSON, default=dict)
    intro: Mapped[dict[str, str]] = mapped_column(JSON, default=dict)
    source_path: Mapped[str | None] = mapped_column(String(300))  # the file it was loaded from, if any
    content_hash: Mapped[str | None] = mapped_column(String(64))
    is_published: Mapped[bool] = mapped_column(default=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, onupdate=utcnow)

    items: Mapped[list[SurveyItem]] = relationship(
        order_by="SurveyItem.position", cascade="all, delete-orphan"
    )


class SurveyItem(db.Model):  # type: ignore[name-defined]
    """One question. ``key`` is stable across versions, runs and languages: results combine by it.
    ``prompt`` is {lang: text}; ``options`` is [{"key": "k", "label": {lang: text}}] for single/multiple
    and the five labelled points for agreement; ``retired`` items keep their answers but are not asked."""

    __tablename__ = "survey_item"
    __table_args__ = (UniqueConstraint("form_id", "key"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    form_id: Mapped[int] = mapped_column(ForeignKey("survey_form.id", ondelete="CASCADE"))
    key: Mapped[str] = mapped_column(String(64))
    position: Mapped[int] = mapped_column(default=0)
    type: Mapped[str] = mapped_column(String(12))
    required: Mapped[bool] = mapped_column(default=True)
    prompt: Mapped[dict[str, str]] = mapped_column(JSON, default=dict)
    options: Mapped[list[dict[str, Any]]] = mapped_column(JSON, default=list)
    retired: Mapped[bool] = mapped_column(default=False)
    # What a donor indicator reads from this item: "satisfaction" (agreement: share answering 4-5) or
    # "applied" (follow-up: share answering yes / 4-5). None: shown in the results only.
    indicator: Mapped[str | None] = mapped_column(String(20))


class RunSurvey(db.Model):  # type: ignore[name-defined]
    """A form attached to a run, as its end-of-course or follow-up survey (at most one of each)."""

    __tablename__ = "run_survey"
    __table_args__ = (UniqueConstraint("run_id", "kind"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    run_id: Mapped[int] = mapped_column(ForeignKey("course_run.id", ondelete="CASCADE"))
    form_id: Mapped[int] = mapped_column(ForeignKey("survey_form.id"), index=True)
    kind: Mapped[str] = mapped_column(String(20))
    follow_up_months: Mapped[int | None]  # follow-up: sent this many months after completion
    open_days: Mapped[int] = mapped_column(default=30)  # each invitation closes this many days after it opens
    reminder_days: Mapped[int | None] = mapped_column(default=7)  # one reminder this many days after opening
    # End-of-course only: the certificate is issued after the survey is answered (off by default).
    required_for_certificate: Mapped[bool] = mapped_column(default=False)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    form: Mapped[SurveyForm] = relationship()


class SurveyInvitation(db.Model):  # type: ignore[name-defined]
    """Who is asked: one row per (run survey, enrolment), so a follow-up is created and mailed once however
    often the job runs. ``answered_on`` (a day, no time) says that they answered, not what."""

    __tablename__ = "survey_invitation"
    __table_args__ = (
        UniqueConstraint("run_survey_id", "enrolment_id"),
        Index("ix_survey_invitation_due", "opens_at", "sent_at"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    run_survey_id: Mapped[int] = mapped_column(ForeignKey("run_survey.id", ondelete="CASCADE"))
    enrolment_id: Mapped[int] = mapped_column(ForeignKey("enrolment.id", ondelete="CASCADE"), index=True)
    opens_at: Mapped[datetime] = mapped_column(UTCDateTime)
    closes_at: Mapped[datetime] = mapped_column(UTCDateTime)
    sent_at: Mapped[datetime | None] = mapped_column(UTCDateTime)  # the invitation mail was queued
    reminded_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    answered_on: Mapped[date | None]


class SurveyResponse(db.Model):  # type: ignore[name-defined]
    """One anonymous set of answers. No person, no enrolment, no time of day; a random key.

    The group attributes donors break results down by (sex, country, authority: the same dimensions as the
    other indicators) are copied at submission; every figure from them is shown only for groups of at
    least five responses (docs/surveys.md says why this is the trade-off we chose)."""

    __tablename__ = "survey_response"

    id: Mapped[str] = mapped_column(String(32), primary_key=True)  # secrets.token_hex(16)
    run_survey_id: Mapped[int] = mapped_column(ForeignKey("run_survey.id", ondelete="CASCADE"), index=True)
    language: Mapped[str] = mapped_column(String(5))
    submitted_on: Mapped[date]
    sex: Mapped[str | None] = mapped_column(String(12))
    country_code: Mapped[str | None] = mapped_column(String(2))
    authority_id: Mapped[int | None]

    answers: Mapped[list[SurveyAnswer]] = relationship(cascade="all, delete-orphan")


class SurveyAnswer(db.Model):  # type: ignore[name-defined]
    """One item's answer: ``number`` for agreement (1-5) and rating (0-10), ``choices`` (option keys) for
    single and multiple, ``text`` for free text. Keyed by the item's stable key."""

    __tablename__ = "survey_answer"
    __table_args__ = (UniqueConstraint("response_id", "item_key"),)

    id: Mapped[str] = mapped_column(String(32), primary_key=True)  # random too: no insertion order
    response_id: Mapped[str] = mapped_column(ForeignKey("survey_response.id", ondelete="CASCADE"))
    item_key: Mapped[str] = mapped_column(String(64))
    number: Mapped[int | None]
    choices: Mapped[list[str] | None] = mapped_column(JSON)
    text: Mapped[str | None] = mapped_column(String(4000))
