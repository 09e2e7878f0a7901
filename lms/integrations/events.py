"""Webhook events: the payloads, and a delivery row per interested subscription, written inside the
transaction of the change (a rolled-back change leaves none). The ids are noted on ``g`` so that the
after-request hook hands them to the delivery job once the view has committed."""

from __future__ import annotations

import json
import uuid
from datetime import date, datetime
from typing import Any

from flask import g, has_request_context
from sqlalchemy import or_, select

from lms.certificates.models import Certificate
from lms.db import utcnow
from lms.enrolment.models import Enrolment
from lms.extensions import db
from lms.integrations.models import WebhookDelivery, WebhookEvent, WebhookSubscription
from lms.integrations.xapi import registration_uuid
from lms.settings.services import public_base_url


def _iso(value: datetime | date | None) -> str | None:
    return value.isoformat() if value is not None else None


def enrolment_data(enrolment: Enrolment) -> dict[str, Any]:
    user, run = enrolment.user, enrolment.run
    return {
        "id": enrolment.id,
        "registration": registration_uuid(enrolment.id, public_base_url()),
        "status": str(enrolment.status),
        "authority_id": enrolment.authority_id,
        "person": {
            "id": user.id,
            "email": user.email,
            "given_name": user.given_name,
            "family_name": user.family_name,
        },
        "run": {
            "id": run.id,
            "title": run.title,
            "course_id": run.course_id,
            "starts_on": _iso(run.starts_on),
            "ends_on": _iso(run.ends_on),
        },
        "enrolled_at": _iso(enrolment.enrolled_at),
        "completed_at": _iso(enrolment.completed_at),
    }


def certificate_data(certificate: Certificate) -> dict[str, Any]:
    return {
        "code": certificate.code,
        "status": str(certificate.status),
        "method": str(certificate.method),
        "person_id": certificate.user_id,
        "run_id": certificate.run_id,
        "enrolment_id": certificate.enrolment_id,
        "course_title": certificate.course_title,
        "issued_at": _iso(certificate.issued_at),
        "valid_until": _iso(certificate.valid_until),
        "verify_url": f"{public_base_url()}/verify/{certificate.code}",
    }


def record_webhook_event(event: WebhookEvent, authority_id: int | None, data: dict[str, Any]) -> list[int]:
    """A delivery for each subscription of the academy, and of ``authority_id``, that takes ``event``
    (paused ones too: they get it when resumed). Returns the new delivery ids."""
    subscriptions = db.session.scalars(
        select(WebhookSubscription).where(
            or_(WebhookSubscription.authority_id.is_(None), WebhookSubscription.authority_id == authority_id)
            if authority_id is not None
            else WebhookSubscription.authority_id.is_(None)
        )
    ).all()
    interested = [s for s in subscriptions if event.value in (s.events or [])]
    if not interested:
        return []
    now = utcnow()
    message_id = f"msg_{uuid.uuid4().hex}"
    body = json.dumps(
        {"type": event.value, "timestamp": now.isoformat(), "data": data},
        separators=(",", ":"),
        sort_keys=True,
    )
    deliveries = [
        WebhookDelivery(
            subscription_id=s.id,
            message_id=message_id,
            event_type=event.value,
            body=body,
            next_attempt_at=now,
        )
        for s in interested
    ]
    db.session.add_all(deliveries)
    db.session.flush()
    ids = [delivery.id for delivery in deliveries]
    note_for_after_commit("webhook_deliveries", ids)
    return ids


def note_for_after_commit(kind: str, ids: list[int]) -> None:
    if has_request_context() and ids:
        g.setdefault(f"integrations_{kind}", []).extend(ids)


def take_noted(kind: str) -> list[int]:
    if not has_request_context():
        return []
    return list(g.pop(f"integrations_{kind}", None) or [])
