"""The audit hash chain as pure functions: canonical record bytes -> SHA-256, chained.

Two hash formats. Version 1 (records written before 2026-12-05) left the IP address out. Version 2
hashes every column of the record (``"v": 2`` and ``"ip"`` join the payload). No column names the
version: the migration point is in the chain itself. A record verifies under version 2, or under
version 1 only while no version-2 record came before it; once the first version-2 record is written,
every later one must be version 2. Turning a version-2 record back into version 1 changes its hash,
so the next record (or the last signed checkpoint) no longer matches."""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime
from typing import Any

GENESIS_HASH = "0" * 64
HASH_VERSION = 2


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
    ip_address: str | None = None


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
    ip_address: str | None = None,
    *,
    version: int = HASH_VERSION,
) -> str:
    payload = _payload(
        previous_hash, at, actor_id, action, subject_type, subject_id, before, after, reason,
        ip_address, version,
    )  # fmt: skip
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
    ip_address: str | None,
    version: int,
) -> str:
    fields: dict[str, Any] = {
        "previous": previous_hash,
        "at": at.isoformat(timespec="microseconds"),
        "actor": actor_id,
        "action": action,
        "subject": [subject_type, subject_id],
        "before": before,
        "after": after,
        "reason": reason,
    }
    if version >= 2:
        fields.update(v=version, ip=ip_address)
    return json.dumps(
        fields,
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
    ip_address: str | None = None,
) -> tuple[bytes, bytes]:
    """A record's hashed payload, but for its predecessor's hash: what comes before and after it.

    A bulk write prepares these before it takes the write lock (the JSON is most of the work), and
    chains them under the lock with ``hash_from_halves``; the hash is ``record_hash``'s (tested). The
    split is unambiguous: a value's quotes are escaped, so only the key reads '"previous":"'."""
    payload = _payload(
        _PREVIOUS_MARK, at, actor_id, action, subject_type, subject_id, before, after, reason,
        ip_address, HASH_VERSION,
    )  # fmt: skip
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
    legacy_allowed = True  # version 1 only before the first version-2 record
    for entry in entries:
        if entry.previous_hash != expected_previous:
            problems.append(
                ChainProblem(entry.id, "does not follow the previous record (deleted or reordered)")
            )
        version = entry_version(entry, legacy_allowed=legacy_allowed)
        if version is None:
            problems.append(ChainProblem(entry.id, "content does not match its hash (edited)"))
        elif version >= 2:
            legacy_allowed = False
        expected_previous = entry.hash
    return problems


def entry_version(entry: ChainEntry, *, legacy_allowed: bool) -> int | None:
    """The hash format the entry's content matches, or None (edited)."""
    versions = (HASH_VERSION, 1) if legacy_allowed else (HASH_VERSION,)
    for version in versions:
        computed = record_hash(
            entry.previous_hash, entry.at, entry.actor_id, entry.action, entry.subject_type,
            entry.subject_id, entry.before, entry.after, entry.reason, entry.ip_address,
            version=version,
        )  # fmt: skip
        if computed == entry.hash:
            return version
    return None
