"""Issue 23: the richer Open Badges 3.0 credential (result, EQF alignment, outcomes, awardedDate, ECTS) and
the issuer that survives a key rotation and a move to another base URL."""

from __future__ import annotations

import copy
import html
from collections.abc import Callable, Iterator
from types import SimpleNamespace
from typing import Any
from urllib.parse import parse_qs, urlsplit

import pytest
from flask import Flask
from flask.testing import FlaskClient
from openbadgeslib.ob3.ldp import OB3LdpVerifier
from openbadgeslib.ob3.verifier import OB3VerificationError
from sqlalchemy import select

from lms.auth.models import Role, User
from lms.certificates import (
    codes,
    credential_extras,
    dataintegrity,
    identity,
    linkedin,
    services,
    setup,
    signed_documents,
)
from lms.certificates.models import Certificate, IssueMethod
from lms.courses.models import Course
from lms.errors import ValidationFailed
from lms.extensions import db
from lms.notifications.models import OutgoingMail
from lms.settings import services as settings_services
from tests.conftest import login
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


# --- an issuer that survives ------------------------------------------------------------------


@pytest.fixture
def _fresh_settings() -> Iterator[None]:
    settings_services.clear_settings_cache()
    yield
    settings_services.clear_settings_cache()


def set_base_url(url: str, admin: User) -> None:
    settings_services.update_settings(
        settings_services.SettingsChange(public_base_url=url), actor_id=admin.id
    )
    db.session.commit()
    settings_services.clear_settings_cache()


def test_production_refuses_to_issue_from_a_loopback_address(
    app: Flask, make_user: Callable[..., User], trainee: User, tiny_course: Course, _fresh_settings: None
) -> None:
    admin = make_user(Role.ADMIN)
    assert identity.is_loopback("http://127.0.0.1:5000") and identity.is_loopback("http://[::1]:8000")
    assert identity.is_loopback("http://localhost") and not identity.is_loopback(
        "https://academy.example.org"
    )
    set_base_url("http://localhost:5000", admin)
    client = app.test_client()
    login(client, admin)
    app.config["TESTING"] = False
    try:
        enrolment = complete_course(trainee, tiny_course)  # the automatic issue is refused, left for an admin
        assert db.session.scalar(select(Certificate).where(Certificate.user_id == trainee.id)) is None
        with pytest.raises(ValidationFailed, match="loopback"):
            services.issue_for_enrolment(enrolment, actor_id=admin.id, method=IssueMethod.MANUAL, reason="x")
        db.session.rollback()
        for path in ("/admin/certificates", "/admin/certificates/issue", "/admin/certificates/pending"):
            page = client.get(path).get_data(as_text=True)  # said before the admin fills any form
            assert "loopback address no one else can reach" in page, path
        assert setup.check_public_address().ok is False
        set_base_url("https://academy.example.org", admin)
        assert setup.check_public_address().ok is True
        assert "loopback" not in client.get("/admin/certificates").get_data(as_text=True)
        services.issue_for_enrolment(enrolment, actor_id=admin.id, method=IssueMethod.MANUAL, reason="x")
    finally:
        app.config["TESTING"] = True


def serve_as(client: FlaskClient, host: str) -> Callable[[str], bytes]:
    """openbadgeslib's download: the academy answers every address; ``host`` must be the one asked."""

    def download(url: str) -> bytes:
        parts = urlsplit(url)
        assert parts.netloc == host, url
        response = client.get(parts.path, base_url=f"{parts.scheme}://{parts.netloc}")
        assert response.status_code == 200, url
        return response.get_data()

    return download


def test_a_rotated_key_and_a_move_keep_earlier_credentials_verifiable(
    app: Flask, make_user: Callable[..., User], tiny_course: Course, _fresh_settings: None
) -> None:
    admin = make_user(Role.ADMIN)
    set_base_url("https://old.example.org", admin)
    first = make_user(Role.TRAINEE)
    complete_course(first, tiny_course)
    old = certificate_of(first).credential
    assert old["issuer"]["id"] == "did:web:old.example.org"

    signed_documents.rotate_signing_key(admin.id)
    set_base_url("https://new.example.org", admin)
    second = make_user(Role.TRAINEE)
    complete_course(second, tiny_course)
    new = certificate_of(second).credential
    assert new["issuer"]["id"] == "did:web:new.example.org"
    assert (
        old["proof"]["verificationMethod"].split("#")[1] != new["proof"]["verificationMethod"].split("#")[1]
    )

    for document in (old, new):  # the repository's verifier
        dataintegrity.verify(document, signed_documents.resolve_own_key)
    client = app.test_client()
    for document, host in ((old, "old.example.org"), (new, "new.example.org")):  # and openbadgeslib
        verifier = OB3LdpVerifier.for_issuer_did(document["issuer"]["id"])
        verifier.verify(document, check_status=False, download=serve_as(client, host))
        tampered = copy.deepcopy(document)
        tampered["credentialSubject"]["achievement"]["name"] += "!"
        with pytest.raises(OB3VerificationError):
            verifier.verify(tampered, check_status=False, download=serve_as(client, host))
        with pytest.raises(dataintegrity.ProofInvalid):
            dataintegrity.verify(tampered, signed_documents.resolve_own_key)

    old_doc = client.get("/.well-known/did.json", base_url="https://old.example.org").get_json(force=True)
    new_doc = client.get("/.well-known/did.json", base_url="https://new.example.org").get_json(force=True)
    assert old_doc["id"] == "did:web:old.example.org" and new_doc["id"] == "did:web:new.example.org"
    assert "did:web:new.example.org" in old_doc["alsoKnownAs"]
    assert "did:web:old.example.org" in new_doc["alsoKnownAs"]
    listed = {m["id"].split("#")[1] for m in new_doc["verificationMethod"]}
    assert {
        old["proof"]["verificationMethod"].split("#")[1],
        new["proof"]["verificationMethod"].split("#")[1],
    } <= listed
    assert new_doc["assertionMethod"] == [m["id"] for m in new_doc["verificationMethod"]]
    other = client.get("/.well-known/did.json", base_url="https://elsewhere.test").get_json(force=True)
    assert other["id"] == "did:web:new.example.org"  # an address never used gets the current identifier
    assert (
        signed_documents.resolve_own_key("did:web:elsewhere.test#" + new_doc["verificationMethod"][0]["id"])
        is None
    )


# --- add to LinkedIn ---------------------------------------------------------------------------


def test_linkedin_link_on_my_certificates_and_in_the_issue_mail(
    app: Flask, trainee: User, tiny_course: Course
) -> None:
    complete_course(trainee, tiny_course)
    issued = certificate_of(trainee)
    code = codes.grouped(issued.code)
    link = linkedin.certificate_link(issued)
    parts = urlsplit(link)
    assert f"{parts.scheme}://{parts.netloc}{parts.path}" == "https://www.linkedin.com/profile/add"
    query = parse_qs(parts.query)
    assert query["startTask"] == ["CERTIFICATION_NAME"]
    assert query["name"] == [issued.course_title] and query["organizationName"] == [issued.issuer_name]
    assert query["issueYear"] == [str(issued.issued_at.year)]
    assert query["issueMonth"] == [str(issued.issued_at.month)]
    assert query["certId"] == [code] and query["certUrl"][0].endswith(f"/verify/{code}")

    client = app.test_client()
    login(client, trainee)
    page = client.get("/certificates").get_data(as_text=True)
    assert html.escape(link) in page and 'rel="noopener noreferrer external"' in page

    mail = db.session.scalar(
        select(OutgoingMail).where(
            OutgoingMail.recipient == trainee.email, OutgoingMail.kind == "certificate_issued"
        )
    )
    assert mail is not None and link in mail.body and code in mail.body
