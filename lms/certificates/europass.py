"""The Europass export: a certificate as an unsigned European Digital Credential (ELM 3, JSON-LD).

``europass_credential`` is pure (plain values in, a dict out); ``europass_document`` gathers those
values from a stored certificate, its run's course (the outcomes in every language the course has)
and the configuration (the academy's legal identifier and country, see docs/certificates.md).
The form is the "uploadable" one the Europass wallet takes: the wallet seals it itself.
"""

from __future__ import annotations

import base64
import io
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import date, datetime
from decimal import Decimal
from typing import TYPE_CHECKING, Any
from urllib.parse import urlsplit

from flask import current_app
from PIL import Image, ImageDraw  # loaded anyway: lms.authoring.sniff checks uploads with Pillow

from lms.certificates.credential_extras import ECTS_CONCEPT
from lms.certificates.dataintegrity import xsd_datetime
from lms.certificates.issuer import academy_issuer
from lms.config import EU_LANGUAGE_CODES
from lms.enrolment.completion import final_assessment_results

if TYPE_CHECKING:
    from lms.certificates.models import Certificate

VC_V1_CONTEXT = "https://www.w3.org/2018/credentials/v1"
EDC_CONTEXT = "http://data.europa.eu/snb/model/context/edc-ap"
EDC_PROFILE = "http://data.europa.eu/snb/model/ap/edc-generic-full"
EQF_SCHEME = "http://data.europa.eu/snb/eqf/25831c2"
COUNTRY_SCHEME = "http://publications.europa.eu/resource/authority/country"
LANGUAGE_SCHEME = "http://publications.europa.eu/resource/authority/language"
CREDENTIAL_TYPE_SCHEME = "http://data.europa.eu/snb/credential/25831c2"
LEARNING_SETTING_SCHEME = "http://data.europa.eu/snb/learning-setting/25831c2"
GENERIC_PROFILE = "http://data.europa.eu/snb/credential/e34929035b"  # the "Generic" credential type
NON_FORMAL = "http://data.europa.eu/snb/learning-setting/6fcec5c5af"  # non-formal learning
ECTS = ECTS_CONCEPT  # the European Credit Transfer and Accumulation System, as the credential names it
FILE_TYPE_SCHEME = "http://publications.europa.eu/resource/authority/file-type"
ENCODING_SCHEME = "http://data.europa.eu/snb/encoding/25831c2"
BASE64 = "http://data.europa.eu/snb/encoding/6146cde7dd"
# ISO 639-1 (the app's languages) to the EU language authority's codes
EU_LANGUAGES = EU_LANGUAGE_CODES
MODALITY_LABELS = {
    "self_paced": "Online, self-paced",
    "online_scheduled": "Online, scheduled sessions",
    "in_person": "In person",
    "blended": "Blended (online and in person)",
}


@dataclass(frozen=True)
class EuropassFacts:
    credential_id: str  # a UUID
    code: str
    issuer_name: str
    issuer_url: str
    legal_identifier: str
    country_code: str  # ISO 3166-1 alpha-3, e.g. "LUX"
    place: str
    holder_name: str
    holder_native_name: str | None
    language: str  # the certificate's language
    titles: Mapping[str, str]  # language -> course title
    outcomes: Mapping[str, Sequence[str]]  # language -> learning outcomes
    level: str | None
    credits: Decimal | None
    notional_hours: int | None
    attended_minutes: int | None
    run_title: str
    run_starts_on: date | None
    run_ends_on: date | None
    modality: str
    issued_at: datetime
    valid_until: datetime | None
    assessment_result: str  # e.g. "Passed"
    assessment_title: str = "Completion of every required part of the course run"
    display_png: bytes = b""  # the picture the wallet shows (ELM 3 requires one)


def eqf_level(level: str | None) -> int | None:
    """``course.level`` holds the EQF level ("EQF 5", "5"); anything else has no EQF concept."""
    match = re.fullmatch(r"\s*(?:EQF\s*)?([1-8])\s*", level or "", re.IGNORECASE)
    return int(match.group(1)) if match else None


def _concept(uri: str, scheme: str, label: str, notation: str | None = None) -> dict[str, Any]:
    concept: dict[str, Any] = {
        "id": uri,
        "type": "Concept",
        "inScheme": {"id": scheme, "type": "ConceptScheme"},
        "prefLabel": {"en": label},
    }
    if notation:
        concept["notation"] = notation
    return concept


def _language(code: str) -> dict[str, Any]:
    eu = EU_LANGUAGES.get(code, "ENG")
    return _concept(f"{LANGUAGE_SCHEME}/{eu}", LANGUAGE_SCHEME, code, eu.lower())


def _duration_hours(minutes: int) -> str:
    hours, rest = divmod(minutes, 60)
    return f"PT{hours}H{rest}M" if rest else f"PT{hours}H"


def _day(value: date) -> str:
    return f"{value.isoformat()}T00:00:00Z"


def _urn(facts: EuropassFacts, kind: str) -> str:
    return f"urn:epass:{kind}:{facts.credential_id}"


def _country(facts: EuropassFacts) -> dict[str, Any]:
    return _concept(
        f"{COUNTRY_SCHEME}/{facts.country_code}", COUNTRY_SCHEME, facts.country_code, facts.country_code
    )


def _display(facts: EuropassFacts) -> dict[str, Any]:
    return {
        "id": _urn(facts, "individualDisplay"),
        "type": "IndividualDisplay",
        "language": _language(facts.language),
        "displayDetail": [
            {
                "id": _urn(facts, "displayDetail"),
                "type": "DisplayDetail",
                "page": 1,
                "image": {
                    "id": _urn(facts, "displayImage"),
                    "type": "MediaObject",
                    "content": base64.b64encode(facts.display_png).decode("ascii"),
                    "contentType": _concept(f"{FILE_TYPE_SCHEME}/PNG", FILE_TYPE_SCHEME, "PNG"),
                    "contentEncoding": _concept(BASE64, ENCODING_SCHEME, "base64"),
                },
            }
        ],
    }


def _organisation(facts: EuropassFacts) -> dict[str, Any]:
    country = _country(facts)
    return {
        "id": _urn(facts, "org"),
        "type": "Organisation",
        "legalName": {"en": facts.issuer_name},
        "homepage": [{"id": _urn(facts, "homepage"), "type": "WebResource", "contentURL": facts.issuer_url}],
        "eIDASIdentifier": {
            "id": _urn(facts, "legalIdentifier"),
            "type": "LegalIdentifier",
            "notation": facts.legal_identifier,
            "spatial": country,
        },
        "location": [
            {
                "id": _urn(facts, "location"),
                "type": "Location",
                "address": [
                    {
                        "id": _urn(facts, "address"),
                        "type": "Address",
                        "countryCode": country,
                        "fullAddress": {
                            "id": _urn(facts, "fullAddress"),
                            "type": "Note",
                            "noteLiteral": {"en": facts.place},
                        },
                    }
                ],
            }
        ],
    }


def _specification(facts: EuropassFacts) -> dict[str, Any]:
    outcomes = []
    for index, (language, texts) in enumerate(
        (lang, facts.outcomes[lang]) for lang in sorted(facts.outcomes)
    ):
        for number, text in enumerate(texts):
            outcomes.append(
                {
                    "id": f"{_urn(facts, 'learningOutcome')}:{index}:{number}",
                    "type": "LearningOutcome",
                    "title": {language: text},
                }
            )
    spec: dict[str, Any] = {
        "id": _urn(facts, "learningAchievementSpecification"),
        "type": "LearningAchievementSpecification",
        "title": dict(facts.titles),
        "language": [_language(lang) for lang in sorted(facts.titles)],
        "learningSetting": _concept(NON_FORMAL, LEARNING_SETTING_SCHEME, "non-formal learning"),
        "mode": _concept(
            f"urn:lms:modality:{facts.modality}",
            "urn:lms:modality",
            MODALITY_LABELS.get(facts.modality, facts.modality),
        ),
    }
    if outcomes:
        spec["learningOutcome"] = outcomes
    level = eqf_level(facts.level)
    if level is not None:
        spec["eqfLevel"] = _concept(f"http://data.europa.eu/snb/eqf/{level}", EQF_SCHEME, f"Level {level}")
    if facts.credits is not None:
        spec["creditPoint"] = [
            {
                "id": _urn(facts, "creditPoint"),
                "type": "CreditPoint",
                "framework": _concept(
                    ECTS,
                    "http://data.europa.eu/snb/education-credit/25831c2",
                    "European Credit Transfer System",
                ),
                "point": f"{facts.credits.normalize():f}",
            }
        ]
    if facts.notional_hours:
        spec["volumeOfLearning"] = f"PT{facts.notional_hours}H"
    return spec


def _activity(facts: EuropassFacts) -> dict[str, Any]:
    activity: dict[str, Any] = {
        "id": _urn(facts, "learningActivity"),
        "type": "LearningActivity",
        "title": {"en": facts.run_title},
        "specifiedBy": {
            "id": _urn(facts, "learningActivitySpecification"),
            "type": "LearningActivitySpecification",
            "title": {"en": facts.run_title},
            "mode": _concept(
                f"urn:lms:modality:{facts.modality}",
                "urn:lms:modality",
                MODALITY_LABELS.get(facts.modality, facts.modality),
            ),
        },
        "location": {
            "id": _urn(facts, "activityLocation"),
            "type": "Location",
            "geographicName": {"en": facts.place},
            "address": [
                {"id": _urn(facts, "activityAddress"), "type": "Address", "countryCode": _country(facts)}
            ],
        },
        "awardedBy": {"id": _urn(facts, "awardingProcess")},
    }
    if facts.attended_minutes is not None:
        activity["workload"] = _duration_hours(facts.attended_minutes)
    if facts.run_starts_on or facts.run_ends_on:
        period: dict[str, Any] = {"id": _urn(facts, "activityPeriod"), "type": "PeriodOfTime"}
        if facts.run_starts_on:
            period["startDate"] = _day(facts.run_starts_on)
        if facts.run_ends_on:
            period["endDate"] = _day(facts.run_ends_on)
        activity["temporal"] = [period]
    return activity


def _assessment(facts: EuropassFacts) -> dict[str, Any]:
    return {
        "id": _urn(facts, "learningAssessment"),
        "type": "LearningAssessment",
        "title": {"en": facts.assessment_title},
        "grade": {"id": _urn(facts, "grade"), "type": "Note", "noteLiteral": {"en": facts.assessment_result}},
        "assessedBy": [{"id": _urn(facts, "org")}],
        "awardedBy": {"id": _urn(facts, "awardingProcess")},
    }


def europass_credential(facts: EuropassFacts) -> dict[str, Any]:
    """The unsigned EuropeanDigitalCredential of a certificate."""
    organisation = _organisation(facts)
    person: dict[str, Any] = {
        "id": _urn(facts, "person"),
        "type": "Person",
        "fullName": {facts.language: facts.holder_native_name or facts.holder_name}
        if facts.holder_native_name and facts.language != "en"
        else {"en": facts.holder_name},
    }
    achievement: dict[str, Any] = {
        "id": _urn(facts, "learningAchievement"),
        "type": "LearningAchievement",
        "title": dict(facts.titles),
        "specifiedBy": _specification(facts),
        "awardedBy": {
            "id": _urn(facts, "awardingProcess"),
            "type": "AwardingProcess",
            "awardingBody": [organisation],
            "awardingDate": xsd_datetime(facts.issued_at),
        },
        "provenBy": [_assessment(facts)],
        "influencedBy": [_activity(facts)],
    }
    person["hasClaim"] = [achievement]
    document: dict[str, Any] = {
        "@context": [VC_V1_CONTEXT, EDC_CONTEXT],
        "id": f"urn:credential:{facts.credential_id}",
        "type": ["VerifiableCredential", "EuropeanDigitalCredential"],
        "credentialSchema": [
            {"id": EDC_PROFILE, "type": "ShaclValidator2017"},
            {"id": "http://data.europa.eu/snb/model/ap/edc-generic-no-cv", "type": "ShaclValidator2017"},
        ],
        "credentialSubject": person,
        "issuer": organisation,
        "issuanceDate": xsd_datetime(facts.issued_at),
        "issued": xsd_datetime(facts.issued_at),
        "validFrom": xsd_datetime(facts.issued_at),
        "credentialProfiles": [_concept(GENERIC_PROFILE, CREDENTIAL_TYPE_SCHEME, "Generic", "generic")],
        "displayParameter": {
            "id": _urn(facts, "displayParameter"),
            "type": "DisplayParameter",
            "title": {lang: title for lang, title in facts.titles.items()},
            "language": [_language(lang) for lang in sorted(facts.titles)],
            "primaryLanguage": _language(facts.language),
            "individualDisplay": [_display(facts)],
        },
    }
    if facts.valid_until is not None:
        document["expirationDate"] = xsd_datetime(facts.valid_until)
        document["validUntil"] = xsd_datetime(facts.valid_until)
    return document


# --- gathering the facts of a stored certificate (reads the row, its course and the config) ---

DEFAULT_COUNTRY = "LUX"


def _display_png(title: str) -> bytes:
    """A small plain card for the wallet's list (ELM 3 requires a picture of each page); the
    certificate itself is the PDF, which the holder downloads separately."""
    image = Image.new("RGB", (420, 180), "white")
    draw = ImageDraw.Draw(image)
    draw.rectangle((4, 4, 415, 175), outline="#1f3a5f", width=4)
    draw.text((20, 70), title.encode("ascii", "replace").decode("ascii")[:60], fill="#1f3a5f")
    buffer = io.BytesIO()
    image.save(buffer, format="PNG")
    return buffer.getvalue()


def _final_assessment(certificate: Certificate) -> dict[str, str]:
    """The holder's standing in the course's final quiz, when it has one (read now: the signed Open
    Badges credential keeps the standing at issue); otherwise the completion rule itself."""
    standing = (
        final_assessment_results([certificate.enrolment_id]).get(certificate.enrolment_id)
        if certificate.enrolment_id
        else None
    )
    if standing is None or standing.grade is None:
        return {"assessment_result": "Passed: every required part completed"}
    verdict = "passed" if standing.passed else "not passed"
    return {
        "assessment_title": f"Final assessment: {standing.quiz.text('title', certificate.language)}",
        "assessment_result": f"{standing.grade:.0f}% (pass mark {standing.quiz.pass_mark}%), {verdict}",
    }


def europass_document(certificate: Certificate) -> dict[str, Any]:
    """The EuropeanDigitalCredential of a stored certificate. What it certifies comes from the row
    (frozen at issue); the other languages' titles and outcomes from the run's course."""
    issuer = academy_issuer()
    course = certificate.run.course
    titles = {certificate.language: certificate.course_title}
    outcomes: dict[str, Sequence[str]] = {certificate.language: list(certificate.learning_outcomes)}
    for language in course.languages:
        if language not in titles:
            titles[language] = str(course.text("title", language) or course.title)
            outcomes[language] = [str(o) for o in course.text("learning_outcomes", language) or []]
    config = current_app.config
    host = urlsplit(issuer.base_url).hostname or issuer.base_url
    facts = EuropassFacts(
        credential_id=certificate.credential_uuid,
        code=certificate.code,
        issuer_name=certificate.issuer_name,
        issuer_url=issuer.base_url,
        legal_identifier=str(config.get("ACADEMY_LEGAL_IDENTIFIER") or issuer.did),
        country_code=str(config.get("ACADEMY_COUNTRY") or DEFAULT_COUNTRY).upper(),
        place=str(config.get("ACADEMY_PLACE") or host),
        holder_name=certificate.holder_name,
        holder_native_name=certificate.holder_native_name,
        language=certificate.language,
        titles=titles,
        outcomes={lang: texts for lang, texts in outcomes.items() if texts},
        level=certificate.course_level,
        credits=certificate.credits,
        notional_hours=certificate.notional_hours,
        attended_minutes=certificate.attended_minutes,
        run_title=certificate.run_title,
        run_starts_on=certificate.run_starts_on,
        run_ends_on=certificate.run_ends_on,
        modality=certificate.modality,
        issued_at=certificate.issued_at,
        valid_until=certificate.valid_until,
        **_final_assessment(certificate),
        display_png=_display_png(certificate.course_title),
    )
    return europass_credential(facts)
