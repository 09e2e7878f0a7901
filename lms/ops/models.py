from __future__ import annotations

from datetime import datetime

from sqlalchemy import String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from lms.db import UTCDateTime
from lms.extensions import db


class RateLimitCounter(db.Model):  # type: ignore[name-defined]
    """Hits per key per fixed window: the rate-limit store when no Redis is configured.

    In the database so that every worker process and app server shares one count; windows older
    than a day are deleted as new ones start."""

    __tablename__ = "rate_limit_counter"
    __table_args__ = (UniqueConstraint("key", "window_start"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    key: Mapped[str] = mapped_column(String(200))
    window_start: Mapped[datetime] = mapped_column(UTCDateTime, index=True)
    count: Mapped[int] = mapped_column(default=0)
