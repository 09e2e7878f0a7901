"""W3C Data Integrity proofs with the ``eddsa-rdfc-2022`` cryptosuite, as pure functions.

The algorithm (W3C "Data Integrity EdDSA Cryptosuites v1.0", section 3.3):

1. proof configuration = the proof options (without ``proofValue``) with the document's ``@context``;
2. canonicalise both the unsecured document and the proof configuration with RDF Dataset
   Canonicalization (RDFC-1.0, which is URDNA2015 in pyld) to N-Quads;
3. hashData = SHA-256(canonical proof configuration) || SHA-256(canonical document);
4. proofValue = multibase base58btc ('z') of the Ed25519 signature over hashData.

JSON-LD contexts are only ever read from the copies bundled in ``contexts/``: the document loader
refuses every other URL, so signing and verifying never touch the network (and a credential cannot
make the server fetch a URL of the sender's choosing).
"""

from __future__ import annotations

import copy
import hashlib
import json
import threading
from collections.abc import Callable, Mapping
from datetime import UTC, datetime
from functools import cache
from pathlib import Path
from typing import Any

import base58
from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey
from pyld import jsonld

CONTEXTS_DIR = Path(__file__).resolve().parent / "contexts"

# URL a credential names in its @context -> the bundled copy (see contexts/README.md).
BUNDLED_CONTEXTS = {
    "https://www.w3.org/ns/credentials/v2": "credentials-v2.jsonld",
    "https://purl.imsglobal.org/spec/ob/v3p0/context-3.0.3.json": "ob-v3p0-context-3.0.3.json",
    "https://w3id.org/security/data-integrity/v2": "data-integrity-v2.jsonld",
    "https://w3id.org/security/multikey/v1": "multikey-v1.jsonld",
    "https://www.w3.org/ns/did/v1": "did-v1.jsonld",
}

CRYPTOSUITE = "eddsa-rdfc-2022"
PROOF_TYPE = "DataIntegrityProof"
# Multicodec prefixes of the Multikey encoding (varint of 0xed and 0x1300).
ED25519_PUBLIC_PREFIX = b"\xed\x01"
ED25519_SECRET_PREFIX = b"\x80\x26"

DocumentLoader = Callable[[str, Any], dict[str, Any]]


class ContextNotBundled(ValueError):
    """A document names a JSON-LD context the application does not ship (and will not download)."""


class ProofInvalid(ValueError):
    """The proof is malformed or does not verify."""


@cache
def _bundled_context(file_name: str) -> dict[str, Any]:
    loaded: dict[str, Any] = json.loads((CONTEXTS_DIR / file_name).read_text(encoding="utf-8"))
    return loaded


def local_document_loader(extra: Mapping[str, dict[str, Any]] | None = None) -> DocumentLoader:
    """A pyld document loader that serves only bundled contexts (plus ``extra``, for test vectors)."""
    extras = dict(extra or {})

    def load(url: str, options: Any = None) -> dict[str, Any]:
        if url in extras:
            document = extras[url]
        elif url in BUNDLED_CONTEXTS:
            document = _bundled_context(BUNDLED_CONTEXTS[url])
        else:
            raise ContextNotBundled(f"JSON-LD context not bundled (no network access): {url}")
        return {
            "contextUrl": None,
            "documentUrl": url,
            "document": copy.deepcopy(document),
            "contentType": "application/ld+json",
        }

    return load


# pyld keeps its processed contexts in one module-wide LRU cache (cachetools, not thread-safe): two threads
# canonicalising at once (the job queue's thread workers issuing certificates in bulk, a threaded server)
# broke it with "OrderedDict mutated during iteration" and lost a certificate. The work is pure Python and
# holds the GIL anyway, so one at a time costs no throughput.
_PYLD_LOCK = threading.Lock()


def canonicalize(document: Mapping[str, Any], loader: DocumentLoader | None = None) -> str:
    """RDFC-1.0 canonical N-Quads of a JSON-LD document."""
    try:
        with _PYLD_LOCK:
            nquads = jsonld.normalize(
                copy.deepcopy(dict(document)),
                {
                    "algorithm": "URDNA2015",
                    "format": "application/n-quads",
                    "documentLoader": loader or local_document_loader(),
                    "safe": True,
                },
            )
    except jsonld.JsonLdError as error:
        cause: BaseException | None = error
        while cause is not None:
            if isinstance(cause, ContextNotBundled):
                raise cause from error
            cause = cause.__cause__ or getattr(cause, "cause", None)
        raise ProofInvalid(f"the document is not valid JSON-LD: {error}") from error
    return str(nquads)


def hash_data(
    unsecured: Mapping[str, Any], proof_options: Mapping[str, Any], loader: DocumentLoader | None = None
) -> bytes:
    proof_config = {key: value for key, value in proof_options.items() if key != "proofValue"}
    proof_config["@context"] = unsecured["@context"]
    config_hash = hashlib.sha256(canonicalize(proof_config, loader).encode("utf-8")).digest()
    document_hash = hashlib.sha256(canonicalize(unsecured, loader).encode("utf-8")).digest()
    return config_hash + document_hash


def xsd_datetime(moment: datetime) -> str:
    """The W3C form of a UTC instant, to the second: 2026-01-31T09:30:00Z."""
    return moment.astimezone(UTC).replace(microsecond=0).strftime("%Y-%m-%dT%H:%M:%SZ")


def proof_options(verification_method: str, created: datetime | str) -> dict[str, Any]:
    return {
        "type": PROOF_TYPE,
        "cryptosuite": CRYPTOSUITE,
        "created": created if isinstance(created, str) else xsd_datetime(created),
        "verificationMethod": verification_method,
        "proofPurpose": "assertionMethod",
    }


def sign(
    document: Mapping[str, Any],
    private_key: Ed25519PrivateKey,
    options: Mapping[str, Any],
    loader: DocumentLoader | None = None,
) -> dict[str, Any]:
    """A copy of ``document`` with an embedded eddsa-rdfc-2022 ``proof``."""
    unsecured = {key: value for key, value in document.items() if key != "proof"}
    if options.get("type") != PROOF_TYPE or options.get("cryptosuite") != CRYPTOSUITE:
        raise ProofInvalid("only DataIntegrityProof / eddsa-rdfc-2022 is supported")
    signature = private_key.sign(hash_data(unsecured, options, loader))
    secured = copy.deepcopy(unsecured)
    secured["proof"] = {**dict(options), "proofValue": "z" + base58.b58encode(signature).decode("ascii")}
    return secured


def verify(
    document: Mapping[str, Any],
    resolve_key: Callable[[str], Ed25519PublicKey | None],
    loader: DocumentLoader | None = None,
    *,
    expected_purpose: str = "assertionMethod",
) -> dict[str, Any]:
    """Check the document's proof; return the proof on success, raise ProofInvalid otherwise.

    ``resolve_key`` maps the proof's ``verificationMethod`` to a public key (or None when unknown);
    the caller decides which methods it trusts.
    """
    proof = document.get("proof")
    if not isinstance(proof, dict):
        raise ProofInvalid("the document has no single embedded proof")
    if proof.get("type") != PROOF_TYPE or proof.get("cryptosuite") != CRYPTOSUITE:
        raise ProofInvalid("unsupported proof type or cryptosuite")
    if proof.get("proofPurpose") != expected_purpose:
        raise ProofInvalid("unexpected proof purpose")
    value = proof.get("proofValue")
    if not isinstance(value, str) or not value.startswith("z"):
        raise ProofInvalid("proofValue is not multibase base58btc")
    try:
        signature = base58.b58decode(value[1:])
    except ValueError as error:
        raise ProofInvalid("proofValue is not base58") from error
    method = proof.get("verificationMethod")
    key = resolve_key(method) if isinstance(method, str) else None
    if key is None:
        raise ProofInvalid("unknown verification method")
    unsecured = {k: v for k, v in document.items() if k != "proof"}
    options = {k: v for k, v in proof.items() if k != "proofValue"}
    if "@context" in options and options["@context"] != unsecured.get("@context"):
        raise ProofInvalid("the proof's @context differs from the document's")
    options.pop("@context", None)
    try:
        key.verify(signature, hash_data(unsecured, options, loader))
    except InvalidSignature as error:
        raise ProofInvalid("the signature does not match the document") from error
    return dict(proof)


def public_key_multibase(key: Ed25519PublicKey) -> str:
    return "z" + base58.b58encode(ED25519_PUBLIC_PREFIX + key.public_bytes_raw()).decode("ascii")


def public_key_from_multibase(value: str) -> Ed25519PublicKey:
    raw = _multibase_bytes(value, ED25519_PUBLIC_PREFIX)
    return Ed25519PublicKey.from_public_bytes(raw)


def secret_key_multibase(key: Ed25519PrivateKey) -> str:
    return "z" + base58.b58encode(ED25519_SECRET_PREFIX + key.private_bytes_raw()).decode("ascii")


def private_key_from_multibase(value: str) -> Ed25519PrivateKey:
    return Ed25519PrivateKey.from_private_bytes(_multibase_bytes(value, ED25519_SECRET_PREFIX))


def _multibase_bytes(value: str, prefix: bytes) -> bytes:
    if not value.startswith("z"):
        raise ValueError("expected multibase base58btc (z...)")
    decoded = base58.b58decode(value[1:])
    if not decoded.startswith(prefix) or len(decoded) != len(prefix) + 32:
        raise ValueError("not an Ed25519 Multikey")
    return decoded[len(prefix) :]
