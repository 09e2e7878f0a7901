"""Writing audit records. Call `record_event` inside the transaction of the change it describes."""

from __future__ import annotations

from typing import Any

from flask import has_request_context, request
from sqlalchemy import select

from lms.audit.chain import GENESIS_HASH, ChainEntry, ChainProblem, record_hash, verify_chain
from lms.audit.models import AuditRecord
from lms.db import utcnow
from lms.extensions import db


def _lock_chain_tail() -> str:
    """Hash of the newest record. On PostgreSQL the row is locked so two writers cannot fork the chain;
    on SQLite writing transactions already start with BEGIN IMMEDIATE."""
    query = select(AuditRecord.hash).order_by(AuditRecord.id.desc()).limit(1)
    if db.session.get_bind().dialect.name == "postgresql":
        db.session.execute(select(db.func.pg_advisory_xact_lock(727_001)))
    return db.session.scalar(query) or GENESIS_HASH


def record_event(
    action: str,
    subject_type: str,
    subject_id: object | None,
    *,
    actor_id: int | None = None,
    before: dict[str, Any] | None = None,
    after: dict[str, Any] | None = None,
    reason: str | None = None,
) -> AuditRecord:
    previous = _lock_chain_tail()
    at = utcnow()
    subject = str(subject_id) if subject_id is not None else None
    record = AuditRecord(
        at=at,
        actor_id=actor_id,
        action=action,
        subject_type=subject_type,
        subject_id=subject,
        before=before,
        after=after,
        reason=reason,
        ip_address=request.remote_addr if has_request_context() else None,
        previous_hash=previous,
        hash=record_hash(previous, at, actor_id, action, subject_type, subject, before, after, reason),
    )
    db.session.add(record)
    db.session.flush()
    return record


def verify_audit_chain() -> list[ChainProblem]:
    rows = db.session.scalars(select(AuditRecord).order_by(AuditRecord.id)).yield_per(1000)
    return verify_chain(
        ChainEntry(
            id=r.id,
            at=r.at,
            actor_id=r.actor_id,
            action=r.action,
            subject_type=r.subject_type,
            subject_id=r.subject_id,
            before=r.before,
            after=r.after,
            reason=r.reason,
            previous_hash=r.previous_hash,
            hash=r.hash,
        )
        for r in rows
    )
