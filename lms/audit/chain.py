"""The audit hash chain as pure functions: canonical record bytes -> SHA-256, chained."""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime
from typing import Any

GENESIS_HASH = "0" * 64


@dataclass(frozen=True)
class ChainEntry:
    id: int
    at: datetime
    actor_id: int | None
    action: str
    subject_type: str
    subject_id: str | None
    before: dict[str, Any] | None
    after: dict[str, Any] | None
    reason: str | None
    previous_hash: str
    hash: str


def record_hash(
    previous_hash: str,
    at: datetime,
    actor_id: int | None,
    action: str,
    subject_type: str,
    subject_id: str | None,
    before: dict[str, Any] | None,
    after: dict[str, Any] | None,
    reason: str | None,
) -> str:
    payload = _payload(previous_hash, at, actor_id, action, subject_type, subject_id, before, after, reason)
    return hashlib.sha256(payload.encode()).hexdigest()


def _payload(
    previous_hash: str,
    at: datetime,
    actor_id: int | None,
    action: str,
    subject_type: str,
    subject_id: str | None,
    before: dict[str, Any] | None,
    after: dict[str, Any] | None,
    reason: str | None,
) -> str:
    return json.dumps(
        {
            "previous": previous_hash,
            "at": at.isoformat(timespec="microseconds"),
            "actor": actor_id,
            "action": action,
            "subject": [subject_type, subject_id],
            "before": before,
            "after": after,
            "reason": reason,
        },
        sort_keys=True,
        ensure_ascii=False,
        separators=(",", ":"),
        default=str,
    )


_PREVIOUS_MARK = "previous-hash-goes-here"
_PREVIOUS_KEY = f'"previous":"{_PREVIOUS_MARK}"'


def payload_halves(
    at: datetime,
    actor_id: int | None,
    action: str,
    subject_type: str,
    subject_id: str | None,
    before: dict[str, Any] | None,
    after: dict[str, Any] | None,
    reason: str | None,
) -> tuple[bytes, bytes]:
    """A record's hashed payload, but for its predecessor's hash: what comes before and after it.

    A bulk write prepares these before it takes the write lock (the JSON is most of the work), and
    chains them under the lock with ``hash_from_halves``; the hash is ``record_hash``'s (tested). The
    split is unambiguous: a value's quotes are escaped, so only the key reads '"previous":"'."""
    payload = _payload(_PREVIOUS_MARK, at, actor_id, action, subject_type, subject_id, before, after, reason)
    head, tail = payload.split(_PREVIOUS_KEY, 1)
    return f'{head}"previous":"'.encode(), f'"{tail}'.encode()


def hash_from_halves(previous_hash: str, halves: tuple[bytes, bytes]) -> str:
    return hashlib.sha256(halves[0] + previous_hash.encode() + halves[1]).hexdigest()


@dataclass(frozen=True)
class ChainProblem:
    record_id: int
    message: str


def verify_chain(entries: Iterable[ChainEntry]) -> list[ChainProblem]:
    """Entries in id order; every record must hash to itself and point at its predecessor."""
    problems: list[ChainProblem] = []
    expected_previous = GENESIS_HASH
    for entry in entries:
        if entry.previous_hash != expected_previous:
            problems.append(
                ChainProblem(entry.id, "does not follow the previous record (deleted or reordered)")
            )
        computed = record_hash(
            entry.previous_hash, entry.at, entry.actor_id, entry.action, entry.subject_type,
            entry.subject_id, entry.before, entry.after, entry.reason,
        )  # fmt: skip
        if computed != entry.hash:
            problems.append(ChainProblem(entry.id, "content does not match its hash (edited)"))
        expected_previous = entry.hash
    return problems
