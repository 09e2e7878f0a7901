"""Issue 23: the richer Open Badges 3.0 credential (result, EQF alignment, outcomes, awardedDate, ECTS) and
the issuer that survives a key rotation and a move to another base URL."""

from __future__ import annotations

import copy
from collections.abc import Callable
from types import SimpleNamespace
from typing import Any

import pytest
from flask.testing import FlaskClient
from openbadgeslib.ob3.verifier import OB3VerificationError

from lms.auth.models import User
from lms.certificates import credential_extras, services
from lms.certificates.models import Certificate
from lms.courses.models import Course
from tests.test_certificates import (
    _generous_rate_limit,
    anonymous,
    certificate_of,
    complete_course,
    independent_verify,
    tiny_course,
    trainee,
)

__all__ = ["_generous_rate_limit", "anonymous", "tiny_course", "trainee"]  # shared fixtures


def test_eqf_level_is_read_from_the_course_level() -> None:
    assert credential_extras.eqf_level("EQF 5") == 5
    assert credential_extras.eqf_level("eqf level 8") == 8
    assert credential_extras.eqf_level("4") == 4
    assert credential_extras.eqf_level("EQF 9") is None
    assert credential_extras.eqf_level("Advanced") is None
    assert credential_extras.eqf_level(None) is None
    assert credential_extras.result_value(87.0) == "87" and credential_extras.result_value(87.46) == "87.5"


@pytest.fixture
def with_final_result(monkeypatch: pytest.MonkeyPatch) -> None:
    """The final quiz standing (the quiz machinery has its own tests): 86.5 %, pass mark 70 %."""
    quiz = SimpleNamespace(pass_mark=70, text=lambda field, language: "Итоговый тест")
    standing = SimpleNamespace(quiz=quiz, grade=86.5, passed=True)
    monkeypatch.setattr(services, "final_assessment_results", lambda ids: {ids[0]: standing})


def test_the_enriched_credential_carries_result_alignments_and_awarded_date(
    anonymous: FlaskClient, trainee: User, tiny_course: Course, with_final_result: None
) -> None:
    complete_course(trainee, tiny_course, language="ru")
    issued = certificate_of(trainee)
    document = anonymous.get(f"/verify/{issued.code}/credential.json").get_json(force=True)
    independent_verify(document, anonymous)
    assert document["awardedDate"] == document["validFrom"]
    subject = document["credentialSubject"]
    achievement = subject["achievement"]
    alignments = {a["targetUrl"]: a for a in achievement["alignment"]}
    assert alignments["http://data.europa.eu/snb/eqf/5"]["targetName"] == "EQF level 5"
    assert credential_extras.ECTS_CONCEPT in alignments
    outcomes = [a for a in achievement["alignment"] if a["targetType"] == "ceasn:Competency"]
    assert [a["targetName"] for a in outcomes] == ["Объяснять концепцию КУГ"]  # the certificate's language
    assert achievement["inLanguage"] == "ru"
    (description,) = achievement["resultDescription"]
    assert description["name"] == "Итоговый тест" and description["requiredValue"] == "70"
    (result,) = subject["result"]
    assert result == {
        "type": ["Result"],
        "resultDescription": description["id"],
        "value": "86.5",
        "status": "Completed",
    }
    for change in _tamperings():
        tampered = copy.deepcopy(document)
        change(tampered)
        with pytest.raises(OB3VerificationError):
            independent_verify(tampered, anonymous)


def _tamperings() -> list[Callable[[dict[str, Any]], None]]:
    def subject(doc: dict[str, Any]) -> dict[str, Any]:
        return doc["credentialSubject"]

    def achievement(doc: dict[str, Any]) -> dict[str, Any]:
        return doc["credentialSubject"]["achievement"]

    return [
        lambda d: subject(d)["result"][0].update(value="100"),
        lambda d: subject(d)["result"][0].update(status="Failed"),
        lambda d: achievement(d)["resultDescription"][0].update(requiredValue="50"),
        lambda d: achievement(d)["alignment"][0].update(targetUrl="http://data.europa.eu/snb/eqf/7"),
        lambda d: achievement(d)["alignment"][-1].update(targetName="Something else"),
        lambda d: achievement(d)["alignment"].pop(),
        lambda d: d.update(awardedDate="2020-01-01T00:00:00Z"),
        lambda d: subject(d).pop("result"),
    ]


def test_without_a_final_quiz_there_is_no_result(
    anonymous: FlaskClient, trainee: User, tiny_course: Course
) -> None:
    complete_course(trainee, tiny_course)
    issued: Certificate = certificate_of(trainee)
    document = anonymous.get(f"/verify/{issued.code}/credential.json").get_json(force=True)
    assert "result" not in document["credentialSubject"]
    assert "resultDescription" not in document["credentialSubject"]["achievement"]
