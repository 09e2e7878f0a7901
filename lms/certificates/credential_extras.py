"""The richer parts of the Open Badges 3.0 credential (issue 23), from plain values.

- the EQF level as an ``alignment`` to the Commission's EQF concept (http://data.europa.eu/snb/eqf/<n>);
- each learning outcome as an ``alignment`` (a competency of the achievement), in the certificate's language;
- the credit system named: ECTS, as an ``alignment`` to the Commission's concept for it;
- the final assessment as the achievement's ``resultDescription`` and the holder's ``result``.

Every term used is defined by the OB 3.0.3 JSON-LD context, so the signature covers all of it.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

EQF_CONCEPT = "http://data.europa.eu/snb/eqf/{level}"
EQF_FRAMEWORK = "European Qualifications Framework (EQF)"
ECTS_CONCEPT = "http://data.europa.eu/snb/education-credit/6fcec5c5af"
ECTS_NAME = "European Credit Transfer and Accumulation System (ECTS)"
CREDIT_SYSTEM = "ECTS"


@dataclass(frozen=True)
class AssessmentResult:
    """The holder's standing in the final assessment (finished attempts, by its grading method)."""

    name: str
    score: float  # per cent
    pass_mark: int  # per cent
    passed: bool


def eqf_level(level: str | None) -> int | None:
    """The EQF level 1-8 of a course level such as 'EQF 5' (None for anything else)."""
    match = re.fullmatch(r"\s*(?:EQF\s*(?:level\s*)?)?([1-8])\s*", level or "", flags=re.IGNORECASE)
    return int(match.group(1)) if match else None


def eqf_alignment(level: str | None) -> dict[str, Any] | None:
    number = eqf_level(level)
    if number is None:
        return None
    return {
        "type": ["Alignment"],
        "targetName": f"EQF level {number}",
        "targetUrl": EQF_CONCEPT.format(level=number),
        "targetFramework": EQF_FRAMEWORK,
        "targetCode": str(number),
        "targetType": "ext:EQFLevel",
    }


def credit_system_alignment() -> dict[str, Any]:
    return {
        "type": ["Alignment"],
        "targetName": ECTS_NAME,
        "targetUrl": ECTS_CONCEPT,
        "targetCode": CREDIT_SYSTEM,
        "targetType": "ext:CreditSystem",
    }


def outcome_alignments(achievement_id: str, outcomes: Sequence[str], language: str) -> list[dict[str, Any]]:
    """One alignment per learning outcome, numbered in the course's order, in the certificate's language."""
    return [
        {
            "type": ["Alignment"],
            "targetName": outcome,
            "targetDescription": outcome,
            "targetUrl": f"{achievement_id}#learning-outcome-{number}",
            "targetCode": f"LO{number}",
            "targetFramework": f"Learning outcomes ({language})",
            "targetType": "ceasn:Competency",
        }
        for number, outcome in enumerate(outcomes, start=1)
    ]


def result_description_id(achievement_id: str) -> str:
    return f"{achievement_id}#final-assessment"


def result_description(achievement_id: str, result: AssessmentResult) -> dict[str, Any]:
    return {
        "id": result_description_id(achievement_id),
        "type": ["ResultDescription"],
        "name": result.name,
        "resultType": "Percent",
        "requiredValue": str(result.pass_mark),
        "valueMin": "0",
        "valueMax": "100",
    }


def result_value(score: float) -> str:
    """'87' or '87.5': at most one decimal, no trailing zero."""
    text = f"{round(score, 1):.1f}"
    return text[:-2] if text.endswith(".0") else text


def subject_result(achievement_id: str, result: AssessmentResult) -> dict[str, Any]:
    return {
        "type": ["Result"],
        "resultDescription": result_description_id(achievement_id),
        "value": result_value(result.score),
        "status": "Completed" if result.passed else "Failed",
    }
