"""The signed documents anyone can check: the academy's DID document, certificate signatures and the
signed status list of revoked and superseded certificates.
"""

from __future__ import annotations

import copy
import hashlib
import json
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import func, select

from lms.audit.services import record_event
from lms.certificates import codes, credential, dataintegrity, identity, keys, statuslist
from lms.certificates.issuer import Issuer, academy_issuer
from lms.certificates.models import Certificate, CertificateStatus
from lms.certificates.storage import instance_dir
from lms.db import utcnow
from lms.extensions import db

STATUS_LIST_PATH = "/credentials/status/revocation"


def verify_url(issuer: Issuer, code: str) -> str:
    return issuer.url(f"/verify/{codes.grouped(code)}")


def status_list_url(issuer: Issuer) -> str:
    return issuer.url(STATUS_LIST_PATH)


def verification_method(issuer: Issuer, key_id: str) -> str:
    return f"{issuer.did}#{key_id}"


def did_document(asked_did: str | None = None) -> dict[str, Any]:
    """The document of the current DID, or of an earlier one when that is the one asked for (a move:
    lms.certificates.identity); ``alsoKnownAs`` names the others."""
    issuer = academy_issuer()
    did = identity.document_identifier(issuer.did, asked_did, instance_dir())
    published = keys.published_keys(instance_dir())
    document = credential.did_document(did, [(k.key_id, k.public_key_multibase) for k in published])
    others = [known for known in identity.known_identifiers(issuer.did, instance_dir()) if known != did]
    if others:
        document["alsoKnownAs"] = others
    return document


def resolve_own_key(method: str) -> dataintegrity.Ed25519PublicKey | None:
    """A verification method of the academy's DID, current or earlier (active or retired key), as the DID
    documents list it."""
    did, _, key_id = method.partition("#")
    if did not in identity.known_identifiers(academy_issuer().did, instance_dir()):
        return None
    for key in keys.published_keys(instance_dir()):
        if key.key_id == key_id:
            return key.public_key
    return None


def sign_document(document: dict[str, Any], created: datetime | None = None) -> dict[str, Any]:
    issuer = academy_issuer()
    identity.remember_identifier(instance_dir(), issuer.did)
    signing_key = keys.load_signing_key(instance_dir())
    options = dataintegrity.proof_options(
        verification_method(issuer, signing_key.key_id), created or utcnow()
    )
    return dataintegrity.sign(document, signing_key.private_key, options)


def rotate_signing_key(actor_id: int | None = None) -> str:
    old_id, new_id = keys.rotate(instance_dir())
    record_event(
        "certificates.key_rotated",
        "signing_key",
        new_id,
        actor_id=actor_id,
        before={"key_id": old_id},
        after={"key_id": new_id},
    )
    return new_id


# --- the status list -------------------------------------------------------------------------


def revoked_indices() -> list[int]:
    return list(
        db.session.scalars(
            select(Certificate.status_index).where(
                Certificate.status.in_((CertificateStatus.REVOKED, CertificateStatus.SUPERSEDED))
            )
        )
    )


# The last signed list of this process, by everything the signature covers: signing (JSON-LD
# canonicalisation and Ed25519) is most of a request's time, and the list only changes on a
# revocation or re-issue, so the bits and the moment are read on every request and signed only
# when they (or the key, or the academy's address) changed.
_signed_status_list: dict[str, dict[str, Any]] = {}


def status_list_document() -> dict[str, Any]:
    """The signed BitstringStatusListCredential, made from the database on each request so a
    revocation shows at once. validFrom is the last change, so the signature is stable in between
    and is reused until the list changes."""
    issuer = academy_issuer()
    last_change = db.session.scalar(
        select(func.max(func.coalesce(Certificate.revoked_at, Certificate.superseded_at))).where(
            Certificate.status.in_((CertificateStatus.REVOKED, CertificateStatus.SUPERSEDED))
        )
    )
    first = db.session.scalar(select(func.min(Certificate.issued_at)))
    moment = last_change or first or datetime(2026, 1, 1, tzinfo=UTC)
    if moment.tzinfo is None:  # aggregates bypass the UTC column type on SQLite
        moment = moment.replace(tzinfo=UTC)
    document = credential.status_list_credential(
        status_list_url(issuer), issuer.did, statuslist.encode(revoked_indices()), moment
    )
    key_id = keys.load_signing_key(instance_dir()).key_id
    inputs = json.dumps([str(instance_dir()), key_id, document], sort_keys=True, default=str)
    cache_key = hashlib.sha256(inputs.encode()).hexdigest()
    signed = _signed_status_list.get(cache_key)
    if signed is None:
        signed = sign_document(document, created=moment)
        _signed_status_list.clear()  # one list per process: only the newest is worth keeping
        _signed_status_list[cache_key] = signed
    return copy.deepcopy(signed)
