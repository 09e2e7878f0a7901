from __future__ import annotations

import enum
from datetime import datetime

from sqlalchemy import JSON, ForeignKey, String
from sqlalchemy.orm import Mapped, mapped_column

from lms.db import UTCDateTime, utcnow
from lms.extensions import db


class RegistrationPolicy(enum.StrEnum):
    OPEN = "open"  # anyone may register
    DOMAINS = "domains"  # only addresses at the listed (official) email domains
    CLOSED = "closed"  # nomination and import only


class AcademySettings(db.Model):  # type: ignore[name-defined]
    """The academy's editable settings: one row (id 1). A NULL column means "use the config default",
    so an empty database behaves exactly as the configuration says."""

    __tablename__ = "academy_settings"

    id: Mapped[int] = mapped_column(primary_key=True)
    academy_name: Mapped[str | None] = mapped_column(String(200))
    logo_filename: Mapped[str | None] = mapped_column(String(100))
    contact_email: Mapped[str | None] = mapped_column(String(254))
    default_language: Mapped[str | None] = mapped_column(String(5))
    registration_policy: Mapped[str | None] = mapped_column(String(10))
    allowed_email_domains: Mapped[list[str]] = mapped_column(JSON, default=list)
    public_base_url: Mapped[str | None] = mapped_column(String(300))
    mail_sender: Mapped[str | None] = mapped_column(String(300))
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    updated_by_id: Mapped[int | None] = mapped_column(ForeignKey("user.id"))
