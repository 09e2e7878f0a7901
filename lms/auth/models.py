from __future__ import annotations

import enum
from datetime import datetime

from flask_login import UserMixin
from sqlalchemy import ForeignKey, Index, String, UniqueConstraint, event, func
from sqlalchemy.orm import Mapped, mapped_column, relationship

from lms.auth.search_name import person_search_name
from lms.db import UTCDateTime, utcnow
from lms.extensions import db
from lms.orgs.models import Authority, Country


class Role(enum.StrEnum):
    TRAINEE = "trainee"
    TRAINER = "trainer"
    FOCAL_POINT = "focal_point"
    ADMIN = "admin"


class Sex(enum.StrEnum):
    FEMALE = "female"
    MALE = "male"
    UNDISCLOSED = "undisclosed"


class User(UserMixin, db.Model):  # type: ignore[name-defined]
    __tablename__ = "user"

    id: Mapped[int] = mapped_column(primary_key=True)
    email: Mapped[str] = mapped_column(String(254), unique=True)
    password_hash: Mapped[str] = mapped_column(String(255))
    given_name: Mapped[str] = mapped_column(String(100))
    family_name: Mapped[str] = mapped_column(String(100))
    patronymic: Mapped[str | None] = mapped_column(String(100))
    native_name: Mapped[str | None] = mapped_column(String(200))
    sex: Mapped[str | None] = mapped_column(String(12))
    birth_year_band: Mapped[str | None] = mapped_column(String(16))  # e.g. "2000-or-later"
    position: Mapped[str | None] = mapped_column(String(120))
    country_code: Mapped[str | None] = mapped_column(ForeignKey("country.code"), index=True)
    authority_id: Mapped[int | None] = mapped_column(ForeignKey("authority.id"), index=True)
    preferred_language: Mapped[str | None] = mapped_column(String(5))
    timezone: Mapped[str | None] = mapped_column(String(64))
    active: Mapped[bool] = mapped_column(default=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    # What an HR system synchronises on (GET /api/v1/people?updated_since=): every change of the row moves
    # it, except the sign-in time, the session version and a rehashed password (lms.auth.services writes
    # those with a statement that leaves it alone). Core updates (the CSV import) move it too (onupdate).
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, onupdate=utcnow, index=True)
    last_login_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    # Self-registered accounts confirm their address before they may enrol (None = not yet).
    email_confirmed_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    deactivated_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    # Set on the account that was merged away; it stays (deactivated) so that history still resolves.
    merged_into_id: Mapped[int | None] = mapped_column(ForeignKey("user.id"))
    # Casefolded names in every script plus email, kept by a mapper event below: SQLite's lower()
    # folds ASCII only, so searching "ковАЛЬ" must compare against text folded in Python.
    search_name: Mapped[str] = mapped_column(String(700), default="")
    # Goes into every session's fingerprint (lms.auth.session_stamp.session_fingerprint): signing out,
    # deactivation and a password change raise it, so every session issued before stops working on the
    # server, even when someone kept a copy of the cookie. Loaded with the row the user loader reads.
    session_version: Mapped[int] = mapped_column(default=0, server_default="0")

    country: Mapped[Country | None] = relationship()
    authority: Mapped[Authority | None] = relationship()
    roles: Mapped[list[UserRole]] = relationship(
        back_populates="user", cascade="all, delete-orphan", lazy="selectin"
    )

    @property
    def is_active(self) -> bool:  # Flask-Login refuses sign-in and sessions of inactive users
        return self.active

    @property
    def full_name(self) -> str:
        parts = [self.given_name, self.patronymic, self.family_name]
        return " ".join(part for part in parts if part)

    @property
    def role_names(self) -> set[str]:
        return {role.role for role in self.roles}

    def has_role(self, *roles: str) -> bool:
        return bool(self.role_names.intersection(roles))

    def focal_point_authority_ids(self) -> set[int]:
        return {r.authority_id for r in self.roles if r.role == Role.FOCAL_POINT and r.authority_id}


# Sign-in looks a person up by lower(email) (addresses may have been stored with capitals before they were
# normalised): without this index each sign-in read the whole table, 35 ms of CPU at 100,000 people, as
# much as the password hash itself (docs/performance.md, "Issue 22: capacity").
Index("ix_user_email_lower", func.lower(User.email))


@event.listens_for(User, "before_insert")
@event.listens_for(User, "before_update")
def _keep_search_name(mapper: object, connection: object, user: User) -> None:
    user.search_name = person_search_name(
        user.given_name, user.patronymic, user.family_name, user.native_name, user.email
    )


class UserRole(db.Model):  # type: ignore[name-defined]
    __tablename__ = "user_role"
    __table_args__ = (UniqueConstraint("user_id", "role", "authority_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("user.id", ondelete="CASCADE"), index=True)
    role: Mapped[str] = mapped_column(String(20))
    # Only a focal point is bound to an authority: the one whose staff they act for.
    authority_id: Mapped[int | None] = mapped_column(ForeignKey("authority.id"))
    granted_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    user: Mapped[User] = relationship(back_populates="roles")
    authority: Mapped[Authority | None] = relationship()


class EmailConfirmation(db.Model):  # type: ignore[name-defined]
    """A single-use, expiring email confirmation link. Only the SHA-256 of the token is stored, so a
    leaked database cannot confirm anyone's address."""

    __tablename__ = "email_confirmation"

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("user.id", ondelete="CASCADE"), index=True)
    email: Mapped[str] = mapped_column(String(254))  # the address the link confirms
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    expires_at: Mapped[datetime] = mapped_column(UTCDateTime)
    used_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
