"""Pure credential logic, without an app: the W3C known-answer test, status lists, codes, did:web."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from decimal import Decimal
from pathlib import Path

import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from lms.certificates import codes, credential, dataintegrity, keys, statuslist
from lms.certificates.issuer import did_web
from lms.dates import add_months

VECTORS = Path(__file__).resolve().parent / "vectors"
EDDSA = VECTORS / "eddsa-rdfc-2022"
EXPECTED_PROOF_VALUE = (
    "z21EVs3eXERqTn4acNHT9viboqgzUaQ3kTmhPT3eA8qrVPE7CrQq78WkzctnMX5W4CrzcKnHw8V6dvy5pgWYCU5e9"
)


def read(name: str) -> dict:
    return json.loads((EDDSA / name).read_text())


def examples_loader() -> dataintegrity.DocumentLoader:
    # The W3C examples context is only for the test vector; the app does not bundle it.
    examples = json.loads((VECTORS / "credentials-examples-v2.jsonld").read_text())
    return dataintegrity.local_document_loader({"https://www.w3.org/ns/credentials/examples/v2": examples})


def test_signer_reproduces_the_w3c_eddsa_rdfc_2022_vector() -> None:
    key_pair = read("key-pair.json")
    private_key = dataintegrity.private_key_from_multibase(key_pair["secretKeyMultibase"])
    assert dataintegrity.public_key_multibase(private_key.public_key()) == key_pair["publicKeyMultibase"]

    signed = dataintegrity.sign(
        read("unsigned.json"), private_key, read("proof-options.json"), examples_loader()
    )

    assert signed["proof"]["proofValue"] == EXPECTED_PROOF_VALUE
    assert signed == read("signed.json")


def test_the_w3c_signed_vector_verifies_and_a_changed_copy_does_not() -> None:
    public_key = dataintegrity.public_key_from_multibase(read("key-pair.json")["publicKeyMultibase"])
    signed = read("signed.json")
    dataintegrity.verify(signed, lambda method: public_key, examples_loader())
    tampered = json.loads(json.dumps(signed))
    tampered["credentialSubject"]["alumniOf"] = "Another School"
    with pytest.raises(dataintegrity.ProofInvalid):
        dataintegrity.verify(tampered, lambda method: public_key, examples_loader())


def test_the_document_loader_never_fetches_an_unbundled_context() -> None:
    document = {"@context": ["https://example.org/not-bundled"], "name": "x"}
    with pytest.raises(dataintegrity.ContextNotBundled):
        dataintegrity.canonicalize(document)


def test_status_list_sets_exactly_the_given_bits_left_to_right() -> None:
    encoded = statuslist.encode([0, 9, 131_071])
    assert encoded.startswith("u")
    raw = statuslist.decode(encoded)
    assert len(raw) * 8 == statuslist.LIST_LENGTH
    assert raw[0] == 0x80 and raw[1] == 0x40 and raw[-1] == 0x01
    assert [i for i in (0, 1, 8, 9, 131_071) if statuslist.is_set(encoded, i)] == [0, 9, 131_071]
    assert statuslist.encode([]) == statuslist.encode([])  # deterministic bytes


def test_codes_are_crockford_base32_grouped_and_forgiving_when_typed() -> None:
    code = codes.new_code()
    assert len(code) == 12 and set(code) <= set(codes.ALPHABET)
    assert len({codes.new_code() for _ in range(200)}) == 200
    assert codes.grouped("K7QM2XRT93FD") == "K7QM-2XRT-93FD"
    assert codes.normalise(" k7qm-2xrt-93fd ") == "K7QM2XRT93FD"
    assert codes.normalise("K7QM-2XRT-93FO") == "K7QM2XRT93F0"  # O read as zero
    assert codes.normalise("K7QM-2XRT") is None
    assert codes.normalise("K7QM-2XRT-93F!") is None


def test_did_web_identifiers() -> None:
    assert did_web("http://127.0.0.1:5000") == "did:web:127.0.0.1%3A5000"
    assert did_web("https://academy.example.org/") == "did:web:academy.example.org"
    assert did_web("https://example.org/academy/lms") == "did:web:example.org:academy:lms"


def test_add_months_clamps_to_the_end_of_the_month() -> None:
    assert add_months(datetime(2026, 1, 31, tzinfo=UTC), 1) == datetime(2026, 2, 28, tzinfo=UTC)
    assert add_months(datetime(2026, 11, 23, tzinfo=UTC), 24) == datetime(2028, 11, 23, tzinfo=UTC)


def test_credential_identifies_the_holder_by_salted_hash_only() -> None:
    facts = credential.CredentialFacts(
        credential_id="00000000-0000-4000-8000-000000000000", issuer_did="did:web:academy.test",
        issuer_name="Academy", issuer_url="https://academy.test", valid_from=datetime(2026, 1, 1, tzinfo=UTC),
        valid_until=None, holder_email="Olena@Agency.test", identity_salt="pepper", holder_name="Olena Koval",
        holder_native_name=None, achievement_id="https://academy.test/courses/ibm", course_title="IBM",
        course_summary="", language="en", level="EQF 5", credits=Decimal("1.50"), notional_hours=25,
        learning_outcomes=["Explain IBM"], run_title="IBM 2026", run_starts_on=None, run_ends_on=None,
        modality="online", status_list_url="https://academy.test/status", status_index=7,
    )  # fmt: skip
    document = credential.open_badge_credential(facts)
    assert "olena@agency.test" not in json.dumps(document).lower()
    email_identity = document["credentialSubject"]["identifier"][0]
    assert email_identity["identityHash"] == credential.identity_hash("olena@agency.test", "pepper")
    assert document["credentialSubject"]["achievement"]["creditsAvailable"] == 1.5
    assert "validUntil" not in document
    # It is valid JSON-LD under the bundled contexts only (no undefined term is silently dropped).
    nquads = dataintegrity.canonicalize(document)
    assert "Explain IBM" in nquads and "sha256$" in nquads


def test_key_rotation_keeps_retired_public_keys(tmp_path: Path) -> None:
    first = keys.load_signing_key(tmp_path)
    assert keys.load_signing_key(tmp_path).key_id == first.key_id  # created once, then reused
    old_id, new_id = keys.rotate(tmp_path)
    assert old_id == first.key_id and new_id != old_id
    published = keys.published_keys(tmp_path)
    assert [k.key_id for k in published] == [new_id, old_id]
    assert published[1].public_key.public_bytes_raw() == first.private_key.public_key().public_bytes_raw()
    assert not (tmp_path / keys.KEYS_FOLDER / f"{old_id}.pem").exists()  # the retired secret is gone
    assert isinstance(keys.load_signing_key(tmp_path).private_key, Ed25519PrivateKey)
