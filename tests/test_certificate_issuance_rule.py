"""The admin course-run form sets a run's certificate issuance rule (issue 5): automatic or on approval."""

from __future__ import annotations

import html
from collections.abc import Callable
from typing import Any

import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import func, select

from lms.audit.models import AuditRecord
from lms.auth.models import Role, User
from lms.certificates import services as certificate_services
from lms.certificates.models import Certificate
from lms.courses.models import Course
from lms.enrolment import completion as enrolment_completion
from lms.enrolment import runs as enrolment_runs
from lms.enrolment import self_service as enrolment_self_service
from lms.enrolment.models import CertificateIssuance, CourseRun, EnrolmentMethod
from lms.errors import ValidationFailed
from lms.extensions import db
from tests.conftest import login
from tests.enrolment_support import make_course

ISSUANCE_SET = "course_run.certificate_issuance_set"
REFUSED = "Choose how certificates are issued: automatically on completion or on approval."


@pytest.fixture
def course(app: Flask) -> Course:
    return make_course()


@pytest.fixture
def admin_client(client: FlaskClient, make_user: Callable[..., User]) -> FlaskClient:
    login(client, make_user(Role.ADMIN))
    return client


def run_form(course: Course, title: str, **overrides: Any) -> dict[str, Any]:
    data: dict[str, Any] = {
        "course": str(course.id),
        "title": title,
        "modality": "self_paced",
        "language": "en",
        "enrolment_method": EnrolmentMethod.OPEN.value,
        "open_to_all": "y",
    }
    data.update(overrides)
    return data


def run_titled(title: str) -> CourseRun:
    db.session.rollback()  # see what the request committed
    run = db.session.scalar(select(CourseRun).where(CourseRun.title == title))
    assert run is not None
    return run


def test_the_run_form_offers_both_rules_with_what_each_does(
    admin_client: FlaskClient, course: Course
) -> None:
    page = html.unescape(admin_client.get("/admin/course-runs/new").get_data(as_text=True))
    assert 'name="certificate_issuance"' in page
    assert '<option selected value="automatic">' in page  # a new run issues automatically
    assert 'value="approval"' in page
    assert "Automatically, on completion" in page and "On an administrator's approval" in page
    assert "the moment they complete the run" in page and "until an administrator issues theirs" in page


def test_creating_and_editing_a_run_sets_its_rule_and_the_admin_page_shows_it(
    admin_client: FlaskClient, course: Course, make_user: Callable[..., User]
) -> None:
    response = admin_client.post(
        "/admin/course-runs/new", data=run_form(course, "Approval run", certificate_issuance="approval")
    )
    assert response.status_code == 302, response.get_data(as_text=True)
    run = run_titled("Approval run")
    assert run.certificate_issuance == CertificateIssuance.APPROVAL
    created = db.session.scalar(select(AuditRecord).where(AuditRecord.action == ISSUANCE_SET))
    assert created is not None and created.after == {"certificate_issuance": "approval"}

    page = html.unescape(admin_client.get(f"/admin/course-runs/{run.id}").get_data(as_text=True))
    assert 'data-certificate-issuance="approval"' in page
    assert "On an administrator's approval" in page and "/admin/certificates/pending" in page
    edit = admin_client.get(f"/admin/course-runs/{run.id}/edit").get_data(as_text=True)
    assert '<option selected value="approval">' in edit  # the form shows the stored rule

    # The rule takes effect: completing the run issues nothing, the person waits for an admin.
    trainee = make_user(Role.TRAINEE)
    enrolment = enrolment_self_service.self_enrol(trainee, db.session.get(CourseRun, run.id), language="en")
    for lesson in course.modules[0].lessons:
        enrolment_completion.complete_lesson(enrolment, lesson)
    db.session.commit()
    assert db.session.scalar(select(func.count()).select_from(Certificate)) == 0

    response = admin_client.post(
        f"/admin/course-runs/{run.id}/edit",
        data=run_form(course, "Approval run", certificate_issuance="automatic"),
    )
    assert response.status_code == 302, response.get_data(as_text=True)
    assert run_titled("Approval run").certificate_issuance == CertificateIssuance.AUTOMATIC
    updated = db.session.scalars(
        select(AuditRecord).where(AuditRecord.action == ISSUANCE_SET).order_by(AuditRecord.id.desc())
    ).first()
    assert updated is not None and updated.actor_id == created.actor_id
    assert (updated.before, updated.after) == (
        {"certificate_issuance": "approval"},
        {"certificate_issuance": "automatic"},
    )
    page = admin_client.get(f"/admin/course-runs/{run.id}").get_data(as_text=True)
    assert 'data-certificate-issuance="automatic"' in page and "Automatically, on completion" in page


def test_an_edit_that_leaves_the_field_out_keeps_the_rule(admin_client: FlaskClient, course: Course) -> None:
    admin_client.post(
        "/admin/course-runs/new", data=run_form(course, "Kept run", certificate_issuance="approval")
    )
    run_id = run_titled("Kept run").id
    response = admin_client.post(f"/admin/course-runs/{run_id}/edit", data=run_form(course, "Kept run"))
    assert response.status_code == 302
    assert run_titled("Kept run").certificate_issuance == CertificateIssuance.APPROVAL


@pytest.mark.parametrize("tampered", ["manual", "", "AUTOMATIC", "approval "])
def test_a_tampered_rule_is_refused_clearly_and_changes_nothing(
    admin_client: FlaskClient, course: Course, tampered: str
) -> None:
    refused = admin_client.post(
        "/admin/course-runs/new", data=run_form(course, "Tampered run", certificate_issuance=tampered)
    )
    assert refused.status_code == 422
    assert REFUSED in refused.get_data(as_text=True)
    db.session.rollback()
    assert db.session.scalar(select(CourseRun).where(CourseRun.title == "Tampered run")) is None

    admin_client.post(
        "/admin/course-runs/new", data=run_form(course, "Honest run", certificate_issuance="approval")
    )
    run_id = run_titled("Honest run").id
    audit_count = db.session.scalar(select(func.count()).select_from(AuditRecord))
    refused = admin_client.post(
        f"/admin/course-runs/{run_id}/edit",
        data=run_form(course, "Renamed run", certificate_issuance=tampered),
    )
    assert refused.status_code == 422
    assert REFUSED in refused.get_data(as_text=True)
    run = run_titled("Honest run")  # neither the rule nor any other field changed
    assert run.certificate_issuance == CertificateIssuance.APPROVAL
    assert db.session.scalar(select(func.count()).select_from(AuditRecord)) == audit_count


def test_the_service_refuses_an_unknown_rule_from_any_caller(
    app: Flask, course: Course, make_user: Callable[..., User]
) -> None:
    admin = make_user(Role.ADMIN)
    run = enrolment_runs.ensure_default_run(course)
    db.session.commit()
    with pytest.raises(ValidationFailed) as refused:
        certificate_services.set_issuance_rule(run, "sometimes", admin.id)
    assert refused.value.message == REFUSED
    assert run.certificate_issuance == CertificateIssuance.AUTOMATIC
    assert certificate_services.set_issuance_rule(run, "automatic", admin.id) is False  # no change, no record
    assert certificate_services.set_issuance_rule(run, "approval", admin.id) is True
    db.session.commit()
    records = db.session.scalars(select(AuditRecord).where(AuditRecord.action == ISSUANCE_SET)).all()
    assert [(r.before, r.after, r.actor_id) for r in records] == [
        ({"certificate_issuance": "automatic"}, {"certificate_issuance": "approval"}, admin.id)
    ]
