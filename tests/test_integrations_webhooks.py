"""Webhooks (issue 24) against a real local HTTP receiver: the documented signature recipe, retries with
backoff until the receiver recovers (the event arrives once), nothing for a rolled-back change, the pause
after repeated failures and the resume, an authority's subscription seeing only its own staff."""

from __future__ import annotations

import json
import re
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from flask import Flask
from sqlalchemy import func, select
from standardwebhooks import Webhook

from lms.auth.models import Role, User
from lms.db import utcnow
from lms.enrolment import nominations
from lms.enrolment.models import CourseRun, Enrolment, EnrolmentStatus
from lms.extensions import db
from lms.integrations import delivery, subscriptions
from lms.integrations.models import (
    PAUSED_BY_FAILURES,
    DeliveryStatus,
    SubscriptionStatus,
    WebhookDelivery,
    WebhookSubscription,
)
from lms.orgs.models import Authority
from tests.enrolment_support import UserClient, make_course, make_run
from tests.integrations_support import Receiver, running, unused_local_url

DOCS = Path(__file__).resolve().parents[1] / "docs" / "integrations.md"
ALL_EVENTS = ["enrolment.decided", "enrolment.completed", "certificate.issued", "certificate.revoked"]


def documented_verify() -> Callable[..., bool]:
    """The Python recipe of docs/integrations.md, run exactly as written there."""
    text = DOCS.read_text(encoding="utf-8")
    block = re.search(r"<!-- recipe:python -->\s*```python\n(.*?)```", text, re.S)
    assert block is not None, "docs/integrations.md lost its recipe"
    namespace: dict[str, Any] = {}
    exec(compile(block.group(1), str(DOCS), "exec"), namespace)  # noqa: S102  # our own docs, on purpose
    return namespace["verify"]


@dataclass
class World:
    admin: User
    authority_a: Authority
    authority_b: Authority
    focal_a: User
    staff_a: User
    staff_b: User
    run: CourseRun


@pytest.fixture
def world(app: Flask, make_user: Callable[..., User], make_authority: Callable[..., Authority]) -> World:
    a, b = make_authority(), make_authority()
    run = make_run(make_course())
    return World(
        admin=make_user(Role.ADMIN),
        authority_a=a,
        authority_b=b,
        focal_a=make_user(Role.FOCAL_POINT, authority=a),
        staff_a=make_user(authority=a),
        staff_b=make_user(authority=b),
        run=run,
    )


def subscribe(actor: User, url: str, authority_id: int | None = None, events: list[str] | None = None) -> str:
    new = subscriptions.NewSubscription(url, events or ALL_EVENTS, "test", authority_id)
    _subscription, secret = subscriptions.create_subscription(actor, new)
    db.session.commit()
    return secret


def nominate_and_approve(world: World, person: User) -> Enrolment:
    focal = world.focal_a if person.authority_id == world.authority_a.id else world.admin
    enrolment = nominations.nominate(focal, world.run, person, "Needed at the crossing point")
    db.session.commit()
    nominations.approve(enrolment, world.admin)
    db.session.commit()
    return enrolment


def run_job(now: datetime) -> delivery.Outcome:
    return delivery.deliver_due(now=now)


def test_delivery_is_signed_as_documented_and_verifies(app: Flask, world: World) -> None:
    with running(Receiver()) as receiver:
        secret = subscribe(world.admin, receiver.url + "/hook")
        assert secret.startswith("whsec_")
        enrolment = nominate_and_approve(world, world.staff_a)
        outcome = run_job(utcnow())
    assert outcome.delivered == 1
    [received] = receiver.requests
    assert received.method == "POST" and received.path == "/hook"
    assert documented_verify()(secret, received.headers, received.body)
    assert not documented_verify()(secret, received.headers, received.body + b" ")
    assert not documented_verify()("whsec_" + "A" * 43 + "=", received.headers, received.body)
    # the reference implementation agrees
    payload = Webhook(secret).verify(received.body, received.headers)
    assert payload["type"] == "enrolment.decided"
    assert payload["data"]["decision"] == "approved"
    assert payload["data"]["enrolment"]["id"] == enrolment.id
    assert payload["data"]["enrolment"]["status"] == EnrolmentStatus.ENROLLED
    assert payload["data"]["enrolment"]["person"]["email"] == world.staff_a.email
    assert received.headers["webhook-id"].startswith("msg_")


def test_a_receiver_that_fails_three_times_then_recovers_gets_the_event_once(
    app: Flask, world: World
) -> None:
    with running(Receiver(statuses=[500, 503, 502, 200])) as receiver:
        subscribe(world.admin, receiver.url)
        nominate_and_approve(world, world.staff_a)
        now = utcnow()
        for attempt in range(1, 4):
            assert run_job(now).failed == 1
            row = db.session.scalars(select(WebhookDelivery)).one()
            assert row.status == DeliveryStatus.PENDING and row.attempts == attempt
            assert row.next_attempt_at == now + delivery.retry_delay(attempt)  # 30 s, 2 min, 10 min
            assert run_job(now + delivery.retry_delay(attempt) - timedelta(seconds=1)).failed == 0  # not due
            now += delivery.retry_delay(attempt)
        assert run_job(now).delivered == 1
        for _ in range(3):  # the job and the sweep coming back later send nothing more
            now += timedelta(days=1)
            assert run_job(now) == delivery.Outcome()
    assert [request.status for request in receiver.requests] == [500, 503, 502, 200]
    assert len(receiver.accepted) == 1
    assert len({request.headers["webhook-id"] for request in receiver.requests}) == 1  # one message, retried
    assert len({request.body for request in receiver.requests}) == 1
    row = db.session.scalars(select(WebhookDelivery)).one()
    assert row.status == DeliveryStatus.DELIVERED and row.attempts == 4 and row.last_status_code == 200
    assert db.session.scalars(select(WebhookSubscription)).one().consecutive_failures == 0


def test_nothing_is_recorded_or_sent_for_a_rolled_back_change(app: Flask, world: World) -> None:
    with running(Receiver()) as receiver:
        subscribe(world.admin, receiver.url)
        enrolment = nominations.nominate(world.focal_a, world.run, world.staff_a, "Needed")
        db.session.commit()
        nominations.approve(enrolment, world.admin)
        assert db.session.scalar(select(func.count()).select_from(WebhookDelivery)) == 1  # in the transaction
        db.session.rollback()  # the change fails after the event was recorded
        assert run_job(utcnow() + timedelta(days=1)) == delivery.Outcome()
    assert receiver.requests == []
    assert db.session.scalar(select(func.count()).select_from(WebhookDelivery)) == 0


def test_a_request_never_waits_for_a_receiver_and_a_refused_one_records_nothing(
    app: Flask, world: World
) -> None:
    """The admin decides on the page while the receiver is down: the page answers at once (the job
    gets the delivery after the commit); a refused decision (no reason) leaves no delivery."""
    subscribe(world.admin, unused_local_url())
    enrolment = nominations.nominate(world.focal_a, world.run, world.staff_a, "Needed")
    db.session.commit()
    admin = UserClient(app, world.admin)
    url = f"/admin/course-runs/{world.run.id}/decide"
    refused = admin.post(url, data={"enrolment_ids": [str(enrolment.id)], "reason": ""})
    db.session.rollback()
    assert refused.status_code in (302, 422)
    assert db.session.scalar(select(func.count()).select_from(WebhookDelivery)) == 0
    response = admin.post(url, data={"enrolment_ids": [str(enrolment.id)], "approve": "1"})
    assert response.status_code == 302
    db.session.rollback()
    row = db.session.scalars(select(WebhookDelivery)).one()
    assert row.status == DeliveryStatus.PENDING and row.attempts == 0  # nothing tried inside the request
    assert json.loads(row.body)["data"]["enrolment"]["status"] == EnrolmentStatus.ENROLLED


def test_the_subscription_pauses_after_repeated_failures_and_resume_sends_what_waited(
    app: Flask, world: World
) -> None:
    with running(Receiver(statuses=[500] * delivery.PAUSE_AFTER + [204])) as receiver:
        subscribe(world.admin, receiver.url)
        nominate_and_approve(world, world.staff_a)
        now = utcnow()
        for attempt in range(1, delivery.PAUSE_AFTER + 1):
            assert run_job(now).failed == 1
            now += delivery.retry_delay(attempt)
        subscription = db.session.scalars(select(WebhookSubscription)).one()
        assert subscription.status == SubscriptionStatus.PAUSED
        assert subscription.paused_reason == PAUSED_BY_FAILURES
        nominate_and_approve(world, world.staff_b)  # events still queue up for a paused subscription
        assert run_job(now + timedelta(days=2)) == delivery.Outcome()  # but nothing is sent
        assert len(receiver.requests) == delivery.PAUSE_AFTER
        page = UserClient(app, world.admin)
        shown = page.get(f"/integrations/webhooks/{subscription.id}").get_data(as_text=True)
        assert "Paused after repeated failures" in shown and "Resume" in shown
        assert page.post(f"/integrations/webhooks/{subscription.id}/resume").status_code == 302
        db.session.rollback()
        assert run_job(utcnow()).delivered == 2
    assert db.session.scalars(select(WebhookSubscription)).one().status == SubscriptionStatus.ACTIVE
    assert {row.status for row in db.session.scalars(select(WebhookDelivery))} == {DeliveryStatus.DELIVERED}


def test_an_authority_subscription_receives_only_its_own_staff(app: Flask, world: World) -> None:
    with running(Receiver()) as receiver:
        subscribe(world.focal_a, receiver.url + "/a", authority_id=world.authority_a.id)
        subscribe(world.admin, receiver.url + "/academy")
        nominate_and_approve(world, world.staff_b)
        nominate_and_approve(world, world.staff_a)
        run_job(utcnow())
    paths = sorted(
        (request.path, json.loads(request.body)["data"]["enrolment"]["person"]["id"])
        for request in receiver.requests
    )
    assert paths == sorted(
        [("/a", world.staff_a.id), ("/academy", world.staff_a.id), ("/academy", world.staff_b.id)]
    )
