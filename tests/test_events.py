"""International events (issue 20): participant details (who may enter and see them), the visa
invitation letter PDF (Arabic, Cyrillic and Georgian names read back with pypdf), the venue's list, and
the automatic erasure of passport data and needs (its day boundary, idempotence, audit)."""

from __future__ import annotations

import io
import uuid
from collections.abc import Callable
from datetime import UTC, date, datetime, timedelta

import pytest
from click.testing import CliRunner
from flask import Flask
from pypdf import PdfReader
from sqlalchemy import select

from lms.audit.models import AuditRecord
from lms.auth.models import Role, User
from lms.enrolment import self_service
from lms.enrolment.models import CourseRun, Enrolment, EnrolmentMethod, EnrolmentStatus
from lms.enrolment.transitions import create_place
from lms.extensions import db
from lms.orgs.models import Authority, Country
from lms.sessions import erasure
from lms.sessions.models import ParticipantDetails, TrainingSession
from tests.enrolment_support import UserClient, make_course, make_run


def signed_in(app: Flask, user: User) -> UserClient:
    db.session.rollback()
    return UserClient(app, user)


def country(code: str, name: str) -> None:
    if db.session.get(Country, code) is None:
        db.session.add(Country(code=code, name=name, names={}, groups=[]))
        db.session.flush()


@pytest.fixture
def event_run(app: Flask) -> CourseRun:
    run = make_run(
        make_course(), EnrolmentMethod.OPEN, is_international=True, modality="in_person",
        title="Regional workshop on document fraud", personal_data_retention_days=30,
    )  # fmt: skip
    country("MD", "Moldova")
    country("GE", "Georgia")
    db.session.add(
        TrainingSession(
            run_id=run.id, title="Day 1", starts_at=datetime(2027, 1, 12, 7, tzinfo=UTC),
            ends_at=datetime(2027, 1, 12, 15, tzinfo=UTC), timezone="Europe/Chisinau",
            venue_name="Border Academy", venue_city="Chisinau", venue_country="MD",
            meeting_url="https://meet.example.org/x", uid=f"{uuid.uuid4()}@t", check_in_secret="s" * 32,
        )
    )  # fmt: skip
    db.session.commit()
    return run


DETAILS = {
    "passport_name": "NINO BERIDZE",
    "passport_number": "13ab45678",
    "nationality": "GE",
    "date_of_birth": "1990-04-02",
    "dietary_needs": "vegetarian",
    "accessibility_needs": "step-free access",
}


def test_the_participant_enters_details_and_gets_the_letter(
    app: Flask, event_run: CourseRun, make_user: Callable[..., User]
) -> None:
    nino = make_user(given_name="ნინო", family_name="ბერიძე", native_name="ნინო ბერიძე")
    enrolment = self_service.self_enrol(nino, event_run)
    db.session.commit()
    run_id, enrolment_id = event_run.id, enrolment.id
    client = signed_in(app, nino)
    assert f"/runs/{run_id}/event" in client.get(f"/runs/{run_id}").get_data(
        as_text=True
    )  # from the run page
    url = f"/runs/{run_id}/event/participants/{enrolment_id}"
    assert client.get(url).status_code == 200
    letter = f"/runs/{run_id}/event/letters/{enrolment_id}.pdf"
    assert client.get(letter).status_code == 422  # no passport data yet: says what is missing
    bad = client.post(url, data={**DETAILS, "passport_number": "<script>"})
    assert bad.status_code == 422 and "passport number" in bad.get_data(as_text=True)
    assert client.post(url, data={**DETAILS, "date_of_birth": "2999-01-01"}).status_code == 422
    assert client.post(url, data={**DETAILS, "nationality": "ZZ"}).status_code == 422
    db.session.rollback()
    assert db.session.get(ParticipantDetails, enrolment_id) is None  # bad input changed nothing
    assert client.post(url, data=DETAILS).status_code == 302
    db.session.rollback()
    details = db.session.get(ParticipantDetails, enrolment_id)
    assert details is not None and details.passport_number == "13AB45678"
    assert details.dietary_needs == "vegetarian"
    audit = db.session.scalars(select(AuditRecord).where(AuditRecord.action == "participant.details")).one()
    assert "13AB45678" not in str(audit.after) and "passport_number" in audit.after["changed"]
    assert "vegetarian" not in str(audit.after)
    response = client.get(letter + "?language=ru")
    assert response.status_code == 200 and response.mimetype == "application/pdf"
    assert "no-store" in response.headers["Cache-Control"]
    text = " ".join(page.extract_text() for page in PdfReader(io.BytesIO(response.data)).pages)
    assert "13AB45678" in text and "NINO BERIDZE" in text and "ნინო ბერიძე" in text
    assert "Regional workshop on document fraud" in text and "Border Academy" in text
    assert client.get(letter + "?language=xx").status_code == 200  # an unknown language: English


def test_letters_print_arabic_cyrillic_and_georgian_names(
    app: Flask, event_run: CourseRun, make_user: Callable[..., User]
) -> None:
    from lms.sessions import letters

    names = {"ar": "أحمد المنصوري", "ru": "Ольга Петренко", "ka": "გიორგი კაპანაძე"}
    for key, native in names.items():
        person = make_user(native_name=native)
        enrolment = self_service.self_enrol(person, event_run)
        db.session.add(
            ParticipantDetails(
                enrolment_id=enrolment.id, passport_name=f"PERSON {key.upper()}",
                passport_number="AB1234567", nationality="GE",
            )
        )  # fmt: skip
        db.session.flush()
        for language in ("en", "ar"):
            pdf = letters.visa_letter_pdf(enrolment, language)
            text = " ".join(page.extract_text() for page in PdfReader(io.BytesIO(pdf)).pages)
            assert native in text or native.replace(" ", "") in text.replace(" ", ""), (key, language, text)


def test_who_may_see_and_edit(
    app: Flask,
    event_run: CourseRun,
    make_user: Callable[..., User],
    make_authority: Callable[..., Authority],
    make_trainer: Callable[..., User],
) -> None:
    home = make_authority("GE")
    focal = make_user(Role.FOCAL_POINT, authority=home)
    staff = make_user(authority=home)
    enrolment = self_service.self_enrol(staff, event_run)
    db.session.add(
        ParticipantDetails(
            enrolment_id=enrolment.id, passport_name="X Y", passport_number="AB123", nationality="GE",
            dietary_needs="halal", accessibility_needs="wheelchair",
        )
    )  # fmt: skip
    db.session.commit()
    other_trainee, other_focal = make_user(), make_user(Role.FOCAL_POINT)
    own_trainer = make_trainer(event_run.course)
    other_trainer = make_trainer(make_course(slug="elsewhere"))
    admin = make_user(Role.ADMIN)
    run_id, enrolment_id = event_run.id, enrolment.id
    pages = [
        f"/runs/{run_id}/event",
        f"/runs/{run_id}/event/participants/{enrolment_id}",
        f"/runs/{run_id}/event/letters/{enrolment_id}.pdf",
    ]
    for outsider in (other_trainee, other_focal, own_trainer, other_trainer):
        client = signed_in(app, outsider)
        for url in pages:
            assert client.get(url).status_code == 404, (outsider.email, url)
        assert client.post(pages[1], data=DETAILS).status_code == 404
        assert client.get(f"/runs/{run_id}/event/participants.csv").status_code == 403
    anonymous = app.test_client()
    for url in [*pages, f"/runs/{run_id}/event/participants.csv"]:
        assert anonymous.get(url).status_code == 302
    # the focal point of the staff member's authority: edits, gets the letter, never sees the needs
    client = signed_in(app, focal)
    listing = client.get(pages[0]).get_data(as_text=True)
    assert staff.family_name in listing and "halal" not in listing and "wheelchair" not in listing
    form = client.get(pages[1]).get_data(as_text=True)
    assert "halal" not in form and "wheelchair" not in form and "AB123" in form
    assert client.get(pages[2]).status_code == 200
    assert (
        client.post(pages[1], data={**DETAILS, "dietary_needs": "", "accessibility_needs": ""}).status_code
        == 302
    )
    db.session.rollback()
    kept = db.session.get(ParticipantDetails, enrolment_id)
    assert (
        kept.dietary_needs == "halal" and kept.passport_name == "NINO BERIDZE"
    )  # empty from a focal point: kept
    # the admin sees the needs and gets the venue's list
    client = signed_in(app, admin)
    listing = client.get(pages[0]).get_data(as_text=True)
    assert "halal" in listing and "wheelchair" in listing
    csv = client.get(f"/runs/{run_id}/event/participants.csv")
    assert csv.status_code == 200
    body = csv.data.decode("utf-8-sig")
    assert staff.family_name in body and "in person" in body and "halal" not in body and "AB123" not in body
    # odd ids and a run that is not international: 404, never 500
    plain = make_run(make_course(slug="plain"), EnrolmentMethod.OPEN)
    for url in (f"/runs/{plain.id}/event", "/runs/999999/event", f"/runs/{run_id}/event/participants/999999",
                f"/runs/{plain.id}/event/participants/{enrolment_id}", f"/runs/{run_id}/event/letters/0.pdf",
                "/runs/99999999999999999999/event", f"/runs/{plain.id}/event/participants.csv"):  # fmt: skip
        assert client.get(url).status_code == 404, url


def test_a_pending_nomination_may_enter_details_but_gets_no_letter(
    app: Flask, event_run: CourseRun, make_user: Callable[..., User]
) -> None:
    person = make_user()
    enrolment = create_place(event_run, person, EnrolmentStatus.NOMINATED, "nominated", None)
    db.session.commit()
    client = signed_in(app, person)
    url = f"/runs/{event_run.id}/event/participants/{enrolment.id}"
    assert client.post(url, data=DETAILS).status_code == 302
    response = client.get(f"/runs/{event_run.id}/event/letters/{enrolment.id}.pdf")
    assert response.status_code == 422 and "confirmed" in response.get_data(as_text=True)


# --- erasure ---------------------------------------------------------------------------------------


def with_details(run: CourseRun, make_user: Callable[..., User], count: int) -> list[int]:
    ids = []
    country("GE", "Georgia")
    for _ in range(count):
        enrolment = create_place(run, make_user(), EnrolmentStatus.ENROLLED, "enrolled", None)
        db.session.add(
            ParticipantDetails(
                enrolment_id=enrolment.id, attendance_mode="online", passport_name="A B",
                passport_number="AB123", nationality="GE", date_of_birth=date(1990, 1, 1),
                dietary_needs="none", accessibility_needs="none",
            )
        )  # fmt: skip
        ids.append(enrolment.id)
    db.session.commit()
    return ids


def test_erasure_day_boundary_idempotence_and_audit(
    app: Flask, event_run: CourseRun, make_user: Callable[..., User]
) -> None:
    event_run.ends_on = date(2027, 1, 14)
    event_run.personal_data_retention_days = 30
    ids = with_details(event_run, make_user, 2)
    other = make_run(make_course(slug="later"), EnrolmentMethod.OPEN, is_international=True,
                     ends_on=date(2027, 2, 1), personal_data_retention_days=30)  # fmt: skip
    later_ids = with_details(other, make_user, 1)
    last_kept_day = date(2027, 1, 14) + timedelta(days=30)
    assert erasure.erase_due(last_kept_day) == []  # the 30th day after the end: still kept
    db.session.commit()
    assert db.session.get(ParticipantDetails, ids[0]).passport_number == "AB123"
    assert erasure.erase_due(last_kept_day + timedelta(days=1)) == [erasure.RunErased(event_run.id, 2)]
    db.session.commit()
    for enrolment_id in ids:
        details = db.session.get(ParticipantDetails, enrolment_id)
        assert details.erased_at is not None and details.attendance_mode == "online"
        assert [details.passport_name, details.passport_number, details.nationality, details.date_of_birth,
                details.dietary_needs, details.accessibility_needs] == [None] * 6  # fmt: skip
    assert db.session.get(ParticipantDetails, later_ids[0]).passport_number == "AB123"  # not due yet
    assert erasure.erase_due(last_kept_day + timedelta(days=2)) == []  # idempotent
    db.session.commit()
    events = db.session.scalars(
        select(AuditRecord).where(AuditRecord.action == "participant.details_erased")
    ).all()
    assert [(e.subject_id, e.after["erased"]) for e in events] == [(str(event_run.id), 2)]
    # the participant cannot write data back into an erased record
    enrolment = db.session.get(Enrolment, ids[0])
    client = signed_in(app, enrolment.user)
    response = client.post(f"/runs/{event_run.id}/event/participants/{ids[0]}", data=DETAILS)
    assert response.status_code == 422 and "erased" in response.get_data(as_text=True)


def test_the_cli_command_erases(app: Flask, make_user: Callable[..., User]) -> None:
    run = make_run(
        make_course(), EnrolmentMethod.OPEN, is_international=True,
        starts_on=date(2020, 1, 1), ends_on=date(2020, 1, 3), personal_data_retention_days=10,
    )  # fmt: skip
    ids = with_details(run, make_user, 3)
    result = CliRunner().invoke(app.cli, ["lms", "sessions", "erase-personal-data"], catch_exceptions=False)
    assert "details of 3 participants erased" in result.output
    db.session.rollback()
    assert all(db.session.get(ParticipantDetails, i).erased_at is not None for i in ids)
    again = CliRunner().invoke(app.cli, ["lms", "sessions", "erase-personal-data"], catch_exceptions=False)
    assert "runs erased: 0" in again.output
