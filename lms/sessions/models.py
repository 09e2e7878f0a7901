"""Sessions of a run and what happens in them: who attended, how long, and the evidence.

Times are stored in UTC (house rule 7) together with the IANA zone of the venue (``timezone``): pages show
them in the viewer's zone with the venue's zone beside them; calendars carry the venue's zone.
An enrolment's attended minutes and its run's planned minutes are kept on ``enrolment.attended_minutes``
and ``course_run.session_minutes`` (lms/enrolment/models.py) by lms.sessions.attendance, so completion
(lms/enrolment/completion.py) reads them without knowing this feature.
"""

from __future__ import annotations

import enum
from datetime import date, datetime

from sqlalchemy import ForeignKey, Index, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from lms.db import UTCDateTime, utcnow
from lms.extensions import db


class SessionFormat(enum.StrEnum):
    IN_PERSON = "in_person"  # at the venue
    ONLINE = "online"  # a meeting link
    HYBRID = "hybrid"  # both: each participant says how they attend (ParticipantDetails.attendance_mode)


class AttendanceStatus(enum.StrEnum):
    PRESENT = "present"
    LATE = "late"  # minutes: the part attended
    LEFT_EARLY = "left_early"  # minutes: the part attended
    ABSENT = "absent"
    EXCUSED = "excused"  # absent with a reason the trainer accepted: attends nothing, but is not "absent"


class AttendanceSource(enum.StrEnum):
    ROLL_CALL = "roll_call"  # the trainer's register (also sent later from a phone that was offline)
    CHECK_IN = "check_in"  # the participant scanned the room's rotating QR code or typed its short code
    SHEET = "sheet"  # typed from a signed paper sheet


class TrainingSession(db.Model):  # type: ignore[name-defined]
    __tablename__ = "training_session"
    __table_args__ = (Index("ix_training_session_run_starts", "run_id", "starts_at"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    run_id: Mapped[int] = mapped_column(ForeignKey("course_run.id", ondelete="CASCADE"))
    title: Mapped[str] = mapped_column(String(200))
    starts_at: Mapped[datetime] = mapped_column(UTCDateTime)
    ends_at: Mapped[datetime] = mapped_column(UTCDateTime)
    timezone: Mapped[str] = mapped_column(String(64), default="UTC")  # IANA name, the venue's
    format: Mapped[str] = mapped_column(String(10), default=SessionFormat.IN_PERSON)
    venue_name: Mapped[str | None] = mapped_column(String(200))
    venue_address: Mapped[str | None] = mapped_column(Text)
    venue_city: Mapped[str | None] = mapped_column(String(100))
    venue_country: Mapped[str | None] = mapped_column(ForeignKey("country.code"))
    meeting_url: Mapped[str | None] = mapped_column(String(500))  # only participants and trainers see it
    capacity: Mapped[int | None]
    agenda_md: Mapped[str] = mapped_column(Text, default="")
    agenda_html: Mapped[str] = mapped_column(Text, default="")  # sanitised (lms.content.markdown)
    # iCalendar: a stable UID and a SEQUENCE raised by every change that is mailed as an update.
    uid: Mapped[str] = mapped_column(String(120), unique=True)
    sequence: Mapped[int] = mapped_column(default=0)
    cancelled_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    # Signs the rotating check-in codes of this session (lms.sessions.check_in); random, never shown.
    check_in_secret: Mapped[str] = mapped_column(String(64))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, onupdate=utcnow)

    trainers: Mapped[list[SessionTrainer]] = relationship(cascade="all, delete-orphan")

    @property
    def minutes(self) -> int:
        return int((self.ends_at - self.starts_at).total_seconds() // 60)


class SessionTrainer(db.Model):  # type: ignore[name-defined]
    __tablename__ = "session_trainer"

    session_id: Mapped[int] = mapped_column(
        ForeignKey("training_session.id", ondelete="CASCADE"), primary_key=True
    )
    user_id: Mapped[int] = mapped_column(ForeignKey("user.id"), primary_key=True)


class Attendance(db.Model):  # type: ignore[name-defined]
    """One line of the register: a participant (their enrolment) in one session. Every change is audited
    (who, when, the previous value) through lms.audit."""

    __tablename__ = "attendance"
    __table_args__ = (UniqueConstraint("session_id", "enrolment_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    session_id: Mapped[int] = mapped_column(ForeignKey("training_session.id", ondelete="CASCADE"))
    enrolment_id: Mapped[int] = mapped_column(ForeignKey("enrolment.id", ondelete="CASCADE"), index=True)
    status: Mapped[str] = mapped_column(String(12), default=AttendanceStatus.PRESENT)
    minutes: Mapped[int] = mapped_column(default=0)  # minutes attended (the whole session when present)
    mode: Mapped[str | None] = mapped_column(String(10))  # in_person or online, for hybrid sessions
    source: Mapped[str] = mapped_column(String(10), default=AttendanceSource.ROLL_CALL)
    recorded_by_id: Mapped[int | None] = mapped_column(ForeignKey("user.id"))
    recorded_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    # The roll call on a phone may be sent later: when the trainer took it on the device.
    taken_at: Mapped[datetime | None] = mapped_column(UTCDateTime)


class SignInSheetScan(db.Model):  # type: ignore[name-defined]
    """A scanned, signed paper sheet kept as evidence of a session's attendance (file under the instance)."""

    __tablename__ = "sign_in_sheet_scan"

    id: Mapped[int] = mapped_column(primary_key=True)
    session_id: Mapped[int] = mapped_column(ForeignKey("training_session.id", ondelete="CASCADE"), index=True)
    stored_name: Mapped[str] = mapped_column(String(120))  # random name under instance/sign-in-sheets/
    original_name: Mapped[str] = mapped_column(String(255))
    content_type: Mapped[str] = mapped_column(String(60))
    size: Mapped[int]
    sha256: Mapped[str] = mapped_column(String(64))
    uploaded_by_id: Mapped[int | None] = mapped_column(ForeignKey("user.id"))
    uploaded_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


class ParticipantDetails(db.Model):  # type: ignore[name-defined]
    """What an event needs beyond the enrolment: how a hybrid participant attends, and for international
    events the passport data of the visa invitation letter and dietary/accessibility needs (admins only).
    Passport data and needs are erased ``course_run.personal_data_retention_days`` after the run ends
    (a periodic job; the erasure is audited) and ``erased_at`` is set."""

    __tablename__ = "participant_details"

    enrolment_id: Mapped[int] = mapped_column(
        ForeignKey("enrolment.id", ondelete="CASCADE"), primary_key=True
    )
    attendance_mode: Mapped[str | None] = mapped_column(String(10))  # in_person or online (hybrid runs)
    passport_name: Mapped[str | None] = mapped_column(String(200))  # as printed in the passport
    passport_number: Mapped[str | None] = mapped_column(String(40))
    nationality: Mapped[str | None] = mapped_column(ForeignKey("country.code"))
    date_of_birth: Mapped[date | None]
    dietary_needs: Mapped[str | None] = mapped_column(Text)
    accessibility_needs: Mapped[str | None] = mapped_column(Text)
    updated_by_id: Mapped[int | None] = mapped_column(ForeignKey("user.id"))
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, onupdate=utcnow)
    erased_at: Mapped[datetime | None] = mapped_column(UTCDateTime)


class CalendarFeed(db.Model):  # type: ignore[name-defined]
    """A person's calendar subscription URL: /calendar/<token>.ics. Only the token's SHA-256 is kept;
    a new token replaces the old one (revokes it)."""

    __tablename__ = "calendar_feed"

    user_id: Mapped[int] = mapped_column(ForeignKey("user.id", ondelete="CASCADE"), primary_key=True)
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    last_used_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
