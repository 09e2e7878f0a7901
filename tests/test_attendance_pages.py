"""The attendance pages: who may keep a session's register (and who is refused), odd ids, the plain-form
roll call and its JSON twin, the certificate warning, the sign-in sheet PDF in three scripts, and the
scanned-sheet upload."""

from __future__ import annotations

import io
from collections.abc import Callable
from dataclasses import dataclass

import pytest
from flask import Flask
from pypdf import PdfReader
from sqlalchemy import func, select

from lms.audit.models import AuditRecord
from lms.auth.models import Role, User
from lms.certificates.models import Certificate
from lms.courses.models import Course
from lms.enrolment.models import CourseRun, Enrolment, EnrolmentStatus
from lms.extensions import db
from lms.sessions.models import Attendance, SignInSheetScan, TrainingSession
from tests.attendance_support import a_session, place, workshop
from tests.conftest import login

ARABIC, CYRILLIC, GEORGIAN = "فاطمة الزهراء", "Олена Коваленко", "ნინო ბერიძე"
PNG = b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR" + b"\x00" * 40
PDF_BYTES = b"%PDF-1.4\n%\xe2\xe3\xcf\xd3\n1 0 obj<<>>endobj\ntrailer<<>>\n%%EOF\n"


@dataclass
class Room:
    course: Course
    run: CourseRun
    session: TrainingSession
    enrolments: list[Enrolment]
    course_trainer: User
    session_trainer: User


@pytest.fixture
def room(app: Flask, make_user: Callable[..., User], make_trainer: Callable[..., User]) -> Room:
    course, run = workshop()
    session_trainer = make_user(Role.TRAINER)
    session = a_session(run, minutes=120, trainers=(session_trainer,))
    enrolments = [
        place(run, make_user(given_name="Fatima", family_name="Al-Zahra", native_name=ARABIC)),
        place(run, make_user(given_name="Olena", family_name="Kovalenko", native_name=CYRILLIC)),
        place(run, make_user(given_name="Nino", family_name="Beridze", native_name=GEORGIAN)),
    ]
    return Room(course, run, session, enrolments, make_trainer(course), session_trainer)


def client_as(app: Flask, user: User | None) -> object:
    client = app.test_client()
    if user is not None:
        login(client, user)
    return client


def register_urls(room: Room) -> list[tuple[str, str]]:
    s = room.session.id
    return [
        ("GET", f"/sessions/{s}/attendance"),
        ("POST", f"/sessions/{s}/attendance/save"),
        ("POST", f"/sessions/{s}/attendance/marks"),
        ("GET", f"/sessions/{s}/check-in-screen"),
        ("GET", f"/sessions/{s}/sign-in-sheet.pdf"),
        ("POST", f"/sessions/{s}/sign-in-sheets"),
    ]


def test_the_register_is_for_admins_and_the_sessions_and_courses_trainers(
    app: Flask, room: Room, make_user: Callable[..., User], fresh_user_per_request: None
) -> None:
    allowed = [make_user(Role.ADMIN), room.course_trainer, room.session_trainer]
    for person in allowed:
        client = client_as(app, person)
        for method, url in register_urls(room):
            if method == "GET":
                assert client.open(url, method=method).status_code == 200, (person.email, url)


def test_neighbours_are_refused(
    app: Flask,
    room: Room,
    make_user: Callable[..., User],
    make_trainer: Callable[..., User],
    fresh_user_per_request: None,
) -> None:
    other_course = Course(slug="other-course", title="Other")
    db.session.add(other_course)
    db.session.commit()
    trainee = room.enrolments[0].user
    focal_point = make_user(Role.FOCAL_POINT)  # another authority's focal point
    refused = {
        "other course's trainer": make_trainer(other_course),
        "trainee": trainee,
        "focal point": focal_point,
    }
    for who, person in refused.items():
        client = client_as(app, person)
        for method, url in register_urls(room):
            assert client.open(url, method=method).status_code == 403, (who, method, url)
    anonymous = app.test_client()
    for method, url in register_urls(room):
        response = anonymous.open(url, method=method)
        assert response.status_code == 302 and response.headers["Location"].startswith("/login"), url
    assert db.session.scalar(select(func.count()).select_from(Attendance)) == 0


def test_odd_ids_and_codes_answer_404_or_a_refusal(
    app: Flask, room: Room, make_user: Callable[..., User], fresh_user_per_request: None
) -> None:
    admin = client_as(app, make_user(Role.ADMIN))
    s = room.session.id
    for url in ("/sessions/999999/attendance", "/sessions/999999/check-in-screen",
                "/sessions/999999/sign-in-sheet.pdf", f"/sessions/{s}/sign-in-sheets/999999",
                "/sessions/99999999999999999999/attendance"):  # fmt: skip
        assert admin.get(url).status_code == 404, url
    assert admin.post("/sessions/999999/attendance/marks", json={"marks": []}).status_code == 404
    trainee = client_as(app, room.enrolments[0].user)
    assert trainee.get("/check-in/999999/abcdef").status_code == 404
    page = trainee.get(f"/check-in/{s}/" + "z" * 300)
    assert page.status_code == 200 and "expired" in page.get_data(as_text=True)
    first = room.enrolments[0].id
    for body in ({"marks": "x"}, {"marks": [{"enrolment_id": "x", "status": "present"}]},
                 {"marks": [{"enrolment_id": first, "status": "present", "taken_at": "soon"}]},
                 {"marks": [{"enrolment_id": first, "status": "late", "minutes": 9999}]}):  # fmt: skip
        response = admin.post(f"/sessions/{s}/attendance/marks", json=body)
        assert response.status_code in (404, 422), body
        assert response.get_json()["error"]
    assert db.session.scalar(select(func.count()).select_from(Attendance)) == 0


def test_the_plain_form_saves_the_roll_call(app: Flask, room: Room) -> None:
    client = client_as(app, room.course_trainer)
    one, two, three = room.enrolments
    response = client.post(
        f"/sessions/{room.session.id}/attendance/save",
        data={f"status-{one.id}": "present", f"status-{two.id}": "late", f"minutes-{two.id}": "45",
              f"status-{three.id}": ""},
        follow_redirects=True,
    )  # fmt: skip
    assert response.status_code == 200
    assert "Attendance saved: 2 changed." in response.get_data(as_text=True)
    rows = {row.enrolment_id: (row.status, row.minutes) for row in db.session.scalars(select(Attendance))}
    assert rows == {one.id: ("present", 120), two.id: ("late", 45)}
    refused = client.post(
        f"/sessions/{room.session.id}/attendance/save",
        data={f"status-{three.id}": "late"},
        follow_redirects=True,
    )
    assert "Give the minutes attended" in refused.get_data(as_text=True)
    assert db.session.scalar(select(func.count()).select_from(Attendance)) == 2


def test_editing_attendance_of_a_certified_participant_warns_and_revokes_nothing(
    app: Flask, room: Room
) -> None:
    room.run.completion_requires_lessons = False
    room.run.min_attendance_percent = 80
    db.session.commit()
    client = client_as(app, room.session_trainer)
    enrolment = room.enrolments[0]
    url = f"/sessions/{room.session.id}/attendance/marks"
    sent = client.post(url, json={"marks": [{"enrolment_id": enrolment.id, "status": "present"}]})
    assert sent.status_code == 200 and sent.get_json()["changed"] == [enrolment.id]
    db.session.expire_all()
    assert db.session.get(Enrolment, enrolment.id).status == EnrolmentStatus.COMPLETED
    assert db.session.scalar(select(func.count()).select_from(Certificate)) == 1
    again = client.post(url, json={"marks": [{"enrolment_id": enrolment.id, "status": "absent"}]})
    assert again.get_json()["warning"] == "certificate already issued; completion re-evaluated"
    form = client.post(
        f"/sessions/{room.session.id}/attendance/save",
        data={f"status-{enrolment.id}": "excused"},
        follow_redirects=True,
    )
    assert "certificate already issued; completion re-evaluated" in form.get_data(as_text=True)
    db.session.expire_all()
    certificate = db.session.scalar(select(Certificate))
    assert certificate is not None and certificate.status == "active"
    assert db.session.get(Enrolment, enrolment.id).status == EnrolmentStatus.COMPLETED


def test_the_sign_in_sheet_prints_names_in_three_scripts(app: Flask, room: Room) -> None:
    client = client_as(app, room.course_trainer)
    response = client.get(f"/sessions/{room.session.id}/sign-in-sheet.pdf")
    assert response.status_code == 200 and response.mimetype == "application/pdf"
    text = "".join(page.extract_text() for page in PdfReader(io.BytesIO(response.data)).pages)
    squashed = "".join(text.split())
    for name in (CYRILLIC, GEORGIAN, "Kovalenko", "Beridze", room.session.title):
        assert "".join(name.split()) in squashed, name
    # Arabic comes out of the PDF in presentation forms and visual order: compare its letters
    arabic_letters = {ch for ch in ARABIC if not ch.isspace()}
    assert arabic_letters <= {ch for ch in __import__("unicodedata").normalize("NFKC", text)}


def test_a_scan_is_kept_only_when_it_is_a_pdf_png_or_jpeg(app: Flask, room: Room) -> None:
    client = client_as(app, room.session_trainer)
    url = f"/sessions/{room.session.id}/sign-in-sheets"
    bad = client.post(
        url, data={"scan": (io.BytesIO(b"<svg onload=alert(1)>"), "sheet.pdf")}, follow_redirects=True
    )
    assert "is not a PDF, PNG or JPEG" in bad.get_data(as_text=True)
    assert db.session.scalar(select(func.count()).select_from(SignInSheetScan)) == 0
    for data, name in ((PDF_BYTES, "signed.pdf"), (PNG, "photo.png")):
        ok = client.post(url, data={"scan": (io.BytesIO(data), name)}, follow_redirects=True)
        assert "The scanned sheet is kept" in ok.get_data(as_text=True)
    scans = list(db.session.scalars(select(SignInSheetScan).order_by(SignInSheetScan.id)))
    assert [scan.content_type for scan in scans] == ["application/pdf", "image/png"]
    assert scans[0].stored_name != "signed.pdf" and scans[0].original_name == "signed.pdf"
    download = client.get(f"/sessions/{room.session.id}/sign-in-sheets/{scans[0].id}")
    assert download.status_code == 200 and download.data == PDF_BYTES
    download.close()  # send_file's open file
    audited = db.session.scalar(
        select(func.count()).select_from(AuditRecord).where(AuditRecord.action == "attendance.sheet_upload")
    )
    assert audited == 2
    page = client.get(f"/sessions/{room.session.id}/attendance").get_data(as_text=True)
    assert "signed.pdf" in page and "photo.png" in page


def test_a_scan_of_another_session_is_not_found(app: Flask, room: Room) -> None:
    other = a_session(room.run, minutes=60, trainers=(room.session_trainer,))
    client = client_as(app, room.session_trainer)
    client.post(
        f"/sessions/{room.session.id}/sign-in-sheets", data={"scan": (io.BytesIO(PDF_BYTES), "a.pdf")}
    )
    scan = db.session.scalar(select(SignInSheetScan))
    assert scan is not None
    assert client.get(f"/sessions/{other.id}/sign-in-sheets/{scan.id}").status_code == 404


def test_a_long_sheet_breaks_into_pages_each_with_the_header(
    app: Flask, room: Room, make_user: Callable[..., User]
) -> None:
    for n in range(45):
        place(room.run, make_user(given_name=f"Person{n:02d}", family_name="Long"))
    client = client_as(app, room.course_trainer)
    response = client.get(f"/sessions/{room.session.id}/sign-in-sheet.pdf")
    pages = PdfReader(io.BytesIO(response.data)).pages
    assert len(pages) >= 2
    assert all("Signature" in page.extract_text() for page in pages)
    text = "".join(page.extract_text() for page in pages)
    assert "Person00" in text and "Person44" in text
