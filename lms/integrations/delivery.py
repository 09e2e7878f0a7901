"""Sending webhook deliveries, after the commit, from a job (never from a request).

Each try is claimed first (a conditional UPDATE that moves ``next_attempt_at`` a lease ahead and counts
the attempt, committed before the receiver is contacted), so the job and the sweep never send one
delivery at the same time; the HTTP call runs with no transaction open; the outcome is recorded in a
short transaction of its own. A failure is retried with exponential backoff (RETRY_DELAYS); after
PAUSE_AFTER failures in a row the subscription is paused (its deliveries wait, and a resume sends
them); after MAX_ATTEMPTS one delivery is given up (failed). Delivery is at least once: a receiver
dedupes by ``webhook-id`` (a crash between its 2xx and our record sends again after the lease).
"""

from __future__ import annotations

import time
from dataclasses import dataclass
from datetime import datetime, timedelta

import requests
from flask import current_app
from sqlalchemy import select, update

from lms.db import utcnow
from lms.extensions import db
from lms.integrations.models import (
    PAUSED_BY_FAILURES,
    DeliveryStatus,
    SubscriptionStatus,
    WebhookDelivery,
    WebhookSubscription,
)
from lms.integrations.signing import signed_headers

# Seconds before the 2nd, 3rd... try: 30 s, 2 min, 10 min, 30 min, 1 h, 3 h, 6 h, 12 h, then 24 h.
RETRY_DELAYS = (30, 120, 600, 1800, 3600, 3 * 3600, 6 * 3600, 12 * 3600, 24 * 3600)
MAX_ATTEMPTS = 12
PAUSE_AFTER = 8  # consecutive failed tries of a subscription's deliveries
LEASE = timedelta(minutes=5)  # a claimed try not recorded by then (a crash) is tried again
TIMEOUT = (5, 10)  # connect, read (seconds): a slow receiver holds a worker, never a request


def retry_delay(attempts: int) -> timedelta:
    """Backoff after ``attempts`` failed tries (1 -> 30 s, 2 -> 2 min, ...)."""
    return timedelta(seconds=RETRY_DELAYS[min(max(attempts, 1), len(RETRY_DELAYS)) - 1])


@dataclass(frozen=True)
class Claimed:
    delivery_id: int
    subscription_id: int
    url: str
    secret: str
    message_id: str
    body: str
    attempts: int


@dataclass
class Outcome:
    delivered: int = 0
    failed: int = 0
    next_attempt_at: datetime | None = None  # the earliest retry still due among those asked for


def deliver_due(ids: list[int] | None = None, now: datetime | None = None, limit: int = 100) -> Outcome:
    """Send the due deliveries (or those of ``ids`` that are due) of active subscriptions. Commits."""
    now = now or utcnow()
    claimed = _claim(ids, now, limit)
    db.session.commit()  # the claims, before any receiver is contacted
    outcome = Outcome()
    for item in claimed:
        status_code, error = _post(item)
        ok = status_code is not None and 200 <= status_code < 300
        _record(item, ok, status_code, error, now)
        db.session.commit()  # each outcome in its own short transaction
        if ok:
            outcome.delivered += 1
        else:
            outcome.failed += 1
    if ids:
        outcome.next_attempt_at = db.session.scalar(
            select(WebhookDelivery.next_attempt_at)
            .join(WebhookSubscription)
            .where(
                WebhookDelivery.id.in_(ids),
                WebhookDelivery.status == DeliveryStatus.PENDING,
                WebhookSubscription.status == SubscriptionStatus.ACTIVE,
            )
            .order_by(WebhookDelivery.next_attempt_at)
            .limit(1)
        )
        db.session.commit()
    return outcome


def _claim(ids: list[int] | None, now: datetime, limit: int) -> list[Claimed]:
    query = (
        select(WebhookDelivery, WebhookSubscription)
        .join(WebhookSubscription)
        .where(
            WebhookDelivery.status == DeliveryStatus.PENDING,
            WebhookDelivery.next_attempt_at <= now,
            WebhookSubscription.status == SubscriptionStatus.ACTIVE,
        )
        .order_by(WebhookDelivery.id)
        .limit(limit)
    )
    if ids is not None:
        query = query.where(WebhookDelivery.id.in_(ids))
    claimed = []
    for delivery, subscription in db.session.execute(query).all():
        won = db.session.execute(
            update(WebhookDelivery)
            .where(
                WebhookDelivery.id == delivery.id,
                WebhookDelivery.status == DeliveryStatus.PENDING,
                WebhookDelivery.attempts == delivery.attempts,
            )
            .values(attempts=delivery.attempts + 1, next_attempt_at=now + LEASE, last_attempt_at=now)
            .execution_options(synchronize_session=False)
        )
        if getattr(won, "rowcount", 0) == 1:
            claimed.append(
                Claimed(
                    delivery.id,
                    subscription.id,
                    subscription.url,
                    subscription.secret,
                    delivery.message_id,
                    delivery.body,
                    delivery.attempts + 1,
                )
            )
    return claimed


def _post(item: Claimed) -> tuple[int | None, str | None]:
    headers = signed_headers(item.secret, item.message_id, int(time.time()), item.body)
    headers["user-agent"] = str(current_app.config.get("WEBHOOKS_USER_AGENT", "AcademyLMS-Webhooks/1"))
    try:
        response = requests.post(
            item.url, data=item.body.encode(), headers=headers, timeout=TIMEOUT, allow_redirects=False
        )
    except requests.RequestException as error:
        return None, f"{type(error).__name__}: {error}"[:300]
    problem = None if 200 <= response.status_code < 300 else f"HTTP {response.status_code}"
    return response.status_code, problem


def _record(item: Claimed, ok: bool, status_code: int | None, error: str | None, now: datetime) -> None:
    delivery = db.session.get(WebhookDelivery, item.delivery_id)
    subscription = db.session.get(WebhookSubscription, item.subscription_id)
    if delivery is None or subscription is None:  # deleted meanwhile
        return
    delivery.last_status_code = status_code
    delivery.last_error = error
    if ok:
        delivery.status = DeliveryStatus.DELIVERED
        delivery.delivered_at = now
        subscription.consecutive_failures = 0
        return
    if item.attempts >= MAX_ATTEMPTS:
        delivery.status = DeliveryStatus.FAILED
    else:
        delivery.next_attempt_at = now + retry_delay(item.attempts)
    subscription.consecutive_failures += 1
    if subscription.consecutive_failures >= PAUSE_AFTER and subscription.status == SubscriptionStatus.ACTIVE:
        subscription.status = SubscriptionStatus.PAUSED
        subscription.paused_reason = PAUSED_BY_FAILURES
