"""Issuing, verifying and revoking certificates through the services and the web pages."""

from __future__ import annotations

import copy
import hashlib
import json
from collections.abc import Callable, Iterator
from datetime import timedelta
from decimal import Decimal
from typing import Any
from urllib.parse import urlsplit

import pytest
from flask import Flask
from flask.testing import FlaskClient
from openbadgeslib.ob3.ldp import OB3LdpVerifier, verify_data_integrity_proof
from openbadgeslib.ob3.verifier import OB3VerificationError
from sqlalchemy import select
from sqlalchemy.exc import IntegrityError

from lms.audit.models import AuditRecord
from lms.auth.models import Role, User
from lms.certificates import (
    codes,
    dataintegrity,
    queries,
    rendering,
    services,
    signed_documents,
    statuslist,
    storage,
)
from lms.certificates.models import Certificate, CertificateStatus, IssueMethod
from lms.cli import lms_group
from lms.courses.models import Course, Lesson, Module
from lms.db import utcnow
from lms.enrolment import completion as enrolment_completion
from lms.enrolment import runs as enrolment_runs
from lms.enrolment import self_service as enrolment_self_service
from lms.enrolment.models import Enrolment
from lms.errors import Conflict
from lms.extensions import db
from tests.conftest import login
from tests.conftest_mail import job_queue


def complete_course(user: User, course: Course, language: str = "en") -> Enrolment:
    run = enrolment_runs.ensure_default_run(course)
    enrolment = enrolment_self_service.self_enrol(user, run, language=language)
    for module in course.modules:
        for lesson in module.lessons:
            enrolment_completion.complete_lesson(enrolment, lesson)
    db.session.commit()
    return enrolment


def certificate_of(user: User) -> Certificate:
    certificate = db.session.scalar(
        select(Certificate).where(Certificate.user_id == user.id).order_by(Certificate.id.desc())
    )
    assert certificate is not None
    rendering.store_pdf(certificate.id)  # the job's work after the issuing request's commit
    return certificate


def serve_from(client: FlaskClient) -> Callable[[str], bytes]:
    """openbadgeslib's `download`: any https/http URL of the academy is answered by the app itself."""

    def download(url: str) -> bytes:
        response = client.get(urlsplit(url).path)
        assert response.status_code == 200, url
        return response.data

    return download


def independent_verify(document: dict[str, Any], client: FlaskClient, check_status: bool = True) -> Any:
    """openbadgeslib resolves the issuer's did:web document through the app and checks the proof,
    the OB 3.0 shape, the validity window and (optionally) the status list bit."""
    verifier = OB3LdpVerifier.for_issuer_did(document["issuer"]["id"])
    return verifier.verify(
        document, check_status=check_status, download=serve_from(client), verify_status_list=False
    )


TINY_TITLE_RU = "Комплексное управление границами: основы"


@pytest.fixture
def tiny_course(app: Flask) -> Course:
    """Two lessons and no quiz, so completing the lessons completes the course; with the fields a
    certificate prints (level, credits, hours, outcomes, a validity) and a Russian title."""
    course = Course(
        slug="tiny-ibm", title="Integrated Border Management: foundations", summary="A short course.",
        language="en", level="EQF 5", credits=Decimal("1.5"), notional_hours=25,
        learning_outcomes=["Explain integrated border management", "Apply non-refoulement safeguards"],
        certificate_validity_months=24,
        translations={"ru": {"title": TINY_TITLE_RU, "learning_outcomes": ["Объяснять концепцию КУГ"]}},
    )  # fmt: skip
    module = Module(slug="basics", title="Basics", position=0)
    module.lessons = [Lesson(slug=f"lesson-{i}", title=f"Lesson {i}", position=i) for i in range(2)]
    course.modules = [module]
    db.session.add(course)
    db.session.flush()
    enrolment_runs.ensure_default_run(course)
    db.session.commit()
    return course


@pytest.fixture
def trainee(make_user: Callable[..., User]) -> User:
    return make_user(
        Role.TRAINEE, given_name="Olena", family_name="Koval", patronymic="Mykolaivna",
        native_name="Олена Миколаївна Коваль", email="olena.koval@agency.test",
    )  # fmt: skip


@pytest.fixture
def admin(make_user: Callable[..., User]) -> User:
    return make_user(Role.ADMIN)


@pytest.fixture
def issued(trainee: User, tiny_course: Course) -> Certificate:
    complete_course(trainee, tiny_course)
    return certificate_of(trainee)


@pytest.fixture
def anonymous(app: Flask) -> FlaskClient:
    return app.test_client()


@pytest.fixture(autouse=True)
def _generous_rate_limit(app: Flask) -> Iterator[None]:
    limit = app.config["CERTIFICATE_VERIFY_LIMIT"]
    app.config["CERTIFICATE_VERIFY_LIMIT"] = 1000
    yield
    app.config["CERTIFICATE_VERIFY_LIMIT"] = limit


# --- issuance --------------------------------------------------------------------------------


def test_completion_issues_a_certificate_automatically_and_audits_it(app: Flask, issued: Certificate) -> None:
    assert issued.status == CertificateStatus.ACTIVE
    assert issued.method == IssueMethod.AUTOMATIC
    assert issued.holder_name == "Olena Mykolaivna Koval"
    assert issued.holder_native_name == "Олена Миколаївна Коваль"
    assert issued.course_level and issued.notional_hours and issued.learning_outcomes
    assert issued.valid_until is not None  # the demo course has a validity in months
    assert storage.pdf_path(issued).read_bytes().startswith(b"%PDF")
    records = db.session.scalars(select(AuditRecord).where(AuditRecord.subject_type == "certificate")).all()
    # The PDF is made after the issue's commit: its digest is a record of its own.
    assert [r.action for r in records] == ["certificate.issued", "certificate.pdf_stored"]
    assert records[0].after["code"] == issued.code
    assert records[1].after == {"code": issued.code, "pdf_sha256": issued.pdf_sha256}
    assert hashlib.sha256(storage.pdf_path(issued).read_bytes()).hexdigest() == issued.pdf_sha256
    result = app.test_cli_runner().invoke(lms_group, ["audit", "verify"])
    assert result.exit_code == 0, result.output


def test_approval_runs_wait_for_an_admin_who_issues_in_bulk(
    app: Flask, client: FlaskClient, make_user: Callable[..., User], admin: User, tiny_course: Course
) -> None:
    """The bulk issue goes through the job (one per certificate) and the admin watches its progress
    on a page that reloads itself (a Refresh header, no script) until every PDF is stored."""
    run = enrolment_runs.ensure_default_run(tiny_course)
    run.certificate_issuance = "approval"
    db.session.commit()
    people = [make_user(Role.TRAINEE, given_name=f"Person{i}") for i in range(2)]
    enrolments = [complete_course(person, tiny_course) for person in people]
    assert db.session.scalar(select(Certificate)) is None

    login(client, admin)
    page = client.get("/admin/certificates/pending").get_data(as_text=True)
    assert all(person.full_name in page for person in people)
    with job_queue(app) as jobs:
        response = client.post("/admin/certificates/pending", data={"enrolments": [e.id for e in enrolments]})
        assert response.status_code == 302
        progress_url = response.headers["Location"]
        assert db.session.scalar(select(Certificate)) is None  # nothing issued in the request
        assert jobs.names() == ["issue_certificate", "issue_certificate"]
        waiting = client.get(progress_url)
        assert waiting.status_code == 200 and waiting.headers["Refresh"] == "5"
        assert waiting.mimetype == "text/html"  # a page, not its source as text
        assert "Certificates issued: 0 of 2" in waiting.get_data(as_text=True)
        assert jobs.run() == 2
    finished = client.get(progress_url)
    assert "Refresh" not in finished.headers
    html = finished.get_data(as_text=True)
    assert "Certificates issued: 2 of 2" in html and "PDFs ready: 2 of 2" in html
    assert 'data-done="yes"' in html
    certificates = db.session.scalars(select(Certificate).order_by(Certificate.id)).all()
    assert all(storage.pdf_path(c).exists() and c.pdf_sha256 for c in certificates)
    assert [c.user_id for c in certificates] == [p.id for p in people]
    assert {c.method for c in certificates} == {IssueMethod.APPROVED}
    assert {c.issued_by_id for c in certificates} == {admin.id}
    assert "Nobody is waiting" in client.get("/admin/certificates/pending").get_data(as_text=True)


def test_manual_issue_needs_a_reason_which_the_audit_trail_keeps(
    client: FlaskClient, trainee: User, admin: User, tiny_course: Course
) -> None:
    run = enrolment_runs.ensure_default_run(tiny_course)
    db.session.commit()
    login(client, admin)
    refused = client.post(
        "/admin/certificates/issue", data={"email": trainee.email, "run": run.id, "reason": ""}
    )
    assert refused.status_code == 422
    assert db.session.scalar(select(Certificate)) is None
    reason = "Completed the in-person run in Chisinau, March 2026"
    response = client.post(
        "/admin/certificates/issue", data={"email": trainee.email, "run": run.id, "reason": reason}
    )
    assert response.status_code == 302
    certificate = certificate_of(trainee)
    assert certificate.method == IssueMethod.MANUAL and certificate.issue_reason == reason
    record = db.session.scalar(select(AuditRecord).where(AuditRecord.action == "certificate.issued"))
    assert record is not None and record.reason == reason and record.actor_id == admin.id


def test_one_certificate_in_force_per_person_and_run(app: Flask, issued: Certificate, admin: User) -> None:
    enrolment = db.session.get(Enrolment, issued.enrolment_id)
    assert enrolment is not None
    with app.test_request_context(), pytest.raises(Conflict):
        services.issue_for_enrolment(enrolment, actor_id=admin.id, method=IssueMethod.APPROVED)
    db.session.rollback()
    # The database itself refuses a second active row, whatever a concurrent writer's check saw.
    duplicate = Certificate(
        **{
            column.key: getattr(issued, column.key)
            for column in Certificate.__table__.columns
            if column.key not in {"id", "code", "credential_uuid", "status_index"}
        },
        code=codes.new_code(), credential_uuid="dup", status_index=issued.status_index + 1,
    )  # fmt: skip
    db.session.add(duplicate)
    with pytest.raises(IntegrityError):
        db.session.flush()
    db.session.rollback()


# --- the credential --------------------------------------------------------------------------


def test_issued_credential_has_the_required_open_badges_content(
    anonymous: FlaskClient, issued: Certificate
) -> None:
    document = issued.credential
    assert document["@context"] == [
        "https://www.w3.org/ns/credentials/v2",
        "https://purl.imsglobal.org/spec/ob/v3p0/context-3.0.3.json",
    ]
    assert document["id"].startswith("urn:uuid:")
    assert document["type"] == ["VerifiableCredential", "OpenBadgeCredential"]
    assert document["issuer"]["type"] == ["Profile"]
    assert document["issuer"]["id"] == "did:web:127.0.0.1%3A5000"
    assert "validFrom" in document and "validUntil" in document
    subject = document["credentialSubject"]
    assert subject["type"] == ["AchievementSubject"]
    assert subject["identifier"][0]["type"] == "IdentityObject" and subject["identifier"][0]["hashed"] is True
    assert "olena.koval@agency.test" not in json.dumps(document)
    achievement = subject["achievement"]
    for member in ("id", "name", "description", "criteria", "creditsAvailable", "inLanguage"):
        assert member in achievement, member
    assert achievement["achievementType"] == "Certificate" and achievement["criteria"]["narrative"]
    status = document["credentialStatus"]
    assert status["type"] == "BitstringStatusListEntry"
    assert anonymous.get(urlsplit(status["statusListCredential"]).path).status_code == 200
    proof = document["proof"]
    assert proof["type"] == "DataIntegrityProof" and proof["cryptosuite"] == "eddsa-rdfc-2022"

    did = anonymous.get("/.well-known/did.json").get_json(force=True)
    methods = {m["id"]: m for m in did["verificationMethod"]}
    method = methods[proof["verificationMethod"]]
    assert method["type"] == "Multikey" and method["controller"] == document["issuer"]["id"]
    assert proof["verificationMethod"] in did["assertionMethod"]
    assert did["id"] == document["issuer"]["id"]


def test_credential_verifies_independently_and_any_changed_field_fails(
    anonymous: FlaskClient, issued: Certificate
) -> None:
    document = anonymous.get(f"/verify/{issued.code}/credential.json").get_json(force=True)
    credential = independent_verify(document, anonymous)
    assert credential.issuer.id == document["issuer"]["id"]

    def leaves(node: Any, path: tuple = ()) -> Iterator[tuple]:
        if isinstance(node, dict):
            for key, value in node.items():
                if key not in ("proof", "@context"):
                    yield from leaves(value, (*path, key))
        elif isinstance(node, list):
            for index, value in enumerate(node):
                yield from leaves(value, (*path, index))
        else:
            yield path

    def changed(value: Any) -> Any:
        if isinstance(value, bool):
            return not value
        if isinstance(value, int | float):
            return value + 1
        if value.endswith("Z"):  # a date: another valid date
            return value.replace("20", "19", 1)
        return value + "x"

    paths = list(leaves(document))
    assert len(paths) > 30
    for path in paths:
        tampered = copy.deepcopy(document)
        target = tampered
        for step in path[:-1]:
            target = target[step]
        target[path[-1]] = changed(target[path[-1]])
        with pytest.raises(OB3VerificationError):
            independent_verify(tampered, anonymous, check_status=False)
        with pytest.raises(ValueError):  # the app's own verifier agrees (ProofInvalid is a ValueError)
            dataintegrity.verify(tampered, signed_documents.resolve_own_key)


def test_old_credentials_still_verify_after_the_key_is_rotated(
    app: Flask,
    anonymous: FlaskClient,
    issued: Certificate,
    make_user: Callable[..., User],
    tiny_course: Course,
) -> None:
    old_method = issued.credential["proof"]["verificationMethod"]
    result = app.test_cli_runner().invoke(lms_group, ["certificates", "rotate-key"])
    assert result.exit_code == 0, result.output
    second = make_user(Role.TRAINEE)
    complete_course(second, tiny_course)
    newer = certificate_of(second)
    assert newer.credential["proof"]["verificationMethod"] != old_method
    did = anonymous.get("/.well-known/did.json").get_json(force=True)
    assert len(did["assertionMethod"]) >= 2 and old_method in did["assertionMethod"]
    independent_verify(issued.credential, anonymous)
    independent_verify(newer.credential, anonymous)
    assert db.session.scalar(select(AuditRecord).where(AuditRecord.action == "certificates.key_rotated"))


# --- the public verify page ------------------------------------------------------------------


def test_verify_page_says_valid_and_shows_what_it_certifies(
    anonymous: FlaskClient, issued: Certificate
) -> None:
    page = anonymous.get(f"/verify/{codes.grouped(issued.code)}")
    assert page.status_code == 200
    text = page.get_data(as_text=True)
    assert 'data-state="valid"' in text
    for fact in (issued.holder_name, "Олена Миколаївна Коваль", issued.course_title, issued.course_level):
        assert fact in text
    # The typed form accepts lower case, spaces and no dashes.
    typed = anonymous.get("/verify", query_string={"code": issued.code.lower()})
    assert typed.status_code == 302 and typed.headers["Location"].endswith(codes.grouped(issued.code))


def test_unknown_codes_are_plainly_not_found(anonymous: FlaskClient, issued: Certificate) -> None:
    for code in ("ZZZZ-ZZZZ-ZZZZ", "not-a-code"):
        page = anonymous.get(f"/verify/{code}")
        assert page.status_code == 404
        text = page.get_data(as_text=True)
        assert 'data-state="not-found"' in text and issued.holder_name not in text


def test_verify_lookups_are_rate_limited_per_client(app: Flask, anonymous: FlaskClient) -> None:
    app.config["CERTIFICATE_VERIFY_LIMIT"] = 3
    statuses = [anonymous.get(f"/verify/{codes.new_code()}").status_code for _ in range(5)]
    assert statuses == [404, 404, 404, 429, 429]
    other = app.test_client()
    assert other.get("/verify/X", environ_base={"REMOTE_ADDR": "10.0.0.9"}).status_code == 404


def test_revoking_flips_the_verify_page_and_the_status_list_bit(
    client: FlaskClient, anonymous: FlaskClient, issued: Certificate, admin: User
) -> None:
    index = issued.status_index
    status_url = urlsplit(issued.credential["credentialStatus"]["statusListCredential"]).path
    before = anonymous.get(status_url).get_json(force=True)
    assert not statuslist.is_set(before["credentialSubject"]["encodedList"], index)

    login(client, admin)
    reason = "The assessment was taken by another person."
    response = client.post(
        f"/admin/certificates/{issued.code}/revoke", data={"reason": reason, "show_reason_publicly": "y"}
    )
    assert response.status_code == 302

    text = anonymous.get(f"/verify/{issued.code}").get_data(as_text=True)
    assert 'data-state="revoked"' in text and reason in text
    after = anonymous.get(status_url).get_json(force=True)
    assert statuslist.is_set(after["credentialSubject"]["encodedList"], index)
    # The status list is itself signed by the academy.
    dataintegrity.verify(after, signed_documents.resolve_own_key)
    pem = signed_documents.resolve_own_key(after["proof"]["verificationMethod"])
    assert pem is not None
    verify_data_integrity_proof(after, pem)
    # A verifier holding only the credential learns it too.
    with pytest.raises(OB3VerificationError, match="revocation"):
        independent_verify(issued.credential, anonymous)
    record = db.session.scalar(select(AuditRecord).where(AuditRecord.action == "certificate.revoked"))
    assert record is not None and record.reason == reason and record.actor_id == admin.id


def test_a_revocation_reason_stays_private_unless_the_admin_chooses(
    client: FlaskClient, anonymous: FlaskClient, issued: Certificate, admin: User
) -> None:
    login(client, admin)
    client.post(f"/admin/certificates/{issued.code}/revoke", data={"reason": "Private disciplinary matter"})
    text = anonymous.get(f"/verify/{issued.code}").get_data(as_text=True)
    assert 'data-state="revoked"' in text and "Private disciplinary matter" not in text


def test_an_expired_certificate_shows_expired(anonymous: FlaskClient, issued: Certificate) -> None:
    issued.valid_until = utcnow() - timedelta(days=1)
    db.session.commit()
    text = anonymous.get(f"/verify/{issued.code}").get_data(as_text=True)
    assert 'data-state="expired"' in text


def test_reissue_keeps_the_old_certificate_as_superseded(
    client: FlaskClient, anonymous: FlaskClient, issued: Certificate, admin: User
) -> None:
    old_code, old_pdf = issued.code, storage.pdf_path(issued).read_bytes()
    login(client, admin)
    response = client.post(f"/admin/certificates/{old_code}/reissue", data={"reason": "Name corrected"})
    assert response.status_code == 302
    db.session.expire_all()
    old = queries.certificate_by_code(old_code)
    assert old is not None and old.status == CertificateStatus.SUPERSEDED
    new = db.session.get(Certificate, old.superseded_by_id)
    assert new is not None and new.status == CertificateStatus.ACTIVE and new.code != old_code
    assert storage.pdf_path(old).read_bytes() == old_pdf  # the old PDF is kept as it was
    assert 'data-state="superseded"' in anonymous.get(f"/verify/{old_code}").get_data(as_text=True)
    assert 'data-state="valid"' in anonymous.get(f"/verify/{new.code}").get_data(as_text=True)
    actions = db.session.scalars(select(AuditRecord.action).order_by(AuditRecord.id)).all()
    assert actions[-2:] == ["certificate.reissued", "certificate.superseded"]


# --- the trainee's downloads -----------------------------------------------------------------


def test_trainee_downloads_the_stored_pdf_never_a_regenerated_one(
    client: FlaskClient, trainee: User, issued: Certificate, monkeypatch: pytest.MonkeyPatch
) -> None:
    login(client, trainee)
    dashboard = client.get("/dashboard").get_data(as_text=True)
    assert "/certificates" in dashboard
    listing = client.get("/certificates").get_data(as_text=True)
    assert codes.grouped(issued.code) in listing

    def must_not_render(*args: Any, **kwargs: Any) -> bytes:
        raise AssertionError("an issued certificate was rendered again")

    monkeypatch.setattr("lms.certificates.pdf.html_to_pdf", must_not_render)
    with client.get(f"/certificates/{issued.code}.pdf") as response:
        assert response.status_code == 200 and response.mimetype == "application/pdf"
        assert response.data == storage.pdf_path(issued).read_bytes()
        assert hashlib.sha256(response.data).hexdigest() == issued.pdf_sha256
    document = client.get(f"/certificates/{issued.code}.json").get_json(force=True)
    assert document == issued.credential


def test_nobody_else_can_download_a_trainees_files(
    client: FlaskClient, make_user: Callable[..., User], issued: Certificate
) -> None:
    login(client, make_user(Role.TRAINEE))
    assert client.get(f"/certificates/{issued.code}.pdf").status_code == 404
    assert client.get(f"/certificates/{issued.code}.json").status_code == 404
