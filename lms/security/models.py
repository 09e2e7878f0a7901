"""Password-reset tokens and TOTP credentials: tables of their own, so that the user table keeps
only what a person is, and a reset or second factor can be removed without touching it."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import ForeignKey, String
from sqlalchemy.orm import Mapped, mapped_column

from lms.db import UTCDateTime, utcnow
from lms.extensions import db


class PasswordReset(db.Model):  # type: ignore[name-defined]
    """A single-use, expiring reset link. Only the SHA-256 of the token is stored."""

    __tablename__ = "password_reset"

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("user.id", ondelete="CASCADE"), index=True)
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    expires_at: Mapped[datetime] = mapped_column(UTCDateTime)
    used_at: Mapped[datetime | None] = mapped_column(UTCDateTime)


class TwoFactorCredential(db.Model):  # type: ignore[name-defined]
    """A person's TOTP secret. ``confirmed_at`` is None until they proved their app has it;
    ``last_step`` is the time step of the last accepted code, so no code is accepted twice."""

    __tablename__ = "two_factor_credential"

    user_id: Mapped[int] = mapped_column(ForeignKey("user.id", ondelete="CASCADE"), primary_key=True)
    secret: Mapped[str] = mapped_column(String(64))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    confirmed_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    last_step: Mapped[int] = mapped_column(default=0)
