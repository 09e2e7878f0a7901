"""API tokens (issue 24): personal access tokens and service tokens for an authority or a donor.

Only the SHA-256 of a token's secret is stored (``secret_hash``); the secret is shown once when the token
is made. ``hint`` is the secret's recognisable beginning (prefix and a few characters), shown in the lists
so that a person can tell their tokens apart.
"""

from __future__ import annotations

import enum
from datetime import datetime

from sqlalchemy import ForeignKey, String
from sqlalchemy.orm import Mapped, mapped_column, relationship

from lms.auth.models import User
from lms.db import UTCDateTime, utcnow
from lms.extensions import db
from lms.orgs.models import Authority


class TokenKind(enum.StrEnum):
    PERSONAL = "personal"  # acts as its owner, within the owner's roles
    AUTHORITY = "authority"  # a service token: acts as one focal point, for that authority only
    DONOR = "donor"  # a service token for a donor's monitoring system: indicator figures only


class ApiToken(db.Model):  # type: ignore[name-defined]
    __tablename__ = "api_token"

    id: Mapped[int] = mapped_column(primary_key=True)
    kind: Mapped[str] = mapped_column(String(12), default=TokenKind.PERSONAL)
    name: Mapped[str] = mapped_column(String(120))
    hint: Mapped[str] = mapped_column(String(20))
    secret_hash: Mapped[str] = mapped_column(String(64), unique=True)
    scopes: Mapped[str] = mapped_column(String(400))  # space-separated, as OAuth writes them
    # Personal: the owner. Authority: the focal point the token acts as (its audit trail names them).
    user_id: Mapped[int | None] = mapped_column(ForeignKey("user.id"), index=True)
    authority_id: Mapped[int | None] = mapped_column(ForeignKey("authority.id"), index=True)
    created_by_id: Mapped[int | None] = mapped_column(ForeignKey("user.id"))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    expires_at: Mapped[datetime] = mapped_column(UTCDateTime)
    revoked_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    last_used_at: Mapped[datetime | None] = mapped_column(UTCDateTime)

    user: Mapped[User | None] = relationship(foreign_keys=[user_id])
    authority: Mapped[Authority | None] = relationship()

    @property
    def scope_set(self) -> frozenset[str]:
        return frozenset(self.scopes.split())

    def is_usable(self, now: datetime) -> bool:
        return self.revoked_at is None and self.expires_at > now
