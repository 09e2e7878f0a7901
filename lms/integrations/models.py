"""Webhook subscriptions and deliveries, the xAPI statement outbox (issue 24).

A delivery row is written by a signal receiver inside the transaction of the change it reports (so a
rolled-back change leaves none) and sent by a job after the commit; its body is stored as the exact bytes
that are signed and sent, so every retry carries the same webhook-id, body and signature recipe.
"""

from __future__ import annotations

import enum
from datetime import datetime

from sqlalchemy import JSON, ForeignKey, Index, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from lms.db import UTCDateTime, utcnow
from lms.extensions import db


class WebhookEvent(enum.StrEnum):
    ENROLMENT_DECIDED = "enrolment.decided"
    ENROLMENT_COMPLETED = "enrolment.completed"
    CERTIFICATE_ISSUED = "certificate.issued"
    CERTIFICATE_REVOKED = "certificate.revoked"


class SubscriptionStatus(enum.StrEnum):
    ACTIVE = "active"
    PAUSED = "paused"  # by a person, or after repeated failures (paused_reason says which)


# webhook_subscription.paused_reason (the page says it in the reader's language)
PAUSED_BY_FAILURES = "failures"
PAUSED_BY_PERSON = "person"


class DeliveryStatus(enum.StrEnum):
    PENDING = "pending"  # waiting for its first try or its next retry (next_attempt_at)
    DELIVERED = "delivered"  # the receiver answered 2xx
    FAILED = "failed"  # gave up after the last retry


class OutboxStatus(enum.StrEnum):
    PENDING = "pending"
    SENT = "sent"
    FAILED = "failed"


class WebhookSubscription(db.Model):  # type: ignore[name-defined]
    """An authority's (its focal points manage it) or the academy's (authority_id None: admins) endpoint.
    ``secret`` is the Standard Webhooks secret (``whsec_`` + base64), shown once when created; it is kept
    because every delivery is signed with it."""

    __tablename__ = "webhook_subscription"

    id: Mapped[int] = mapped_column(primary_key=True)
    authority_id: Mapped[int | None] = mapped_column(
        ForeignKey("authority.id", ondelete="CASCADE"), index=True
    )
    url: Mapped[str] = mapped_column(String(500))
    description: Mapped[str] = mapped_column(String(200), default="")
    events: Mapped[list[str]] = mapped_column(JSON, default=list)
    secret: Mapped[str] = mapped_column(String(100))
    status: Mapped[str] = mapped_column(String(10), default=SubscriptionStatus.ACTIVE)
    paused_reason: Mapped[str | None] = mapped_column(String(200))
    consecutive_failures: Mapped[int] = mapped_column(default=0)
    created_by_id: Mapped[int | None] = mapped_column(ForeignKey("user.id", ondelete="SET NULL"))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


class WebhookDelivery(db.Model):  # type: ignore[name-defined]
    """One event for one subscription: the message id (``webhook-id``), the exact body, its tries."""

    __tablename__ = "webhook_delivery"
    __table_args__ = (
        UniqueConstraint("subscription_id", "message_id"),
        Index("ix_webhook_delivery_due", "status", "next_attempt_at"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    subscription_id: Mapped[int] = mapped_column(ForeignKey("webhook_subscription.id", ondelete="CASCADE"))
    message_id: Mapped[str] = mapped_column(String(60))
    event_type: Mapped[str] = mapped_column(String(40))
    body: Mapped[str] = mapped_column(Text)
    status: Mapped[str] = mapped_column(String(10), default=DeliveryStatus.PENDING)
    attempts: Mapped[int] = mapped_column(default=0)
    next_attempt_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    last_attempt_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    last_status_code: Mapped[int | None]
    last_error: Mapped[str | None] = mapped_column(String(300))
    delivered_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    subscription: Mapped[WebhookSubscription] = relationship()


class LrsSettings(db.Model):  # type: ignore[name-defined]
    """The academy's learning record store (one row, id 1); LMS_XAPI_* in the configuration wins."""

    __tablename__ = "xapi_lrs_settings"

    id: Mapped[int] = mapped_column(primary_key=True)
    enabled: Mapped[bool] = mapped_column(default=False)
    endpoint: Mapped[str] = mapped_column(String(500), default="")
    key: Mapped[str] = mapped_column(String(200), default="")
    secret: Mapped[str] = mapped_column(String(200), default="")
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, onupdate=utcnow)


class XapiStatement(db.Model):  # type: ignore[name-defined]
    """One xAPI statement waiting for, or sent to, the learning record store. ``statement_id`` is a UUID
    v5 of the event, so the same event recorded or sent twice is one statement at the LRS."""

    __tablename__ = "xapi_statement"
    __table_args__ = (Index("ix_xapi_statement_due", "status", "next_attempt_at"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    statement_id: Mapped[str] = mapped_column(String(36), unique=True)
    verb: Mapped[str] = mapped_column(String(20))
    statement: Mapped[dict[str, object]] = mapped_column(JSON)
    status: Mapped[str] = mapped_column(String(10), default=OutboxStatus.PENDING)
    attempts: Mapped[int] = mapped_column(default=0)
    next_attempt_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    last_error: Mapped[str | None] = mapped_column(String(300))
    sent_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
