"""Writing audit records. Call `record_event` inside the transaction of the change it describes."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from flask import has_request_context, request
from sqlalchemy import Table, select

from lms.audit.chain import (
    GENESIS_HASH,
    ChainEntry,
    ChainProblem,
    hash_from_halves,
    payload_halves,
    record_hash,
    verify_chain,
)
from lms.audit.models import AuditRecord
from lms.db import PreparedInsert, utcnow
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
    ip_address = request.remote_addr if has_request_context() else None
    record = AuditRecord(
        at=at,
        actor_id=actor_id,
        action=action,
        subject_type=subject_type,
        subject_id=subject,
        before=before,
        after=after,
        reason=reason,
        ip_address=ip_address,
        previous_hash=previous,
        hash=record_hash(
            previous, at, actor_id, action, subject_type, subject, before, after, reason, ip_address
        ),
    )
    db.session.add(record)
    db.session.flush()
    return record


@dataclass(frozen=True)
class AuditEvent:
    action: str
    subject_type: str
    subject_id: object | None
    actor_id: int | None = None
    before: dict[str, Any] | None = None
    after: dict[str, Any] | None = None
    reason: str | None = None


class PreparedEvents:
    """Many records for one bulk write (a CSV import), prepared before the write lock is taken: their
    columns converted for the driver and their hashed payloads but for the predecessor's hash
    (lms.audit.chain.payload_halves), which is most of the work. ``record()``, under the lock, only
    chains them (one SHA-256 each, from the chain's tail) and inserts them: the same chain as
    ``record_event``. Their time is when they were prepared, moments before the write."""

    def __init__(self, events: Sequence[AuditEvent]) -> None:
        at = utcnow()
        ip_address = request.remote_addr if has_request_context() else None
        rows = []
        self._halves = []
        for event in events:
            subject = str(event.subject_id) if event.subject_id is not None else None
            rows.append(
                {
                    "at": at,
                    "actor_id": event.actor_id,
                    "action": event.action,
                    "subject_type": event.subject_type,
                    "subject_id": subject,
                    "before": event.before,
                    "after": event.after,
                    "reason": event.reason,
                    "ip_address": ip_address,
                }
            )
            self._halves.append(
                payload_halves(
                    at,
                    event.actor_id,
                    event.action,
                    event.subject_type,
                    subject,
                    event.before,
                    event.after,
                    event.reason,
                    ip_address,
                )
            )
        self._insert = PreparedInsert(_table(), rows, late=("previous_hash", "hash"))

    def record(self) -> int:
        """Chain and write them, in the caller's writing transaction. Returns the number written."""
        if not self._halves:
            return 0
        previous = _lock_chain_tail()
        chained = []
        for halves in self._halves:
            digest = hash_from_halves(previous, halves)
            chained.append((previous, digest))
            previous = digest
        # One statement in list order, the tail locked: the ids follow the chain.
        self._insert.execute(chained)
        return len(chained)


def _table() -> Table:
    table: Table = AuditRecord.__table__
    return table


def chain_head() -> tuple[int, int | None, str]:
    """(number of records, id of the newest, its hash): what a checkpoint signs."""
    count = db.session.scalar(select(db.func.count(AuditRecord.id))) or 0
    newest = db.session.execute(
        select(AuditRecord.id, AuditRecord.hash).order_by(AuditRecord.id.desc()).limit(1)
    ).first()
    return (count, newest[0], newest[1]) if newest else (0, None, GENESIS_HASH)


def records_up_to(record_id: int) -> int:
    return db.session.scalar(select(db.func.count(AuditRecord.id)).where(AuditRecord.id <= record_id)) or 0


def record_hash_of(record_id: int) -> str | None:
    return db.session.scalar(select(AuditRecord.hash).where(AuditRecord.id == record_id))


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
            ip_address=r.ip_address,
        )
        for r in rows
    )
