"""Sign-in, account, security and course views in the unit of work (issue 19 item 1; lms/unit_of_work.py):
they never commit themselves, the writes that must outlive a 4xx answer go through one named function,
and a GET writes only through a named lazy write."""

from __future__ import annotations

import re
from pathlib import Path

from flask import Flask
from sqlalchemy import select

from lms.auth.models import Role
from lms.certificates.storage import PDF_FOLDER, instance_dir
from lms.extensions import db
from lms.ops import route_limits
from lms.security import gdpr
from lms.security.models import TwoFactorCredential
from tests.conftest import PROJECT_ROOT, login

VIEW_FILES = (
    "lms/auth/views.py",
    "lms/auth/account_views.py",
    "lms/security/views.py",
    "lms/courses/views.py",
)


def test_these_views_leave_the_transaction_to_the_unit_of_work() -> None:
    for name in VIEW_FILES:
        source = (PROJECT_ROOT / name).read_text(encoding="utf-8")
        assert not re.search(r"commit\(\)|rollback\(\)|except LmsError", source), name


def test_a_failed_registration_keeps_its_counted_attempt(app: Flask, make_user, make_authority) -> None:
    """The attempt counts even when the registration then fails (a 422, which the unit of work rolls
    back): the per-address count is Flask-Limiter's (lms.ops.route_limits), outside the transaction."""
    authority = make_authority()
    make_user(email="taken@dpsu.gov.ua", authority=authority)
    form = {"given_name": "A", "family_name": "B", "email": "taken@dpsu.gov.ua",
            "password": "a good long phrase", "confirm_password": "a good long phrase",
            "country": authority.country_code, "authority": str(authority.id)}  # fmt: skip
    assert app.test_client().post("/register", data=form).status_code == 422
    db.session.rollback()
    storage = route_limits.limiter(app).storage.storage  # type: ignore[attr-defined]  # MemoryStorage
    counted = [count for key, count in storage.items() if "/register/" in key]
    assert counted == [1]


def test_a_code_sent_before_the_set_up_page_stores_no_secret(app: Flask, make_user) -> None:
    """Only opening the set-up page stores a secret (its one lazy write); a code posted before that is
    sent back to the page instead of storing a secret nobody was shown."""
    admin = make_user(Role.ADMIN)
    client = app.test_client()
    login(client, admin)
    response = client.post("/account/two-factor", data={"code": "000000"})
    assert response.status_code == 302 and response.headers["Location"] == "/account/two-factor"
    db.session.rollback()
    assert db.session.get(TwoFactorCredential, admin.id) is None
    assert client.get("/account/two-factor").status_code == 200
    db.session.rollback()
    assert db.session.get(TwoFactorCredential, admin.id) is not None


def test_an_erased_persons_files_go_only_when_the_erase_commits(app: Flask) -> None:
    with app.test_request_context():
        folder = instance_dir() / PDF_FOLDER
        folder.mkdir(parents=True, exist_ok=True)
        kept, gone = Path(folder / "UOWKEPT1.pdf"), Path(folder / "UOWGONE1.pdf")
        kept.write_bytes(b"%PDF-1.7")
        gone.write_bytes(b"%PDF-1.7")
        try:
            db.session.execute(select(1))  # the erase's transaction
            gdpr.delete_certificate_files_after_commit([kept.name])
            assert kept.exists()  # nothing is deleted inside the transaction
            db.session.rollback()
            db.session.commit()
            assert kept.exists()  # a rolled-back erase leaves the files
            gdpr.delete_certificate_files_after_commit([gone.name])
            db.session.commit()
            assert not gone.exists()
        finally:
            kept.unlink(missing_ok=True)
            gone.unlink(missing_ok=True)
