from __future__ import annotations

import enum
from datetime import datetime

from flask_login import UserMixin
from sqlalchemy import ForeignKey, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

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
    birth_year_band: Mapped[str | None] = mapped_column(String(12))
    position: Mapped[str | None] = mapped_column(String(120))
    country_code: Mapped[str | None] = mapped_column(ForeignKey("country.code"), index=True)
    authority_id: Mapped[int | None] = mapped_column(ForeignKey("authority.id"), index=True)
    preferred_language: Mapped[str | None] = mapped_column(String(5))
    timezone: Mapped[str | None] = mapped_column(String(64))
    active: Mapped[bool] = mapped_column(default=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    last_login_at: Mapped[datetime | None] = mapped_column(UTCDateTime)

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
