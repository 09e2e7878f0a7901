"""The Europass export (issue 23): each certificate as an unsigned European Digital Credential
(ELM 3), validated offline against the Commission's SHACL shapes (both profiles), and who may
download it."""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator
from datetime import date
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest
from flask import Flask
from flask.testing import FlaskClient
from pyshacl import validate
from rdflib import Graph, Literal, URIRef

from lms.auth.models import Role, User
from lms.certificates import europass
from lms.certificates.models import Certificate
from lms.courses.models import Course, Lesson, Module
from lms.extensions import db
from tests.conftest import login
from tests.test_certificates import certificate_of, complete_course

STANDARDS = Path(__file__).parent / "standards" / "elm3"
# The contexts a credential names, served from the copies in the repository: nothing is fetched.
LOCAL_CONTEXTS = {
    europass.VC_V1_CONTEXT: STANDARDS / "credentials-v1.jsonld",
    europass.EDC_CONTEXT: STANDARDS / "edc-ap-context.jsonld",
}
ELM = "http://data.europa.eu/snb/model/elm/"
# pyshacl 0.40 still builds an rdflib ConjunctiveGraph, which rdflib 7 deprecates
pytestmark = pytest.mark.filterwarnings("ignore:ConjunctiveGraph is deprecated:DeprecationWarning")


def load_offline(document: dict[str, Any]) -> Graph:
    """A document loader for exactly the two contexts: each URL is replaced by its local file's
    context before rdflib reads the JSON-LD (an unknown context fails the test, never the network)."""
    contexts = [json.loads(LOCAL_CONTEXTS[url].read_text())["@context"] for url in document["@context"]]
    return Graph().parse(data=json.dumps({**document, "@context": contexts}), format="json-ld")


@pytest.fixture(scope="module")
def shapes() -> Graph:
    graph = Graph()
    graph.parse(STANDARDS / "EDC-generic-no-cv.ttl")
    graph.parse(STANDARDS / "EDC-generic-full.ttl")  # owl:imports the no-cv shapes: both in one graph
    return graph


def violations(document: dict[str, Any], shapes: Graph) -> str:
    conforms, _graph, text = validate(load_offline(document), shacl_graph=shapes, inference="none")
    return "" if conforms else text


@pytest.fixture
def course(app: Flask) -> Course:
    course = Course(
        slug="europass-ibm", title="Integrated Border Management: foundations", summary="A short course.",
        language="en", level="EQF 5", credits=Decimal("1.5"), notional_hours=25,
        learning_outcomes=["Explain integrated border management", "Apply non-refoulement safeguards"],
        translations={
            "ru": {"title": "Комплексное управление границами", "learning_outcomes": ["Объяснять КУГ"]},
            "ar": {"title": "الإدارة المتكاملة للحدود", "learning_outcomes": ["شرح إدارة الحدود"]},
        },
    )  # fmt: skip
    module = Module(slug="basics", title="Basics", position=0)
    module.lessons = [Lesson(slug=f"lesson-{i}", title=f"Lesson {i}", position=i) for i in range(2)]
    course.modules = [module]
    db.session.add(course)
    db.session.commit()
    return course


@pytest.fixture
def holders(make_user: Callable[..., User], course: Course) -> dict[str, Certificate]:
    people = {
        "en": make_user(Role.TRAINEE, given_name="Jane", family_name="Doe"),
        "ru": make_user(Role.TRAINEE, given_name="Olena", family_name="Koval", native_name="Олена Коваль"),
        "ar": make_user(Role.TRAINEE, given_name="Layla", family_name="Haddad", native_name="ليلى حداد"),
    }
    certificates = {}
    for language, person in people.items():
        complete_course(person, course, language=language)
        certificates[language] = certificate_of(person)
    return certificates


@pytest.fixture(autouse=True)
def _generous_rate_limit(app: Flask) -> Iterator[None]:
    app.config["CERTIFICATE_VERIFY_LIMIT"] = 10_000
    yield


def test_exports_of_english_russian_and_arabic_holders_have_zero_shacl_violations(
    app: Flask, holders: dict[str, Certificate], shapes: Graph
) -> None:
    for language, certificate in holders.items():
        assert certificate.language == language
        client = app.test_client()
        login(client, certificate.user)
        response = client.get(f"/certificates/{certificate.code}/europass.jsonld")
        assert response.status_code == 200
        assert response.mimetype == "application/ld+json"
        document = response.get_json()
        assert violations(document, shapes) == "", language
        graph = load_offline(document)
        # the EQF level as the Commission's concept, outcomes in every course language, ECTS, hours
        assert (None, URIRef(ELM + "EQFLevel"), URIRef("http://data.europa.eu/snb/eqf/5")) in graph
        titles = graph.objects(None, URIRef("http://purl.org/dc/terms/title"))
        outcome_languages = {
            o.language
            for o in titles
            if isinstance(o, Literal) and any(word in o for word in ("Explain", "Объяснять", "شرح"))
        }
        assert outcome_languages == {"en", "ru", "ar"}
        assert (None, URIRef(ELM + "framework"), URIRef(europass.ECTS)) in graph
        assert document["issuer"]["legalName"]["en"] == certificate.issuer_name


def test_a_tampered_export_fails_validation(
    app: Flask, holders: dict[str, Certificate], shapes: Graph
) -> None:
    """The shapes are really applied: an issuer without its legal identifier is a violation."""
    with app.test_request_context():
        document = europass.europass_document(holders["en"])
    del document["issuer"]["eIDASIdentifier"]
    assert "eidasLegalIdentifier" in violations(document, shapes)


def test_facts_become_workload_dates_and_levels() -> None:
    assert europass.eqf_level("EQF 5") == 5
    assert europass.eqf_level("6") == 6
    assert europass.eqf_level("advanced") is None
    assert europass.eqf_level(None) is None


def test_pure_document_carries_attended_hours_and_run_dates(shapes: Graph) -> None:
    from datetime import UTC, datetime

    facts = europass.EuropassFacts(
        credential_id="0b6f4c1e-0000-4000-8000-000000000001", code="ABCDEFGHJKMN",
        issuer_name="Academy", issuer_url="https://academy.example", legal_identifier="LU-B123",
        country_code="LUX", place="Luxembourg", holder_name="Jane Doe", holder_native_name=None,
        language="en", titles={"en": "IBM"}, outcomes={"en": ["Explain"]}, level=None, credits=None,
        notional_hours=None, attended_minutes=90, run_title="Run 1", run_starts_on=date(2026, 1, 5),
        run_ends_on=date(2026, 1, 9), modality="in_person", issued_at=datetime(2026, 1, 10, tzinfo=UTC),
        valid_until=None, assessment_result="Passed",
    )  # fmt: skip
    document = europass.europass_credential(facts)
    activity = document["credentialSubject"]["hasClaim"][0]["influencedBy"][0]
    assert activity["workload"] == "PT1H30M"
    assert activity["temporal"][0]["startDate"].startswith("2026-01-05")
    assert violations(document, shapes) == ""


def test_only_the_holder_and_admins_download_it(
    app: Flask, make_user: Callable[..., User], make_authority: Any, holders: dict[str, Certificate]
) -> None:
    certificate = holders["en"]
    url = f"/certificates/{certificate.code}/europass.jsonld"
    anonymous = app.test_client().get(url)
    assert anonymous.status_code in (302, 401) and anonymous.mimetype != "application/ld+json"
    for neighbour in (
        holders["ru"].user,  # another trainee
        make_user(Role.FOCAL_POINT, authority=make_authority()),  # another authority's focal point
    ):
        client = app.test_client()
        login(client, neighbour)
        assert client.get(url).status_code == 404
    client = app.test_client()
    login(client, make_user(Role.ADMIN))
    assert client.get(url).status_code == 200
    assert url in client.get(f"/admin/certificates/{certificate.code}").get_data(as_text=True)  # linked there
    assert client.get("/certificates/ZZZZZZZZZZZZ/europass.jsonld").status_code == 404
    assert client.get("/certificates/%00%ff/europass.jsonld").status_code in (400, 404)  # never 500


def test_my_certificates_links_to_it(client: FlaskClient, holders: dict[str, Certificate]) -> None:
    certificate = holders["ar"]
    login(client, certificate.user)
    page = client.get("/certificates").get_data(as_text=True)
    assert f"/certificates/{certificate.code}/europass.jsonld" in page


def test_the_final_assessment_standing_is_the_assessments_grade(
    app: Flask, holders: dict[str, Certificate], shapes: Graph, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A course with a final quiz: its title, the holder's score and the pass mark (the quiz machinery
    is stubbed here; lms.enrolment.completion.final_assessment_results has its own tests)."""
    from types import SimpleNamespace

    certificate = holders["ru"]
    quiz = SimpleNamespace(pass_mark=70, text=lambda field, language: "Итоговый тест")
    standing = SimpleNamespace(quiz=quiz, grade=86.4, passed=True)
    monkeypatch.setattr(
        europass, "final_assessment_results", lambda ids: {i: standing for i in ids if i is not None}
    )
    with app.test_request_context():
        document = europass.europass_document(certificate)
    assessment = document["credentialSubject"]["hasClaim"][0]["provenBy"][0]
    assert assessment["title"] == {"en": "Final assessment: Итоговый тест"}
    assert assessment["grade"]["noteLiteral"] == {"en": "86% (pass mark 70%), passed"}
    assert violations(document, shapes) == ""


def test_the_real_demo_course_exports_in_its_languages_with_zero_violations(
    app: Flask, demo_course: Course, make_user: Callable[..., User], shapes: Graph
) -> None:
    """The IBM foundations course of courses/ (the demo data), issued by an admin with a reason as the
    demo does, to holders studying it in English, Russian and Arabic."""
    from lms.certificates import services
    from lms.enrolment import runs as enrolment_runs
    from lms.enrolment import self_service as enrolment_self_service

    admin = make_user(Role.ADMIN)
    run = enrolment_runs.ensure_default_run(demo_course)
    for language in ("en", "ru", "ar"):
        assert language in demo_course.languages
        person = make_user(Role.TRAINEE, native_name="Имя" if language == "ru" else None)
        enrolment_self_service.self_enrol(person, run, language=language)
        certificate = services.issue_manually(person.email, run.id, admin.id, "Demo data.")
        db.session.commit()
        assert certificate.language == language
        with app.test_request_context():
            document = europass.europass_document(certificate)
        assert violations(document, shapes) == "", language
