"""Managing webhook subscriptions: who may, creating (the secret shown once), pausing, resuming, deleting.

An authority's subscription is managed by that authority's focal points (and admins); the academy's
(authority_id None) by admins. Anyone else is told "not found", as for any object that is not theirs.
"""

from __future__ import annotations

import ipaddress
from dataclasses import dataclass
from urllib.parse import urlsplit

from flask import current_app
from flask_babel import gettext as _
from sqlalchemy import select, update

from lms.audit.services import record_event
from lms.auth.models import Role, User
from lms.db import utcnow
from lms.errors import NotFound, ValidationFailed
from lms.extensions import db
from lms.integrations.models import (
    PAUSED_BY_PERSON,
    DeliveryStatus,
    SubscriptionStatus,
    WebhookDelivery,
    WebhookEvent,
    WebhookSubscription,
)
from lms.integrations.signing import new_secret
from lms.orgs.models import Authority


@dataclass(frozen=True)
class NewSubscription:
    url: str
    events: list[str]
    description: str = ""
    authority_id: int | None = None  # None: the academy's own (admins only)


def is_admin(actor: User) -> bool:
    return actor.has_role(Role.ADMIN)


def may_manage(actor: User, subscription: WebhookSubscription) -> bool:
    if is_admin(actor):
        return True
    return (
        subscription.authority_id is not None
        and subscription.authority_id in actor.focal_point_authority_ids()
    )


def subscription_for(actor: User, subscription_id: int) -> WebhookSubscription:
    subscription = db.session.get(WebhookSubscription, subscription_id)
    if subscription is None or not may_manage(actor, subscription):
        raise NotFound(_("No such webhook subscription."))
    return subscription


def http_allowed() -> bool:
    """Plain http only where the configuration says so (tests, development: a receiver on 127.0.0.1)."""
    return bool(current_app.config.get("WEBHOOKS_ALLOW_HTTP", current_app.debug or current_app.testing))


def check_url(url: str) -> str:
    url = (url or "").strip()
    parts = urlsplit(url)
    if parts.scheme not in ("https", "http") or not parts.hostname or parts.username or parts.password:
        raise ValidationFailed(_("Give the full address of the receiver, starting with https://."))
    if parts.scheme == "http" and not http_allowed():
        raise ValidationFailed(_("The receiver's address must start with https://."))
    if not http_allowed() and _is_local(parts.hostname):
        raise ValidationFailed(_("The receiver must be reachable on the internet, not a local address."))
    return url


def _is_local(hostname: str) -> bool:
    if hostname == "localhost" or hostname.endswith(".localhost"):
        return True
    try:
        address = ipaddress.ip_address(hostname.strip("[]"))
    except ValueError:
        return False
    return address.is_private or address.is_loopback or address.is_link_local or address.is_reserved


def check_events(events: list[str]) -> list[str]:
    known = [event.value for event in WebhookEvent]
    chosen = [event for event in known if event in set(events)]
    if not chosen or len(chosen) != len(set(events)):
        raise ValidationFailed(_("Choose at least one event."))
    return chosen


def create_subscription(actor: User, new: NewSubscription) -> tuple[WebhookSubscription, str]:
    """The new subscription and its secret, which is shown this once."""
    if new.authority_id is None:
        if not is_admin(actor):
            raise NotFound(_("No such authority."))
    elif (
        not is_admin(actor) and new.authority_id not in actor.focal_point_authority_ids()
    ) or db.session.get(Authority, new.authority_id) is None:
        raise NotFound(_("No such authority."))
    secret = new_secret()
    subscription = WebhookSubscription(
        authority_id=new.authority_id,
        url=check_url(new.url),
        events=check_events(new.events),
        description=(new.description or "").strip()[:200],
        secret=secret,
        created_by_id=actor.id,
    )
    db.session.add(subscription)
    db.session.flush()
    record_event(
        "webhook.created",
        "webhook_subscription",
        subscription.id,
        actor_id=actor.id,
        after={"url": subscription.url, "events": subscription.events, "authority_id": new.authority_id},
    )
    return subscription, secret


def pause(actor: User, subscription: WebhookSubscription) -> None:
    subscription.status = SubscriptionStatus.PAUSED
    subscription.paused_reason = PAUSED_BY_PERSON
    db.session.flush()
    record_event("webhook.paused", "webhook_subscription", subscription.id, actor_id=actor.id)


def resume(actor: User, subscription: WebhookSubscription) -> None:
    """Active again; the deliveries that waited are due now (the job is handed them after the commit)."""
    subscription.status = SubscriptionStatus.ACTIVE
    subscription.paused_reason = None
    subscription.consecutive_failures = 0
    db.session.execute(
        update(WebhookDelivery)
        .where(
            WebhookDelivery.subscription_id == subscription.id,
            WebhookDelivery.status == DeliveryStatus.PENDING,
        )
        .values(next_attempt_at=utcnow())
    )
    db.session.flush()
    record_event("webhook.resumed", "webhook_subscription", subscription.id, actor_id=actor.id)


def pending_delivery_ids(subscription: WebhookSubscription) -> list[int]:
    return list(
        db.session.scalars(
            select(WebhookDelivery.id).where(
                WebhookDelivery.subscription_id == subscription.id,
                WebhookDelivery.status == DeliveryStatus.PENDING,
            )
        )
    )


def delete(actor: User, subscription: WebhookSubscription) -> None:
    record_event(
        "webhook.deleted",
        "webhook_subscription",
        subscription.id,
        actor_id=actor.id,
        before={"url": subscription.url, "authority_id": subscription.authority_id},
    )
    db.session.delete(subscription)
    db.session.flush()
