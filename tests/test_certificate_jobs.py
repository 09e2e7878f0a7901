"""Certificates' side effects run after the commit (issue 18 item 9, issue 19 item 3).

An issue writes rows only; the PDF is rendered by a job once the issuing transaction has committed,
with no transaction open, so a learner's quiz submission never holds (or waits for) the database's
write lock while WeasyPrint works, and a rolled-back issue leaves no file behind.
"""

from __future__ import annotations

import hashlib
import sqlite3
from collections.abc import Callable
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
from flask import Flask, has_request_context
from flask.testing import FlaskClient
from sqlalchemy import select

from lms.auth.models import Role, User
from lms.certificates import pdf, rendering, services, signed_documents, storage
from lms.certificates.models import Certificate, IssueMethod
from lms.content.loader import load_course
from lms.content.services import sync_course
from lms.courses.models import Course, Lesson, Module
from lms.db import utcnow
from lms.enrolment import runs as enrolment_runs
from lms.enrolment.models import Enrolment, EnrolmentStatus
from lms.enrolment.runs import default_run
from lms.extensions import db
from lms.jobs import tasks
from tests.conftest import login
from tests.conftest_mail import job_queue
from tests.test_certificates import complete_course, tiny_course
from tests.test_quiz_attempts import QUIZ, right_answers, start, submit
from tests.test_quiz_loader import write_course

__all__ = ["tiny_course"]  # the fixture, shared with test_certificates


@pytest.fixture
def quiz_course(tmp_path: Path) -> Course:
    """A lesson and a final quiz; the run issues certificates automatically (the default)."""
    folder = write_course(tmp_path, QUIZ, slug="quiz-course")
    spec, problems = load_course(folder, tmp_path)
    assert not problems and spec is not None, problems
    course = sync_course(spec).course
    run = enrolment_runs.ensure_default_run(course)
    assert run.certificate_issuance == "automatic"
    db.session.commit()
    return course


class RenderSpy:
    """Stands in for WeasyPrint: records where each render ran, then renders for real. Also
    records, for the HTML built before it, whether another writer could have written meanwhile."""

    def __init__(self, app: Flask) -> None:
        self.app = app
        self.calls: list[dict[str, bool]] = []
        self.html_writer_waits: list[bool] = []
        self._real = pdf.html_to_pdf
        self._real_html = rendering._pdf_html

    def html(self, *args: Any) -> str:
        self.html_writer_waits.append(self._another_writer_would_wait())
        return self._real_html(*args)

    def __call__(self, html: str) -> bytes:
        self.calls.append(
            {
                "in_request": has_request_context(),
                # The job's own session (the job pushes its own app context): nothing open.
                "in_transaction": db.session().in_transaction(),
                "writer_waits": self._another_writer_would_wait(),
            }
        )
        return self._real(html)

    def _another_writer_would_wait(self) -> bool:
        """SQLite: can another connection take the write lock right now, without waiting?"""
        if db.engine.dialect.name != "sqlite":
            return False
        probe = sqlite3.connect(db.engine.url.database or "", timeout=0, isolation_level=None)
        try:
            probe.execute("BEGIN IMMEDIATE")
            probe.execute("ROLLBACK")
            return False
        except sqlite3.OperationalError:  # "database is locked"
            return True
        finally:
            probe.close()


@pytest.fixture
def render_spy(app: Flask, monkeypatch: pytest.MonkeyPatch) -> RenderSpy:
    spy = RenderSpy(app)
    monkeypatch.setattr("lms.certificates.pdf.html_to_pdf", spy)
    monkeypatch.setattr(rendering, "_pdf_html", spy.html)
    return spy


@pytest.fixture(autouse=True)
def _no_certificate_files_yet(app: Flask) -> None:
    """The instance folder lives for the whole session: start each test without earlier PDFs."""
    folder = Path(app.instance_path) / storage.PDF_FOLDER
    for path in folder.glob("*") if folder.exists() else []:
        path.unlink()


def pdf_files() -> list[str]:
    folder = storage.instance_dir() / storage.PDF_FOLDER
    return sorted(p.name for p in folder.glob("*.pdf")) if folder.exists() else []


def at_the_final_assessment(client: FlaskClient, trainee: User, quiz_course: Course) -> Any:
    """The trainee signed in, enrolled, with the lesson done: the final assessment's attempt just started
    (submitting it right completes the course)."""
    login(client, trainee)
    run = default_run(quiz_course.id)
    assert run is not None
    assert client.post(f"/runs/{run.id}/enrol").status_code == 302
    lesson = db.session.scalar(select(Lesson).join(Module).where(Module.course_id == quiz_course.id))
    assert lesson is not None
    client.post(f"/courses/{quiz_course.slug}/lessons/{lesson.id}/complete")
    return start(client, quiz_course)


def test_a_quiz_submission_that_completes_the_course_does_not_wait_for_weasyprint(
    app: Flask,
    client: FlaskClient,
    make_user: Callable[..., User],
    quiz_course: Course,
    render_spy: RenderSpy,
) -> None:
    trainee = make_user(Role.TRAINEE)
    attempt = at_the_final_assessment(client, trainee, quiz_course)
    with job_queue(app) as jobs:
        html = submit(client, attempt, right_answers(attempt)).get_data(as_text=True)
        assert "Passed." in html
        db.session.rollback()  # read what the request committed
        enrolment = db.session.scalar(select(Enrolment).where(Enrolment.user_id == trainee.id))
        assert enrolment is not None and enrolment.status == EnrolmentStatus.COMPLETED
        certificate = db.session.scalar(select(Certificate).where(Certificate.user_id == trainee.id))
        assert certificate is not None  # issued in the submission's transaction: rows only...
        assert render_spy.calls == []  # ...WeasyPrint did not run in the request
        assert certificate.pdf_sha256 == storage.PDF_PENDING and pdf_files() == []
        assert jobs.names() == ["render_certificate_pdfs", "deliver_mail"]  # after the commit, with the mail

        assert jobs.run() == 2  # what the worker does
    assert render_spy.calls == [{"in_request": False, "in_transaction": False, "writer_waits": False}]
    assert render_spy.html_writer_waits == [False]  # nor while its HTML was built
    db.session.refresh(certificate)
    data = storage.pdf_path(certificate).read_bytes()
    assert data.startswith(b"%PDF") and hashlib.sha256(data).hexdigest() == certificate.pdf_sha256
    assert pdf_files() == [certificate.pdf_file]


def test_an_issue_that_rolls_back_leaves_no_file(
    app: Flask, make_user: Callable[..., User], tiny_course: Course
) -> None:
    run = enrolment_runs.ensure_default_run(tiny_course)
    run.certificate_issuance = "approval"  # nothing issued on completion: the test issues itself
    db.session.commit()
    enrolment = complete_course(make_user(Role.TRAINEE), tiny_course, language="ru")  # two PDFs if kept
    with app.test_request_context(method="POST"):
        certificate = services.issue_for_enrolment(enrolment, actor_id=None, method=IssueMethod.APPROVED)
        code = certificate.code
        assert pdf_files() == []  # the issue wrote rows only
        db.session.rollback()  # e.g. a later step of the same request failed
        noted = rendering.take_pdfs_issued_in_request()
    # Even if the rolled-back id reached the job, and the sweep runs: no row, so no file.
    tasks.render_certificate_pdfs.call_local(noted)
    assert rendering.store_missing_pdfs(grace_seconds=0) == 0
    assert db.session.scalar(select(Certificate).where(Certificate.code == code)) is None
    assert pdf_files() == []


def test_a_download_before_the_job_renders_the_pdf_then_the_job_records_it(
    client: FlaskClient, make_user: Callable[..., User], tiny_course: Course, render_spy: RenderSpy
) -> None:
    """The holder may click "PDF" before any worker ran: the file is made then, outside any
    transaction, and the GET writes no row; the job later records that same file's digest."""
    trainee = make_user(Role.TRAINEE)
    complete_course(trainee, tiny_course, language="ru")
    certificate = db.session.scalar(select(Certificate).where(Certificate.user_id == trainee.id))
    assert certificate is not None and pdf_files() == []
    code, certificate_id = certificate.code, certificate.id
    login(client, trainee)
    with client.get(f"/certificates/{code}.pdf") as response:
        assert response.status_code == 200 and response.data.startswith(b"%PDF")
        served = response.data
    with client.get(f"/certificates/{code}/english.pdf") as english:
        assert english.status_code == 200 and english.data.startswith(b"%PDF")
    assert len(render_spy.calls) == 2  # the Russian certificate and its English companion, once each
    assert not any(call["in_transaction"] or call["writer_waits"] for call in render_spy.calls)
    db.session.rollback()  # a fresh snapshot
    assert db.session.get(Certificate, certificate_id).pdf_sha256 == storage.PDF_PENDING  # type: ignore[union-attr]

    assert tasks.render_certificate_pdfs.call_local([certificate_id]) == 1
    assert len(render_spy.calls) == 2  # nothing rendered twice
    db.session.rollback()  # read what the job committed
    stored = db.session.get(Certificate, certificate_id)
    assert stored is not None and stored.pdf_sha256 == hashlib.sha256(served).hexdigest()


def test_the_sweep_stores_the_pdf_of_a_certificate_whose_job_was_lost(
    make_user: Callable[..., User], tiny_course: Course
) -> None:
    trainee = make_user(Role.TRAINEE)
    complete_course(trainee, tiny_course)  # outside a request: no job was enqueued at all
    certificate = db.session.scalar(select(Certificate).where(Certificate.user_id == trainee.id))
    assert certificate is not None and pdf_files() == []
    tasks.store_missing_certificate_pdfs_every_minute.call_local()
    assert pdf_files() == []  # within its first minute a certificate is left to its own job
    certificate.issued_at = utcnow() - timedelta(minutes=2)
    db.session.commit()
    tasks.store_missing_certificate_pdfs_every_minute.call_local()
    db.session.rollback()
    assert pdf_files() == [certificate.pdf_file] and certificate.pdf_sha256 != storage.PDF_PENDING


def test_the_status_list_is_signed_once_per_change(
    app: Flask,
    client: FlaskClient,
    make_user: Callable[..., User],
    tiny_course: Course,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    trainee = make_user(Role.TRAINEE)
    complete_course(trainee, tiny_course)
    certificate = db.session.scalar(select(Certificate).where(Certificate.user_id == trainee.id))
    assert certificate is not None
    signed: list[Any] = []
    real_sign = signed_documents.sign_document

    def counting_sign(document: dict[str, Any], created: Any = None) -> dict[str, Any]:
        signed.append(document["type"])
        return real_sign(document, created)

    monkeypatch.setattr(signed_documents, "sign_document", counting_sign)
    signed_documents._signed_status_list.clear()
    first = client.get(signed_documents.STATUS_LIST_PATH).get_json(force=True)
    assert client.get(signed_documents.STATUS_LIST_PATH).get_json(force=True) == first
    assert len(signed) == 1  # the second request reused the signature

    services.revoke(certificate, make_user(Role.ADMIN).id, "Issued by mistake", show_reason_publicly=False)
    db.session.commit()
    revoked = client.get(signed_documents.STATUS_LIST_PATH).get_json(force=True)
    assert len(signed) == 2 and revoked != first  # a revocation shows at once
    assert revoked["credentialSubject"]["encodedList"] != first["credentialSubject"]["encodedList"]


def test_an_unknown_bulk_issue_is_not_found(client: FlaskClient, make_user: Callable[..., User]) -> None:
    login(client, make_user(Role.ADMIN))
    for batch in ("1", "999999", str(2**63), "99999999999999999999999"):
        assert client.get(f"/admin/certificates/bulk/{batch}").status_code == 404, batch
