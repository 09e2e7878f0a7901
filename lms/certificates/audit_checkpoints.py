"""Signed checkpoints of the audit chain's head.

The hash chain (lms.audit.chain) shows an edited or deleted middle record, but not a deleted newest
record nor a rewrite that recomputes every hash after an edit. A checkpoint anchors the head: the
academy's issuer key (the one that signs certificates) signs the number of records, the newest
record's id and its hash. Checkpoints are kept in ``instance/audit-checkpoints.json`` (the instance
folder goes into every backup, and a database-only attacker cannot reach it) and published at
``/.well-known/audit-checkpoints.json`` (no personal data: counts, ids, hashes, times, signatures).

Here, not in lms.audit: audit is the lowest layer and cannot import the certificates' key.

The signature: Ed25519 over the UTF-8 bytes of the checkpoint's JSON without its ``signature`` key,
keys sorted, separators ``,`` and ``:``; ``signature`` is base64url without padding;
``verificationMethod`` names the key in the academy's DID document (did.json).
"""

from __future__ import annotations

import base64
import json
import os
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from cryptography.exceptions import InvalidSignature

from lms.audit.services import chain_head, record_hash_of, records_up_to
from lms.certificates import keys
from lms.certificates.issuer import academy_issuer
from lms.certificates.storage import instance_dir
from lms.db import utcnow

CHECKPOINTS_FILE = "audit-checkpoints.json"
PUBLIC_PATH = "/.well-known/audit-checkpoints.json"
KEEP = 1000  # the newest checkpoints kept in the file (one an hour: six weeks)


def checkpoints_path() -> Path:
    return instance_dir() / CHECKPOINTS_FILE


def load_checkpoints(path: Path | None = None) -> list[dict[str, Any]]:
    path = path or checkpoints_path()
    if not path.exists():
        return []
    document = json.loads(path.read_text(encoding="utf-8"))
    checkpoints: list[dict[str, Any]] = document.get("checkpoints", [])
    return checkpoints


def public_document() -> dict[str, Any]:
    return {"issuer": academy_issuer().did, "checkpoints": load_checkpoints()}


def signed_bytes(checkpoint: dict[str, Any]) -> bytes:
    unsigned = {key: value for key, value in checkpoint.items() if key != "signature"}
    return json.dumps(unsigned, sort_keys=True, ensure_ascii=False, separators=(",", ":")).encode()


def create_checkpoint(*, only_if_changed: bool = False) -> dict[str, Any] | None:
    """Sign the chain's current head and append it to the file. None if nothing changed since the
    last one and ``only_if_changed`` (the periodic job), or if the trail is empty."""
    count, head_id, head_hash = chain_head()
    existing = load_checkpoints()
    if head_id is None:
        return None
    if only_if_changed and existing and existing[-1]["headHash"] == head_hash:
        return None
    signing_key = keys.load_signing_key(instance_dir())
    checkpoint: dict[str, Any] = {
        "type": "AuditCheckpoint",
        "created": utcnow().isoformat(timespec="seconds"),
        "recordCount": count,
        "headId": head_id,
        "headHash": head_hash,
        "verificationMethod": f"{academy_issuer().did}#{signing_key.key_id}",
    }
    signature = signing_key.private_key.sign(signed_bytes(checkpoint))
    checkpoint["signature"] = base64.urlsafe_b64encode(signature).rstrip(b"=").decode()
    _write([*existing, checkpoint][-KEEP:])
    return checkpoint


def _write(checkpoints: list[dict[str, Any]]) -> None:
    path = checkpoints_path()
    temporary = path.with_name(path.name + ".tmp")
    temporary.write_text(json.dumps({"checkpoints": checkpoints}, indent=1), encoding="utf-8")
    os.replace(temporary, path)


@dataclass(frozen=True)
class CheckpointProblem:
    created: str
    message: str


def _signature_ok(checkpoint: dict[str, Any]) -> bool:
    key_id = str(checkpoint.get("verificationMethod", "")).rpartition("#")[2]
    published = {key.key_id: key for key in keys.published_keys(instance_dir())}
    if key_id not in published:
        return False
    try:
        signature = base64.urlsafe_b64decode(str(checkpoint["signature"]) + "==")
        published[key_id].public_key.verify(signature, signed_bytes(checkpoint))
    except (InvalidSignature, KeyError, ValueError):
        return False
    return True


def verify_checkpoints(checkpoints: list[dict[str, Any]] | None = None) -> list[CheckpointProblem]:
    """Each checkpoint's signature must hold, and the trail must still hold its head: the record it
    names with the same hash and the same number of records up to it."""
    checkpoints = load_checkpoints() if checkpoints is None else checkpoints
    problems: list[CheckpointProblem] = []
    newest_id = chain_head()[1] or 0
    for checkpoint in checkpoints:
        created = str(checkpoint.get("created", "?"))
        if not _signature_ok(checkpoint):
            problems.append(CheckpointProblem(created, "signature does not match (checkpoint forged)"))
            continue
        head_id, head_hash = int(checkpoint["headId"]), str(checkpoint["headHash"])
        stored = record_hash_of(head_id)
        if stored is None and head_id > newest_id:
            message = f"the newest records were deleted (record {head_id} is gone)"
            problems.append(CheckpointProblem(created, message))
        elif stored != head_hash:
            message = f"record {head_id} no longer has the signed hash (trail rewritten)"
            problems.append(CheckpointProblem(created, message))
        elif records_up_to(head_id) != int(checkpoint["recordCount"]):
            message = f"{checkpoint['recordCount']} records were signed up to {head_id}; some are gone"
            problems.append(CheckpointProblem(created, message))
    return problems
