"""did:web for an academy reached under a path (issue 10): did:web:host:path, served at <base>/did.json.

did:web resolves `did:web:example.org` to https://example.org/.well-known/did.json but
`did:web:example.org:academy` to https://example.org/academy/did.json (no .well-known). The tests
mount the app under /academy, as a reverse proxy would, and let openbadgeslib resolve the DID.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from urllib.parse import urlsplit

import pytest
from flask import Flask
from flask.testing import FlaskClient
from openbadgeslib.ob3.ldp import OB3LdpVerifier
from sqlalchemy import select
from werkzeug.exceptions import NotFound
from werkzeug.middleware.dispatcher import DispatcherMiddleware
from werkzeug.test import Client

from lms.auth.models import Role, User
from lms.certificates import signed_documents
from lms.certificates.issuer import academy_issuer, issuer_at
from lms.certificates.models import Certificate
from lms.enrolment import completion as enrolment_completion
from lms.enrolment import runs as enrolment_runs
from lms.enrolment import self_service as enrolment_self_service
from lms.extensions import db
from lms.settings import services as settings_services
from tests.enrolment_support import make_course

BASE_URL = "https://example.org/academy"
DID = "did:web:example.org:academy"


@pytest.fixture(autouse=True)
def _fresh_settings(app: Flask) -> Iterator[None]:
    settings_services.clear_settings_cache()
    yield
    settings_services.clear_settings_cache()


@pytest.fixture
def under_a_path(app: Flask, make_user: Callable[..., User]) -> Client:
    """The academy's public base URL has a path, and the app is reached under that path."""
    admin = make_user(Role.ADMIN)
    settings_services.update_settings(
        settings_services.SettingsChange(public_base_url=BASE_URL + "/"), actor_id=admin.id
    )
    db.session.commit()
    return Client(DispatcherMiddleware(NotFound(), {"/academy": app}))


def issue_certificate(make_user: Callable[..., User]) -> Certificate:
    course = make_course()
    run = enrolment_runs.ensure_default_run(course)
    trainee = make_user(Role.TRAINEE)
    enrolment = enrolment_self_service.self_enrol(trainee, run, language="en")
    for lesson in course.modules[0].lessons:
        enrolment_completion.complete_lesson(enrolment, lesson)
    db.session.commit()
    certificate = db.session.scalar(select(Certificate).where(Certificate.user_id == trainee.id))
    assert certificate is not None
    return certificate


@pytest.mark.parametrize(
    ("base_url", "did", "normalised"),
    [
        ("https://example.org/academy", "did:web:example.org:academy", "https://example.org/academy"),
        ("https://Example.org/academy/", "did:web:example.org:academy", "https://example.org/academy"),
        (
            "https://example.org:8443/training/academy",
            "did:web:example.org%3A8443:training:academy",
            "https://example.org:8443/training/academy",
        ),
        ("https://example.org", "did:web:example.org", "https://example.org"),
    ],
)
def test_the_did_derives_from_the_base_url_and_its_links_use_the_same_address(
    base_url: str, did: str, normalised: str
) -> None:
    issuer = issuer_at("Academy", base_url)
    assert issuer.did == did
    assert issuer.base_url == normalised  # verify and status-list links name the DID's address
    assert issuer.url("/did.json") == normalised + "/did.json"


def test_the_document_is_served_at_did_json_and_at_well_known(client: FlaskClient) -> None:
    well_known = client.get("/.well-known/did.json")
    under_path = client.get("/did.json")
    assert well_known.status_code == under_path.status_code == 200
    assert under_path.get_json(force=True) == well_known.get_json(force=True)
    assert under_path.mimetype == well_known.mimetype == "application/ld+json"
    assert under_path.headers["Access-Control-Allow-Origin"] == "*"


def test_a_base_url_with_a_path_gives_did_web_host_path_in_the_document(
    app: Flask, under_a_path: Client
) -> None:
    assert settings_services.did_web_identifier() == DID
    response = under_a_path.get("/academy/did.json")  # where a did:web resolver looks for it
    assert response.status_code == 200
    document = response.get_json(force=True)
    assert document["id"] == DID
    assert document["verificationMethod"]
    for method in document["verificationMethod"]:
        assert method["id"].startswith(DID + "#") and method["controller"] == DID
    assert document["assertionMethod"] == [m["id"] for m in document["verificationMethod"]]


def test_a_credential_issued_under_a_path_verifies_independently(
    app: Flask, under_a_path: Client, make_user: Callable[..., User]
) -> None:
    certificate = issue_certificate(make_user)
    credential = certificate.credential
    assert credential["issuer"]["id"] == DID
    assert credential["proof"]["verificationMethod"].startswith(DID + "#")
    status_url = credential["credentialStatus"]["statusListCredential"]
    assert status_url == BASE_URL + signed_documents.STATUS_LIST_PATH

    fetched: list[str] = []

    def download(url: str) -> bytes:
        fetched.append(url)
        parts = urlsplit(url)
        assert f"{parts.scheme}://{parts.netloc}" == "https://example.org", url
        response = under_a_path.get(parts.path)
        assert response.status_code == 200, url
        return response.get_data()

    verifier = OB3LdpVerifier.for_issuer_did(DID)
    verified = verifier.verify(credential, check_status=True, download=download, verify_status_list=False)
    assert verified.issuer.id == DID
    assert BASE_URL + "/did.json" in fetched  # resolved under the path, not at /.well-known
    assert not any("/.well-known/" in url for url in fetched)
    assert signed_documents.resolve_own_key(credential["proof"]["verificationMethod"]) is not None

    # The public verify page the QR code points to is under the same base URL.
    public = urlsplit(signed_documents.verify_url(academy_issuer(), certificate.code))
    assert public.path.startswith("/academy/verify/")
    assert under_a_path.get(public.path).status_code == 200
