"""The xAPI outbox: statements recorded in the transaction of the learning event (only while a learning
record store is configured), sent after the commit by a job with retries.

Each statement goes with ``PUT {endpoint}/statements?statementId=<id>`` (xAPI 1.0.3, section 2.1 of
the communication part), so a resend is a no-op at the LRS: it answers 204 again, or 409 when it holds
that id already (taken as sent). Tries are claimed like webhook deliveries (lms.integrations.delivery).
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import datetime
from typing import Any

import requests
from flask import current_app
from flask_babel import gettext as _
from sqlalchemy import select, update

from lms.audit.services import record_event
from lms.db import insert_unless_present, utcnow
from lms.enrolment.models import Enrolment
from lms.errors import Conflict, ValidationFailed
from lms.extensions import db
from lms.integrations import xapi
from lms.integrations.delivery import LEASE, TIMEOUT, retry_delay
from lms.integrations.events import note_for_after_commit
from lms.integrations.models import LrsSettings, OutboxStatus, XapiStatement
from lms.integrations.subscriptions import check_url
from lms.settings.services import get_settings

MAX_ATTEMPTS = 12


@dataclass(frozen=True)
class LrsConfig:
    enabled: bool
    endpoint: str
    key: str
    secret: str
    from_config: bool  # LMS_XAPI_ENDPOINT set: the admin page shows it and cannot change it


def lrs_config() -> LrsConfig:
    config = current_app.config
    if config.get("XAPI_ENDPOINT"):  # the environment's LMS_XAPI_ENDPOINT (lms.config strips LMS_)
        return LrsConfig(
            True,
            str(config["XAPI_ENDPOINT"]).rstrip("/"),
            str(config.get("XAPI_KEY", "")),
            str(config.get("XAPI_SECRET", "")),
            True,
        )
    row = db.session.get(LrsSettings, 1)
    if row is None:
        return LrsConfig(False, "", "", "", False)
    return LrsConfig(row.enabled and bool(row.endpoint), row.endpoint.rstrip("/"), row.key, row.secret, False)


def learning_of(enrolment: Enrolment) -> xapi.Learning:
    settings = get_settings()
    run = enrolment.run
    course = run.course
    return xapi.Learning(
        base_url=settings.public_base_url,
        academy_name=settings.academy_name,
        user_id=enrolment.user_id,
        enrolment_id=enrolment.id,
        course_slug=course.slug,
        course_title=course.title,
        run_id=run.id,
        run_title=run.title,
        language=enrolment.language or run.language or "en",
    )


def record(statement: dict[str, Any]) -> None:
    """Add the statement to the outbox unless its id is there already (the same event twice)."""
    values = {
        "statement_id": statement["id"],
        "verb": statement["verb"]["display"]["en-US"],
        "statement": statement,
        "status": OutboxStatus.PENDING,
        "attempts": 0,
        "next_attempt_at": utcnow(),
        "created_at": utcnow(),
    }
    dialect = db.session.get_bind().dialect.name
    statement_insert = insert_unless_present(XapiStatement.__table__, ("statement_id",), dialect)
    new_id = db.session.execute(statement_insert, values).scalar()
    if new_id is not None:
        note_for_after_commit("xapi_statements", [new_id])


@dataclass
class SendOutcome:
    sent: int = 0
    failed: int = 0
    next_attempt_at: datetime | None = None


def send_due(ids: list[int] | None = None, now: datetime | None = None, limit: int = 100) -> SendOutcome:
    """PUT the due statements to the LRS. Commits the claims before the calls, then each outcome."""
    now = now or utcnow()
    config = lrs_config()
    outcome = SendOutcome()
    if not config.enabled:
        db.session.commit()
        return outcome
    claimed = _claim(ids, now, limit)
    db.session.commit()
    for row_id, statement_id, body, attempts in claimed:
        error = _put(config, statement_id, body)
        row = db.session.get(XapiStatement, row_id)
        if row is not None:
            row.last_error = error
            if error is None:
                row.status, row.sent_at = OutboxStatus.SENT, now
            elif attempts >= MAX_ATTEMPTS:
                row.status = OutboxStatus.FAILED
            else:
                row.next_attempt_at = now + retry_delay(attempts)
        db.session.commit()
        outcome.sent += error is None
        outcome.failed += error is not None
    if ids:
        outcome.next_attempt_at = db.session.scalar(
            select(XapiStatement.next_attempt_at)
            .where(XapiStatement.id.in_(ids), XapiStatement.status == OutboxStatus.PENDING)
            .order_by(XapiStatement.next_attempt_at)
            .limit(1)
        )
        db.session.commit()
    return outcome


def _claim(ids: list[int] | None, now: datetime, limit: int) -> list[tuple[int, str, str, int]]:
    query = (
        select(XapiStatement)
        .where(XapiStatement.status == OutboxStatus.PENDING, XapiStatement.next_attempt_at <= now)
        .order_by(XapiStatement.id)
        .limit(limit)
    )
    if ids is not None:
        query = query.where(XapiStatement.id.in_(ids))
    claimed = []
    for row in db.session.scalars(query).all():
        won = db.session.execute(
            update(XapiStatement)
            .where(XapiStatement.id == row.id, XapiStatement.attempts == row.attempts)
            .values(attempts=row.attempts + 1, next_attempt_at=now + LEASE)
            .execution_options(synchronize_session=False)
        )
        if getattr(won, "rowcount", 0) == 1:
            body = json.dumps(row.statement, separators=(",", ":"), sort_keys=True)
            claimed.append((row.id, row.statement_id, body, row.attempts + 1))
    return claimed


def _put(config: LrsConfig, statement_id: str, body: str) -> str | None:
    """None when the LRS holds the statement now; else what went wrong."""
    try:
        response = requests.put(
            f"{config.endpoint}/statements",
            params={"statementId": statement_id},
            data=body.encode(),
            headers={"X-Experience-API-Version": xapi.XAPI_VERSION, "Content-Type": "application/json"},
            auth=(config.key, config.secret) if config.key else None,
            timeout=TIMEOUT,
            allow_redirects=False,
        )
    except requests.RequestException as error:
        return f"{type(error).__name__}: {error}"[:300]
    if response.status_code in (200, 204, 409):  # 409: it has this id already (a resend)
        return None
    return f"HTTP {response.status_code}: {response.text[:200]}"


def update_lrs_settings(
    enabled: bool, endpoint: str, key: str, secret: str | None, actor_id: int | None
) -> LrsSettings:
    """Save the LRS; an empty ``secret`` keeps the stored one (the form never shows it)."""
    if lrs_config().from_config:
        raise Conflict(_("The learning record store is set in the configuration (LMS_XAPI_ENDPOINT)."))
    endpoint = endpoint.strip().rstrip("/")
    if endpoint:
        endpoint = check_url(endpoint)
    elif enabled:
        raise ValidationFailed(_("Give the LRS endpoint to send statements to."))
    row = db.session.get(LrsSettings, 1)
    if row is None:
        row = LrsSettings(id=1)
        db.session.add(row)
    row.enabled, row.endpoint, row.key = enabled, endpoint, key.strip()
    if secret:
        row.secret = secret
    db.session.flush()
    audit = {"enabled": enabled, "endpoint": endpoint, "key": row.key, "secret_changed": bool(secret)}
    record_event("xapi.lrs_changed", "xapi_lrs_settings", 1, actor_id=actor_id, after=audit)
    return row
