"""Certificate pages under the unit of work (issue 19 item 1): a refusal rolls back and answers where the
view says; the public verify count is the GET's one named write and is kept whatever the page answers."""

from __future__ import annotations

import secrets

from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import func, select

from lms.audit.models import AuditRecord
from lms.auth.models import User
from lms.certificates import codes
from lms.certificates.models import Certificate, CertificateStatus
from lms.courses.models import Course
from lms.enrolment import runs as enrolment_runs
from lms.extensions import db
from tests.conftest import login
from tests.test_certificates import (  # noqa: F401  # fixtures
    _generous_rate_limit,
    admin,
    issued,
    tiny_course,
    trainee,
)


def test_revoking_twice_goes_back_to_the_certificate_with_the_refusal_and_changes_nothing(
    client: FlaskClient,
    issued: Certificate,  # noqa: F811
    admin: User,  # noqa: F811
) -> None:
    login(client, admin)
    first = client.post(f"/admin/certificates/{issued.code}/revoke", data={"reason": "Fraud."})
    assert first.status_code == 302
    again = client.post(f"/admin/certificates/{issued.code}/revoke", data={"reason": "Again."})
    assert again.status_code == 302
    assert again.headers["Location"].endswith(f"/admin/certificates/{issued.code}")
    page = client.get(again.headers["Location"]).get_data(as_text=True)
    assert "This certificate is already revoked." in page
    db.session.rollback()  # the requests share this session: only what they committed is left
    stored = db.session.get(Certificate, issued.id)
    assert stored is not None and stored.status == CertificateStatus.REVOKED
    assert stored.revocation_reason == "Fraud."
    revocations = select(func.count(AuditRecord.id)).where(AuditRecord.action == "certificate.revoked")
    assert db.session.scalar(revocations) == 1


def test_a_refused_manual_issue_shows_the_form_again_with_what_was_typed(
    client: FlaskClient,
    admin: User,  # noqa: F811
    tiny_course: Course,  # noqa: F811
) -> None:
    run = enrolment_runs.ensure_default_run(tiny_course)
    db.session.commit()
    login(client, admin)
    reason = "Completed the in-person run in Chisinau"
    response = client.post(
        "/admin/certificates/issue", data={"email": "nobody@agency.test", "run": run.id, "reason": reason}
    )
    assert response.status_code == 422
    page = response.get_data(as_text=True)
    assert "No account has this email address." in page and reason in page
    db.session.rollback()
    assert db.session.scalar(select(Certificate)) is None


def test_an_unknown_code_still_counts_against_the_verify_limit(app: Flask) -> None:
    """The count is committed by the service before the 404: the unit of work rolls an error answer back."""
    app.config["CERTIFICATE_VERIFY_LIMIT"] = 2
    client = app.test_client()
    env = {"REMOTE_ADDR": f"10.{secrets.randbelow(250)}.{secrets.randbelow(250)}.{secrets.randbelow(250)}"}
    statuses = [client.get(f"/verify/{codes.new_code()}", environ_base=env).status_code for _ in range(3)]
    assert statuses == [404, 404, 429]
