"""Browser protections, request limits, error pages, authentication hardening, audit and GDPR (issue 9)."""

from __future__ import annotations

import difflib
import json
import re
import time
from collections.abc import Callable
from pathlib import Path

import pyotp
import pytest
from flask import Flask
from sqlalchemy import func, select

from lms.audit.models import AuditRecord
from lms.auth import password_policy
from lms.auth.models import Role, User
from lms.extensions import db
from lms.notifications.models import OutgoingMail
from lms.security import totp
from lms.security.models import TwoFactorCredential
from tests.conftest import PROJECT_ROOT, TEST_PASSWORD, login

TEMPLATES = PROJECT_ROOT / "templates"


pytestmark = pytest.mark.usefixtures("fresh_user_per_request")


def audit_actions() -> list[str]:
    db.session.rollback()
    return list(db.session.scalars(select(AuditRecord.action).order_by(AuditRecord.id)))


# --- browser protections ------------------------------------------------------------------------


def test_every_response_carries_the_browser_protections(client) -> None:
    for path in ("/", "/login", "/no-such-page", "/static/css/app.css"):
        response = client.get(path)
        response.close()
        csp = response.headers["Content-Security-Policy"]
        assert "script-src 'self'" in csp and "unsafe-inline" not in csp
        assert "frame-ancestors 'none'" in csp
        assert response.headers["X-Content-Type-Options"] == "nosniff"
        assert response.headers["X-Frame-Options"] == "DENY"
        assert response.headers["Referrer-Policy"] == "strict-origin-when-cross-origin"


def test_no_template_has_inline_script_or_style_attributes() -> None:
    """The CSP allows only files: an inline <script>, on*= handler or style= would be blocked."""
    problems = []
    for path in TEMPLATES.rglob("*.html"):
        if path.name == "pdf.html" or path.name.endswith(
            "_pdf.html"
        ):  # WeasyPrint PDFs, never served as pages
            continue
        source = path.read_text()
        for match in re.finditer(r"<script\b[^>]*>", source):
            if "src=" not in match.group(0):
                problems.append(f"{path}: inline script")
        if re.search(r"\son[a-z]+\s*=", source):
            problems.append(f"{path}: event handler attribute")
        if re.search(r"\sstyle\s*=", source) or "<style" in source:
            problems.append(f"{path}: inline style")
    assert problems == []


def test_session_cookie_flags_and_secure_over_https(
    app: Flask, tmp_path: Path, make_user, make_app: Callable[..., Flask]
) -> None:
    user = make_user()
    client = app.test_client()
    response = client.post("/login", data={"email": user.email, "password": TEST_PASSWORD})
    cookie = response.headers["Set-Cookie"]
    assert "HttpOnly" in cookie and "SameSite=Lax" in cookie
    db.session.rollback()  # end this session's transaction before another app writes
    https = make_app(
        TESTING=True,
        INSTANCE_PATH=str(tmp_path),
        SECRET_KEY="x",
        PREFERRED_URL_SCHEME="https",
        WTF_CSRF_ENABLED=False,
    )
    assert https.config["SESSION_COOKIE_SECURE"] is True
    secure = https.test_client().post(
        "/login", data={"email": user.email, "password": TEST_PASSWORD}, base_url="https://localhost"
    )
    assert "Secure" in secure.headers["Set-Cookie"]
    assert "max-age" in secure.headers["Strict-Transport-Security"]


# --- input --------------------------------------------------------------------------------------


def test_a_ten_megabyte_field_gets_413_not_a_crash(client, make_user) -> None:
    login(client, make_user())
    big = "x" * (10 * 1024 * 1024)
    response = client.post("/account", data={"given_name": big, "family_name": "F"})
    assert response.status_code == 413
    assert "too large" in response.get_data(as_text=True)
    body = (
        b'--B\r\nContent-Disposition: form-data; name="given_name"\r\n\r\n' + big.encode() + b"\r\n--B--\r\n"
    )
    multipart = client.post("/account", data=body, content_type="multipart/form-data; boundary=B")
    assert multipart.status_code == 413


@pytest.mark.parametrize("path", ["/?q=%ff%fe", "/?q=a%00b", "/runs?x=%c3%28"])
def test_invalid_utf8_and_nul_in_the_query_are_refused(client, path: str) -> None:
    response = client.get(path)
    assert response.status_code == 400
    assert "Traceback" not in response.get_data(as_text=True)


def test_invalid_utf8_and_nul_in_a_form_are_refused(client, make_user) -> None:
    user = make_user(given_name="Kept")
    login(client, user)
    for body in (
        b"given_name=%ff%fe&family_name=F",
        b"given_name=a%00b&family_name=F",
        b"given_name=\xff&family_name=F",
    ):
        response = client.post("/account", data=body, content_type="application/x-www-form-urlencoded")
        assert response.status_code == 400
    db.session.refresh(user)
    assert user.given_name == "Kept"


def test_open_redirects_are_refused(client, make_user) -> None:
    user = make_user()
    for target in (
        "https://evil.example/",
        "//evil.example/x",
        "/\\evil.example",
        "javascript:alert(1)",
        "http:/x",
    ):
        response = client.post(f"/login?next={target}", data={"email": user.email, "password": TEST_PASSWORD})
        assert response.headers["Location"] == "/dashboard", target
        client.post("/logout")
    response = client.post("/login?next=/certificates", data={"email": user.email, "password": TEST_PASSWORD})
    assert response.headers["Location"] == "/certificates"
    language = client.post("/language", data={"language": "fr", "next": "https://evil.example/"})
    assert language.headers["Location"] == "/"


# --- errors -------------------------------------------------------------------------------------


def test_production_error_page_shows_a_request_id_and_no_internals(
    app: Flask, tmp_path: Path, caplog, make_app: Callable[..., Flask]
) -> None:
    production = make_app(INSTANCE_PATH=str(tmp_path), SECRET_KEY="x", LOG_REQUESTS=False)

    def broken() -> str:
        raise RuntimeError("SELECT secret FROM user -- internal detail")

    production.add_url_rule("/broken", "broken", broken)
    production.view_functions["broken"].lms_access = frozenset({"public"})  # type: ignore[attr-defined]
    db.session.rollback()
    with caplog.at_level("ERROR"):
        response = production.test_client().get("/broken", headers={"X-Request-ID": "req-12345678"})
    body = response.get_data(as_text=True)
    assert response.status_code == 500
    assert "req-12345678" in body
    assert "SELECT" not in body and "Traceback" not in body and "RuntimeError" not in body
    assert any("req-12345678" in record.getMessage() for record in caplog.records)


# --- passwords ----------------------------------------------------------------------------------


def test_password_policy_refuses_short_common_and_personal_passwords() -> None:
    assert password_policy.password_problems("short") == ["too_short"]
    assert "common" in password_policy.password_problems("password123")
    assert "common" in password_policy.password_problems("Qwertyuiop")
    assert "personal" in password_policy.password_problems(
        "olena.koval", personal=("olena.koval@agency.test",)
    )
    assert password_policy.password_problems("correct horse battery") == []
    assert len(password_policy.common_passwords()) > 10_000


def test_changing_the_password_checks_the_policy_and_ends_other_sessions(app: Flask, make_user) -> None:
    user = make_user()
    first, second = app.test_client(), app.test_client()
    login(first, user)
    login(second, user)
    weak = first.post(
        "/account/password",
        data={
            "current_password": TEST_PASSWORD,
            "new_password": "password1234",
            "confirm_password": "password1234",
        },
    )
    assert weak.status_code == 422
    changed = first.post(
        "/account/password",
        data={"current_password": TEST_PASSWORD, "new_password": "a much better phrase",
              "confirm_password": "a much better phrase"},
    )  # fmt: skip
    assert changed.status_code == 302
    assert first.get("/account").status_code == 200  # this session goes on
    assert second.get("/account").status_code == 302  # the other one is signed out


def test_login_renews_the_session(client, make_user) -> None:
    user = make_user()
    with client.session_transaction() as session:
        session["planted"] = "fixation"
    login(client, user)
    with client.session_transaction() as session:
        assert "planted" not in session
        assert session["_pw"]


# --- rate limits and enumeration ----------------------------------------------------------------


# Per account and address, the growing delay and the right password from another address:
# tests/test_auth_sign_in_limits.py (issue 18).


def test_sign_in_is_limited_per_address(app: Flask, make_user) -> None:
    app.config["LOGIN_LIMIT_PER_IP"] = 5
    try:
        client = app.test_client()
        for n in range(5):
            client.post("/login", data={"email": f"p{n}@agency.test", "password": "wrong!!!!!!"})
        user = make_user()
        assert client.post("/login", data={"email": user.email, "password": TEST_PASSWORD}).status_code == 429
    finally:
        app.config.pop("LOGIN_LIMIT_PER_IP")


def test_sign_in_and_reset_answer_alike_for_known_and_unknown_addresses(
    app: Flask, make_user, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Same status, same page, same work. The work is counted, not timed (timings on a shared machine
    prove nothing): every sign-in verifies one argon2 hash, a dummy one for an unknown address, and a
    reset request only queues its mail (the job sends it after the commit), so neither answer waits on
    something the other does not do."""
    from lms.auth import passwords

    user = make_user(email="known@agency.test")
    client = app.test_client()
    verified: list[str] = []
    real_hasher = passwords._hasher

    class CountingHasher:  # argon2's PasswordHasher has slots: wrap it instead of patching it
        def verify(self, password_hash: str, password: str) -> bool:
            verified.append(password_hash)
            return real_hasher.verify(password_hash, password)

        def __getattr__(self, name: str) -> object:
            return getattr(real_hasher, name)

    monkeypatch.setattr(passwords, "_hasher", CountingHasher())

    def answer(email: str, path: str, data: dict[str, str]) -> tuple[int, str]:
        response = client.post(path, data={"email": email, **data}, follow_redirects=True)
        body = re.sub(
            r'name="csrf_token" value="[^"]+"', "", response.get_data(as_text=True).replace(email, "EMAIL")
        )
        return response.status_code, body

    known = [answer(user.email, "/login", {"password": "wrong!!!!!!"}) for _ in range(4)]
    known_hashes, verified[:] = list(verified), []
    unknown = [answer("unknown@agency.test", "/login", {"password": "wrong!!!!!!"}) for _ in range(4)]
    unknown_hashes = list(verified)
    assert {k[0] for k in known} == {u[0] for u in unknown} == {401}
    assert known[-1][1] == unknown[-1][1], "\n".join(
        difflib.unified_diff(known[-1][1].splitlines(), unknown[-1][1].splitlines(), lineterm="")
    )
    assert len(known_hashes) == len(unknown_hashes) == 4
    assert {h.split("$")[1:4] == unknown_hashes[0].split("$")[1:4] for h in known_hashes} == {True}
    reset_known = answer(user.email, "/forgot-password", {})
    reset_unknown = answer("unknown2@agency.test", "/forgot-password", {})
    assert reset_known == reset_unknown, "\n".join(
        difflib.unified_diff(reset_known[1].splitlines(), reset_unknown[1].splitlines(), lineterm="")
    )
    queued = db.session.scalars(select(OutgoingMail).where(OutgoingMail.recipient == user.email)).all()
    assert [mail.sent_at for mail in queued] == [None]  # the request did not talk to the mail server


def test_registration_probing_is_rate_limited_per_address(app: Flask, make_user, make_authority) -> None:
    app.config["REGISTRATION_LIMIT_PER_IP"] = 3
    try:
        authority = make_authority()
        make_user(email="taken@dpsu.gov.ua", authority=authority)
        client = app.test_client()
        form = {"given_name": "A", "family_name": "B", "email": "taken@dpsu.gov.ua",
                "password": "a good long phrase",
                "confirm_password": "a good long phrase", "country": authority.country_code,
                "authority": str(authority.id)}  # fmt: skip
        responses = [client.post("/register", data=form) for _ in range(5)]
        statuses = [response.status_code for response in responses]
        assert statuses[:3] == [422, 422, 422]  # "already exists": registration must say so...
        assert statuses[3:] == [429, 429]  # ...so probing it is throttled per address
        assert all(int(response.headers["Retry-After"]) > 0 for response in responses[3:])
    finally:
        app.config.pop("REGISTRATION_LIMIT_PER_IP")


# --- password reset -----------------------------------------------------------------------------


def _reset_link() -> str:
    db.session.rollback()
    mail = db.session.scalar(
        select(OutgoingMail).where(OutgoingMail.kind == "password_reset").order_by(OutgoingMail.id.desc())
    )
    assert mail is not None
    match = re.search(r"(/reset-password/[A-Za-z0-9_-]+)", mail.body)
    assert match is not None
    return match.group(1)


def test_password_reset_is_mailed_single_use_and_ends_sessions(app: Flask, make_user) -> None:
    user = make_user()
    signed_in = app.test_client()
    login(signed_in, user)
    client = app.test_client()
    assert client.post("/forgot-password", data={"email": user.email}).status_code == 302
    link = _reset_link()
    assert client.get(link).status_code == 200
    weak = client.post(link, data={"new_password": "password1234", "confirm_password": "password1234"})
    assert weak.status_code == 422
    done = client.post(
        link, data={"new_password": "a fresh reset phrase", "confirm_password": "a fresh reset phrase"}
    )
    assert done.status_code == 302
    again = client.post(
        link, data={"new_password": "another reset phrase", "confirm_password": "another reset phrase"}
    )
    assert again.status_code == 422  # single use
    assert client.get(link).status_code == 410
    assert signed_in.get("/account").status_code == 302  # the old session ended
    login(app.test_client(), user, "a fresh reset phrase")
    assert "auth.password_reset" in audit_actions()


def test_an_expired_reset_link_does_nothing(app: Flask, make_user) -> None:
    user = make_user()
    app.config["PASSWORD_RESET_HOURS"] = -1
    try:
        app.test_client().post("/forgot-password", data={"email": user.email})
    finally:
        app.config.pop("PASSWORD_RESET_HOURS")
    link = _reset_link()
    response = app.test_client().post(
        link, data={"new_password": "a fresh reset phrase", "confirm_password": "a fresh reset phrase"}
    )
    assert response.status_code == 422
    login(app.test_client(), user)  # the old password still works


# --- two-factor ---------------------------------------------------------------------------------


def test_totp_matches_the_rfc_6238_vectors() -> None:
    # RFC 6238's SHA-1 key "12345678901234567890" in base32, the form the secret is stored in (as
    # every secret enrolled before pyotp was); a six-digit code is the last six of the RFC's eight.
    secret = "GEZDGNBVGY3TQOJQGEZDGNBVGY3TQOJQ"
    for at, expected in ((59, "94287082"), (1111111109, "07081804"), (2000000000, "69279037")):
        assert totp.code_at(secret, at) == expected[-6:]
        assert totp.matching_step(secret, expected[-6:], at=at) == at // 30
    assert totp.matching_step(secret.lower(), "287082", at=59) == 1  # stored case does not matter
    fresh = totp.new_secret()
    assert len(fresh) == 32 and fresh.isalnum() and fresh.isupper()  # base32, 160 bits, no padding
    assert totp.matching_step(fresh, totp.code_at(fresh, 1000.0), at=1000.0) == 1000 // 30


def test_totp_allows_one_step_of_drift_and_reads_typed_codes() -> None:
    secret = totp.new_secret()
    code = totp.code_at(secret, 1000.0)  # step 33
    assert totp.matching_step(secret, code, at=1000.0 - 30) == 33  # the device's clock is ahead
    assert totp.matching_step(secret, code, at=1000.0 + 30) == 33  # or behind
    assert totp.matching_step(secret, code, at=1000.0 + 60) is None  # two steps: too far
    assert totp.matching_step(secret, f" {code[:3]} {code[3:]} ", at=1000.0) == 33
    # An Arabic keyboard types Arabic-Indic digits; they are read as the same code.
    arabic = code.translate(str.maketrans("0123456789", "٠١٢٣٤٥٦٧٨٩"))
    assert totp.matching_step(secret, arabic, at=1000.0) == 33
    # Not six decimal digits: refused, never an error ("²" is a digit but no decimal).
    for odd in ("000000x", "²²²²²²", code[:5], code + "0", "", "\x00" * 6):
        assert totp.matching_step(secret, odd, at=1000.0) is None


def test_totp_provisioning_uri_is_read_back_by_authenticator_apps() -> None:
    secret = totp.new_secret()
    uri = totp.provisioning_uri(secret, "olena.koval+1@example.org", "Academy: Kyiv & Lviv")
    assert uri.startswith("otpauth://totp/")
    parsed = pyotp.parse_uri(uri)
    assert isinstance(parsed, pyotp.TOTP)
    assert (parsed.secret, parsed.name, parsed.issuer) == (
        secret,
        "olena.koval+1@example.org",
        "Academy: Kyiv & Lviv",
    )
    assert (parsed.digits, parsed.interval, parsed.digest().name) == (6, 30, "sha1")
    assert parsed.at(1000.0) == totp.code_at(secret, 1000.0)


def test_two_factor_enrolment_and_sign_in(app: Flask, make_user) -> None:
    admin = make_user(Role.ADMIN)
    client = app.test_client()
    login(client, admin)
    page = client.get("/account/two-factor")
    assert page.status_code == 200 and "data:image/svg+xml" in page.get_data(as_text=True)
    db.session.rollback()
    credential = db.session.get(TwoFactorCredential, admin.id)
    assert credential is not None
    secret = credential.secret
    assert client.post("/account/two-factor", data={"code": "000000"}).status_code == 422
    previous = totp.code_at(secret, time.time() - 30)
    assert client.post("/account/two-factor", data={"code": previous}).status_code == 302
    client.post("/logout")
    # sign-in now stops after the password
    response = client.post("/login", data={"email": admin.email, "password": TEST_PASSWORD})
    assert response.headers["Location"] == "/login/two-factor"
    assert client.get("/admin/people").status_code == 302  # not signed in yet
    assert client.post("/login/two-factor", data={"code": previous}).status_code == 401  # replay refused
    assert client.post("/login/two-factor", data={"code": "²²²²²²"}).status_code == 401  # not a 500
    code = totp.code_at(secret)
    assert client.post("/login/two-factor", data={"code": code}).status_code == 302
    assert client.get("/admin/people").status_code == 200
    actions = audit_actions()
    assert "auth.two_factor_enabled" in actions and actions[-1] == "auth.sign_in"


def test_two_factor_is_offered_only_to_admins_and_focal_points(app: Flask, make_user) -> None:
    client = app.test_client()
    login(client, make_user(Role.TRAINEE))
    assert client.get("/account/two-factor").status_code == 403


# --- audit --------------------------------------------------------------------------------------


def test_sign_ins_and_failures_are_audited_and_visible_to_admins(app: Flask, make_user) -> None:
    user = make_user()
    admin = make_user(Role.ADMIN)
    app.test_client().post("/login", data={"email": user.email, "password": "wrong!!!!!!"})
    login(app.test_client(), user)
    actions = audit_actions()
    assert "auth.sign_in_failed" in actions and "auth.sign_in" in actions
    client = app.test_client()
    login(client, admin)
    assert "auth.sign_in_failed" in client.get("/admin/audit").get_data(as_text=True)
    assert "auth.sign_in_failed" in client.get("/admin/audit.csv").get_data(as_text=True)


# --- mass assignment ----------------------------------------------------------------------------


def test_the_profile_form_ignores_fields_the_person_may_not_set(
    app: Flask, make_user, make_authority
) -> None:
    user = make_user(Role.TRAINEE)
    other = make_authority()
    client = app.test_client()
    login(client, user)
    before = (user.email, user.authority_id, user.country_code, user.active, sorted(user.role_names))
    response = client.post(
        "/account",
        data={"given_name": "New", "family_name": "Name", "email": "boss@agency.test", "role": "admin",
              "roles": "admin", "authority_id": str(other.id), "authority": str(other.id),
              "country_code": "JO",
              "active": "0", "email_confirmed_at": "", "password_hash": "x", "id": "1"},
    )  # fmt: skip
    assert response.status_code == 302
    db.session.rollback()
    user = db.session.get(User, user.id)
    assert user is not None
    assert user.given_name == "New"
    assert (user.email, user.authority_id, user.country_code, user.active, sorted(user.role_names)) == before


def test_registration_ignores_role_fields(app: Flask, make_authority) -> None:
    authority = make_authority()
    response = app.test_client().post(
        "/register",
        data={"given_name": "A", "family_name": "B", "email": "new@dpsu.gov.ua",
              "password": "a good long phrase",
              "confirm_password": "a good long phrase", "country": authority.country_code,
              "authority": str(authority.id), "role": "admin", "roles": "admin"},
    )  # fmt: skip
    assert response.status_code == 302
    user = db.session.scalar(select(User).where(User.email == "new@dpsu.gov.ua"))
    assert user is not None and user.role_names == {"trainee"}


# --- GDPR ---------------------------------------------------------------------------------------


def test_my_data_download_covers_everything_held(app: Flask, make_user) -> None:
    user = make_user()
    client = app.test_client()
    login(client, user)
    data = json.loads(client.get("/account/data.json").get_data(as_text=True))
    for key in ("profile", "enrolments", "enrolment_history", "lesson_completions", "quiz_attempts",
                "certificates", "audit_records"):  # fmt: skip
        assert key in data
    assert any(r["action"] == "auth.sign_in" for r in data["audit_records"])


def test_erasing_a_person_keeps_statistics_and_certificate_status(app: Flask, make_user) -> None:
    from lms.certificates.models import Certificate
    from tests.enrolment_support import make_course
    from tests.test_certificates import complete_course

    trainee = make_user(given_name="Leila", family_name="Haddad", native_name="ليلى حداد")
    admin = make_user(Role.ADMIN)
    complete_course(trainee, make_course("erase-course"))
    certificate = db.session.scalar(select(Certificate).where(Certificate.user_id == trainee.id))
    assert certificate is not None
    code = certificate.code
    victim = app.test_client()
    login(victim, trainee)
    client = app.test_client()
    login(client, admin)
    assert client.post(f"/admin/people/{trainee.id}/erase", data={"reason": ""}).status_code == 422
    assert (
        client.post(f"/admin/people/{trainee.id}/erase", data={"reason": "Request 2026-01-05"}).status_code
        == 302
    )
    db.session.rollback()
    erased = db.session.get(User, trainee.id)
    assert erased is not None
    assert "Leila" not in erased.full_name and erased.native_name is None and not erased.active
    assert erased.authority_id is not None and erased.country_code is not None  # statistics stay
    assert victim.get("/account").status_code == 302  # their session ended
    page = app.test_client().get(f"/verify/{code}").get_data(as_text=True)
    assert 'data-state="valid"' in page
    assert "Leila" not in page and "ليلى" not in page
    assert "Name removed" in page
    assert (
        db.session.scalar(
            select(func.count()).select_from(AuditRecord).where(AuditRecord.action == "user.erased")
        )
        == 1
    )


def test_only_admins_erase(app: Flask, make_user) -> None:
    target = make_user()
    client = app.test_client()
    login(client, make_user(Role.FOCAL_POINT))
    assert client.post(f"/admin/people/{target.id}/erase", data={"reason": "x"}).status_code == 403
    assert client.get(f"/admin/people/{target.id}/erase").status_code == 403
