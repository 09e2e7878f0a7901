from __future__ import annotations

from datetime import datetime

from sqlalchemy import JSON, ForeignKey, String
from sqlalchemy.orm import Mapped, mapped_column, relationship

from lms.db import UTCDateTime
from lms.extensions import db


class Country(db.Model):  # type: ignore[name-defined]  # Flask-SQLAlchemy's db.Model is dynamic
    __tablename__ = "country"

    code: Mapped[str] = mapped_column(String(2), primary_key=True)
    name: Mapped[str] = mapped_column(String(100))
    names: Mapped[dict[str, str]] = mapped_column(JSON, default=dict)
    groups: Mapped[list[str]] = mapped_column(JSON, default=list)

    authorities: Mapped[list[Authority]] = relationship(back_populates="country", order_by="Authority.name")

    def localized_name(self, language: str) -> str:
        return self.names.get(language) or self.name


class Authority(db.Model):  # type: ignore[name-defined]
    __tablename__ = "authority"

    id: Mapped[int] = mapped_column(primary_key=True)
    code: Mapped[str] = mapped_column(String(40), unique=True)
    name: Mapped[str] = mapped_column(String(200))
    kind: Mapped[str] = mapped_column(String(20), default="other")
    country_code: Mapped[str] = mapped_column(ForeignKey("country.code"), index=True)
    retired_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    # Set when an admin renames or moves the authority: a re-sync from the reference file then keeps
    # the admin's name, kind and country instead of overwriting them.
    edited_at: Mapped[datetime | None] = mapped_column(UTCDateTime)

    country: Mapped[Country] = relationship(back_populates="authorities")

    @property
    def is_retired(self) -> bool:
        return self.retired_at is not None
