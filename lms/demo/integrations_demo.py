"""Demo webhooks (issue 24): the academy's subscription to a local receiver with a short delivery log
(delivered, retried, given up), and the Ukrainian border guard's HR system subscription, paused after
repeated failures, with deliveries waiting for the Resume button. The rows are written directly (the
demo has no receiver running); new events of a `make run` session go to the academy's subscription and
show their retries in the log. Idempotent: nothing is added when the academy's subscription exists."""

from __future__ import annotations

import json
from datetime import timedelta

from sqlalchemy import select

from lms.auth.services import find_user_by_email
from lms.db import utcnow
from lms.extensions import db
from lms.integrations.models import (
    PAUSED_BY_FAILURES,
    DeliveryStatus,
    SubscriptionStatus,
    WebhookDelivery,
    WebhookSubscription,
)
from lms.integrations.signing import new_secret
from lms.orgs.models import Authority

ACADEMY_URL = "http://127.0.0.1:8099/lms-webhooks"
HR_URL = "https://hr.dpsu.example/lms/events"


def load_demo_webhooks() -> None:
    admin = find_user_by_email("admin@academy.test")
    focal = find_user_by_email("focal.ua@academy.test")
    authority = db.session.scalar(select(Authority).where(Authority.code == "ua-sbgs"))
    if admin is None or focal is None or authority is None:
        return
    if db.session.scalar(select(WebhookSubscription.id).where(WebhookSubscription.url == ACADEMY_URL)):
        return
    now = utcnow()
    academy = WebhookSubscription(
        url=ACADEMY_URL,
        description="Academy data warehouse (demo)",
        events=["enrolment.decided", "enrolment.completed", "certificate.issued", "certificate.revoked"],
        secret=new_secret(),
        created_by_id=admin.id,
        created_at=now - timedelta(days=20),
    )
    hr = WebhookSubscription(
        authority_id=authority.id,
        url=HR_URL,
        description="HR system of the State Border Guard Service (demo)",
        events=["enrolment.decided", "enrolment.completed", "certificate.issued"],
        secret=new_secret(),
        status=SubscriptionStatus.PAUSED,
        paused_reason=PAUSED_BY_FAILURES,
        consecutive_failures=8,
        created_by_id=focal.id,
        created_at=now - timedelta(days=12),
    )
    db.session.add_all([academy, hr])
    db.session.flush()
    rows = [
        (academy, "enrolment.completed", DeliveryStatus.DELIVERED, 1, 204, None, 9),
        (academy, "certificate.issued", DeliveryStatus.DELIVERED, 3, 200, None, 6),
        (academy, "enrolment.decided", DeliveryStatus.FAILED, 12, 500, "HTTP 500", 4),
        (hr, "enrolment.decided", DeliveryStatus.PENDING, 5, None, "ConnectionError: connection refused", 2),
        (hr, "enrolment.completed", DeliveryStatus.PENDING, 3, 503, "HTTP 503", 1),
    ]
    for number, (subscription, event, status, attempts, code, error, days_ago) in enumerate(rows, 1):
        at = now - timedelta(days=days_ago)
        body = json.dumps(
            {"type": event, "timestamp": at.isoformat(), "data": {"demo": True}}, sort_keys=True
        )
        db.session.add(
            WebhookDelivery(
                subscription_id=subscription.id,
                message_id=f"msg_demo{number:04d}",
                event_type=event,
                body=body,
                status=status,
                attempts=attempts,
                next_attempt_at=at + timedelta(hours=6),
                last_attempt_at=at + timedelta(hours=1),
                last_status_code=code,
                last_error=error,
                delivered_at=at if status == DeliveryStatus.DELIVERED else None,
                created_at=at,
            )
        )
    db.session.flush()
