"""Open Badges 3.0 documents (W3C Verifiable Credentials 2.0) built from plain values.

Nothing here signs or reads the database: ``services`` gathers the facts, these functions shape
the JSON-LD, and ``dataintegrity`` adds the proof.
"""

from __future__ import annotations

import hashlib
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, datetime
from decimal import Decimal
from typing import Any

from lms.certificates import credential_extras as extras
from lms.certificates.dataintegrity import xsd_datetime

VC_CONTEXT = "https://www.w3.org/ns/credentials/v2"
OB3_CONTEXT = "https://purl.imsglobal.org/spec/ob/v3p0/context-3.0.3.json"
DID_CONTEXT = "https://www.w3.org/ns/did/v1"
MULTIKEY_CONTEXT = "https://w3id.org/security/multikey/v1"


@dataclass(frozen=True)
class CredentialFacts:
    credential_id: str  # a UUID
    issuer_did: str
    issuer_name: str
    issuer_url: str
    valid_from: datetime
    valid_until: datetime | None
    holder_email: str
    identity_salt: str
    holder_name: str
    holder_native_name: str | None
    achievement_id: str
    course_title: str
    course_summary: str
    language: str
    level: str | None
    credits: Decimal | None
    notional_hours: int | None
    learning_outcomes: Sequence[str]
    run_title: str
    run_starts_on: date | None
    run_ends_on: date | None
    modality: str
    status_list_url: str
    status_index: int
    attended_minutes: int | None = None  # runs with sessions: the session time the holder attended
    final_assessment: extras.AssessmentResult | None = None  # courses with a final quiz


def identity_hash(email: str, salt: str) -> str:
    """OB 3.0 IdentityObject hash: 'sha256$' + hex SHA-256 of the identity followed by the salt."""
    return "sha256$" + hashlib.sha256((email.strip().lower() + salt).encode("utf-8")).hexdigest()


def criteria_narrative(facts: CredentialFacts) -> str:
    modality = facts.modality.replace("_", " ")
    lines = [f"Completed every required part of the course run \u201c{facts.run_title}\u201d ({modality})."]
    details = []
    if facts.level:
        details.append(f"Level: {facts.level}.")
    if facts.notional_hours:
        details.append(f"Notional learning hours: {facts.notional_hours}.")
    if facts.attended_minutes is not None:
        hours, minutes = divmod(facts.attended_minutes, 60)
        details.append(f"Session hours attended: {hours} h {minutes:02d}.")
    if facts.credits is not None:
        details.append(f"Credits: {facts.credits.normalize():f} {extras.CREDIT_SYSTEM}.")
    if details:
        lines.append(" ".join(details))
    if facts.learning_outcomes:
        lines.append("Learning outcomes:")
        lines.extend(f"- {outcome}" for outcome in facts.learning_outcomes)
    return "\n".join(lines)


def open_badge_credential(facts: CredentialFacts) -> dict[str, Any]:
    """The unsigned OpenBadgeCredential."""
    identifiers: list[dict[str, Any]] = [
        {
            "type": "IdentityObject",
            "identityType": "emailAddress",
            "hashed": True,
            # No "salt" (optional in OB 3.0): with it, anyone holding the public JSON could confirm a
            # guessed email. The salt is random and not kept (issue 23, docs/certificates.md).
            "identityHash": identity_hash(facts.holder_email, facts.identity_salt),
        },
        {
            "type": "IdentityObject",
            "identityType": "name",
            "hashed": False,
            "identityHash": facts.holder_name,
        },
    ]
    if facts.holder_native_name:
        identifiers.append(
            {
                "type": "IdentityObject",
                "identityType": "name",
                "hashed": False,
                "identityHash": facts.holder_native_name,
            }
        )
    achievement: dict[str, Any] = {
        "id": facts.achievement_id,
        "type": ["Achievement"],
        "achievementType": "Certificate",
        "name": facts.course_title,
        "description": facts.course_summary or facts.course_title,
        "criteria": {"narrative": criteria_narrative(facts)},
        "inLanguage": facts.language,
    }
    if facts.credits is not None:
        achievement["creditsAvailable"] = float(facts.credits)
    if facts.level:
        achievement["tag"] = [facts.level]
    eqf = extras.eqf_alignment(facts.level)
    alignments = [eqf] if eqf is not None else []
    if facts.credits is not None:
        alignments.append(extras.credit_system_alignment())
    alignments += extras.outcome_alignments(facts.achievement_id, facts.learning_outcomes, facts.language)
    if alignments:
        achievement["alignment"] = alignments
    if facts.final_assessment is not None:
        achievement["resultDescription"] = [
            extras.result_description(facts.achievement_id, facts.final_assessment)
        ]
    subject: dict[str, Any] = {
        "type": ["AchievementSubject"],
        "identifier": identifiers,
        "achievement": achievement,
    }
    if facts.credits is not None:
        subject["creditsEarned"] = float(facts.credits)
    if facts.final_assessment is not None:
        subject["result"] = [extras.subject_result(facts.achievement_id, facts.final_assessment)]
    if facts.run_starts_on:
        subject["activityStartDate"] = facts.run_starts_on.isoformat()
    if facts.run_ends_on:
        subject["activityEndDate"] = facts.run_ends_on.isoformat()
    credential: dict[str, Any] = {
        "@context": [VC_CONTEXT, OB3_CONTEXT],
        "id": f"urn:uuid:{facts.credential_id}",
        "type": ["VerifiableCredential", "OpenBadgeCredential"],
        "name": facts.course_title,
        "issuer": {
            "id": facts.issuer_did,
            "type": ["Profile"],
            "name": facts.issuer_name,
            "url": facts.issuer_url,
        },
        "validFrom": xsd_datetime(facts.valid_from),
        "awardedDate": xsd_datetime(facts.valid_from),
        "credentialSubject": subject,
        "credentialStatus": {
            "id": f"{facts.status_list_url}#{facts.status_index}",
            "type": "BitstringStatusListEntry",
            "statusPurpose": "revocation",
            "statusListIndex": str(facts.status_index),
            "statusListCredential": facts.status_list_url,
        },
    }
    if facts.valid_until is not None:
        credential["validUntil"] = xsd_datetime(facts.valid_until)
    return credential


def status_list_credential(
    list_url: str, issuer_did: str, encoded_list: str, valid_from: datetime
) -> dict[str, Any]:
    """The unsigned BitstringStatusListCredential for revocation."""
    return {
        "@context": [VC_CONTEXT],
        "id": list_url,
        "type": ["VerifiableCredential", "BitstringStatusListCredential"],
        "issuer": issuer_did,
        "validFrom": xsd_datetime(valid_from),
        "credentialSubject": {
            "id": f"{list_url}#list",
            "type": "BitstringStatusList",
            "statusPurpose": "revocation",
            "encodedList": encoded_list,
        },
    }


def did_document(did: str, keys: Sequence[tuple[str, str]]) -> dict[str, Any]:
    """The did:web document: one Multikey per (key id, publicKeyMultibase), active key first.

    Retired keys stay listed, under assertionMethod too: a verifier checks that the proof's
    method is an assertion method of the issuer, and old credentials must keep verifying.
    """
    methods = [
        {"id": f"{did}#{key_id}", "type": "Multikey", "controller": did, "publicKeyMultibase": multibase}
        for key_id, multibase in keys
    ]
    return {
        "@context": [DID_CONTEXT, MULTIKEY_CONTEXT],
        "id": did,
        "verificationMethod": methods,
        "assertionMethod": [method["id"] for method in methods],
    }
