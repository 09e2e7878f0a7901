"""What the integration pages show, in a fixed number of queries."""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import func, select
from sqlalchemy.orm import joinedload

from lms.auth.models import User
from lms.extensions import db
from lms.integrations.models import (
    DeliveryStatus,
    OutboxStatus,
    WebhookDelivery,
    WebhookSubscription,
    XapiStatement,
)
from lms.integrations.subscriptions import is_admin
from lms.orgs.models import Authority

LOG_ROWS = 100


@dataclass(frozen=True)
class SubscriptionRow:
    subscription: WebhookSubscription
    owner: str | None  # the authority's name; None for the academy's own
    pending: int
    failed: int


def subscriptions_for(actor: User) -> list[SubscriptionRow]:
    query = select(WebhookSubscription, Authority.name).outerjoin(Authority).order_by(WebhookSubscription.id)
    if not is_admin(actor):
        query = query.where(WebhookSubscription.authority_id.in_(actor.focal_point_authority_ids() or {-1}))
    rows = db.session.execute(query).all()
    counts = _delivery_counts([subscription.id for subscription, _ in rows])
    return [
        SubscriptionRow(
            subscription,
            name,
            counts.get((subscription.id, DeliveryStatus.PENDING), 0),
            counts.get((subscription.id, DeliveryStatus.FAILED), 0),
        )
        for subscription, name in rows
    ]


def _delivery_counts(subscription_ids: list[int]) -> dict[tuple[int, str], int]:
    if not subscription_ids:
        return {}
    rows = db.session.execute(
        select(WebhookDelivery.subscription_id, WebhookDelivery.status, func.count())
        .where(WebhookDelivery.subscription_id.in_(subscription_ids))
        .group_by(WebhookDelivery.subscription_id, WebhookDelivery.status)
    ).all()
    return {(subscription_id, status): count for subscription_id, status, count in rows}


def deliveries(subscription_id: int | None = None, status: str | None = None) -> list[WebhookDelivery]:
    """The newest deliveries, of one subscription or of all (the admin's log)."""
    query = (
        select(WebhookDelivery)
        .options(joinedload(WebhookDelivery.subscription))
        .order_by(WebhookDelivery.id.desc())
        .limit(LOG_ROWS)
    )
    if subscription_id is not None:
        query = query.where(WebhookDelivery.subscription_id == subscription_id)
    if status in {s.value for s in DeliveryStatus}:
        query = query.where(WebhookDelivery.status == status)
    return list(db.session.scalars(query))


@dataclass(frozen=True)
class OutboxOverview:
    pending: int
    sent: int
    failed: int
    recent_problems: list[XapiStatement]


def outbox_overview() -> OutboxOverview:
    rows = db.session.execute(select(XapiStatement.status, func.count()).group_by(XapiStatement.status)).all()
    counts: dict[str, int] = {status: count for status, count in rows}
    problems = db.session.scalars(
        select(XapiStatement)
        .where(XapiStatement.last_error.is_not(None), XapiStatement.status != OutboxStatus.SENT)
        .order_by(XapiStatement.id.desc())
        .limit(20)
    )
    return OutboxOverview(
        counts.get(OutboxStatus.PENDING, 0),
        counts.get(OutboxStatus.SENT, 0),
        counts.get(OutboxStatus.FAILED, 0),
        list(problems),
    )


def owner_choices(actor: User) -> list[tuple[str, str]]:
    """Whom a new subscription may be for: the academy (admins) or one's authorities."""
    if is_admin(actor):
        authorities = db.session.execute(
            select(Authority.id, Authority.name)
            .where(Authority.retired_at.is_(None))
            .order_by(Authority.name)
        ).all()
        return [("", "")] + [(str(authority_id), name) for authority_id, name in authorities]
    ids = actor.focal_point_authority_ids()
    authorities = db.session.execute(
        select(Authority.id, Authority.name).where(Authority.id.in_(ids or {-1})).order_by(Authority.name)
    ).all()
    return [(str(authority_id), name) for authority_id, name in authorities]
