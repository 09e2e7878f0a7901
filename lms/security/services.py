"""Authentication hardening and personal-data rights. Services flush and raise LmsError; views commit."""

from __future__ import annotations

import hashlib
import hmac
import secrets
from dataclasses import dataclass
from datetime import timedelta
from typing import Any

from flask import current_app, g, has_request_context, request, session
from flask_babel import force_locale
from flask_babel import gettext as _
from sqlalchemy import event, select, update
from sqlalchemy.orm import Session, SessionTransaction

from lms.audit.services import record_event
from lms.auth.models import Role, User
from lms.auth.passwords import hash_password
from lms.auth.tokens import issue_one_time_token, public_link, token_hash
from lms.db import begin_writing, utcnow
from lms.errors import ValidationFailed
from lms.extensions import db
from lms.i18n import recipient_language
from lms.ops import ratelimit
from lms.security import totp
from lms.security.models import PasswordReset, TwoFactorCredential
from lms.security.password_policy import DEFAULT_MIN_LENGTH, password_problems

SESSION_FINGERPRINT_KEY = "_pw"
RESET_HOURS_DEFAULT = 1
TWO_FACTOR_ROLES = (Role.ADMIN, Role.FOCAL_POINT)

# --- sessions -----------------------------------------------------------------------------------


def session_fingerprint(user: User) -> str:
    """A keyed digest of the password hash and the session version: a new password or a sign-out
    (lms.auth.services.end_sessions) changes it, so sessions stamped before stop working at their next
    request (the user loader compares it; both values come with the user row, no extra query)."""
    key = str(current_app.config["SECRET_KEY"]).encode()
    stamped = f"{user.id}:{user.password_hash}"
    if user.session_version:  # version 0 stamps as before the column existed: no mass sign-out on upgrade
        stamped += f":{user.session_version}"
    return hmac.new(key, stamped.encode(), hashlib.sha256).hexdigest()[:32]


def stamp_session(user: User) -> None:
    session[SESSION_FINGERPRINT_KEY] = session_fingerprint(user)


def session_is_current(user: User) -> bool:
    if not has_request_context():
        return True
    stamped = session.get(SESSION_FINGERPRINT_KEY)
    return isinstance(stamped, str) and hmac.compare_digest(stamped, session_fingerprint(user))


# --- password policy ----------------------------------------------------------------------------


def check_new_password(password: str, *personal: str | None) -> None:
    minimum = int(current_app.config.get("PASSWORD_MIN_LENGTH", DEFAULT_MIN_LENGTH))
    problems = password_problems(password, min_length=minimum, personal=personal)
    if "too_short" in problems:
        raise ValidationFailed(_("The password must have at least %(n)s characters.", n=minimum))
    if "too_long" in problems:
        raise ValidationFailed(_("The password is too long."))
    if "common" in problems:
        raise ValidationFailed(_("This password is one of the most commonly used; choose another."))
    if "personal" in problems:
        raise ValidationFailed(_("The password must not be your email address or your name."))


# --- sign-in ------------------------------------------------------------------------------------


def client_address() -> str:
    return (request.remote_addr if has_request_context() else None) or "-"


@dataclass(frozen=True)
class SignInCheck:
    """The answer before a password is checked: go on, or refuse for ``retry_after`` seconds.
    ``refused_by`` names the limit ("address", "account_address", "account_delay"); ``delay`` is the
    account's current growing delay (0 when none applies to this address)."""

    allowed: bool
    retry_after: int = 0
    refused_by: str = ""
    delay: int = 0
    keys: tuple[str, ...] = ()  # counted before the check; given back when the password is right


def _login_limits() -> dict[str, int]:
    config = current_app.config
    return {
        "window": int(config.get("LOGIN_LIMIT_WINDOW", 900)),
        "per_ip": int(config.get("LOGIN_LIMIT_PER_IP", 100)),
        "per_account_address": int(config.get("LOGIN_LIMIT_PER_ACCOUNT_ADDRESS", 10)),
        "delay_after": int(config.get("LOGIN_DELAY_AFTER", 5)),
        "delay_max": int(config.get("LOGIN_DELAY_MAX", 60)),
    }


def _account_hash(email: str) -> str:
    return hashlib.sha256(email.strip().lower().encode()).hexdigest()


def sign_in_delay(account_failures: int, *, after: int, maximum: int) -> int:
    """Seconds between attempts on an account that has failed ``account_failures`` times in the window
    (from every address): none up to ``after``, then 1, 2, 4, 8... up to ``maximum``."""
    if account_failures < after or maximum <= 0:
        return 0
    return min(2 ** min(account_failures - after, 30), maximum)


def check_sign_in(email: str) -> SignInCheck:
    """Before the password is checked (docs/security.md, "Sign-in limits"; ASVS 5.0 V6.1.1, V6.3.1).

    Refused (429) are the address that failed too often (on any accounts: credential stuffing) and the
    address that failed too often on this account (guessing). Failures on the account from every
    address make a growing delay between attempts, but only for addresses that have already failed on
    this account: the right password from an address that has not been failing always gets through,
    so nobody can lock a person out by failing on purpose. The attempt is counted now (concurrent
    guesses cannot overshoot a limit) and given back by ``passed_sign_in`` when the password was right,
    so the limits count failures. The account key exists for unknown emails too: answers reveal
    nothing about which addresses have accounts."""
    limits = _login_limits()
    window = limits["window"]
    account = _account_hash(email)
    address = client_address()
    address_key = f"login:ip:{address}"
    pair_key = f"login:pair:{account}:{address}"
    keys = (address_key, pair_key)
    address_ok = ratelimit.hit(address_key, limits["per_ip"], window)
    pair_ok = ratelimit.hit(pair_key, limits["per_account_address"], window)
    if not address_ok or not pair_ok:
        by = "address" if not address_ok else "account_address"
        return SignInCheck(False, ratelimit.seconds_left(window), by, keys=keys)
    earlier_failures_here = ratelimit.count(pair_key, window) - 1
    if earlier_failures_here <= 0:
        return SignInCheck(True, keys=keys)  # an address that has not been failing on this account
    delay = sign_in_delay(
        ratelimit.count(f"login:account:{account}", window),
        after=limits["delay_after"],
        maximum=limits["delay_max"],
    )
    wait = ratelimit.hold(f"login:delay:{account}", delay)
    if wait:
        for key in keys:  # no password was tried: waiting costs the address nothing
            ratelimit.forgive(key, window)
        return SignInCheck(False, wait, "account_delay", delay, keys)
    return SignInCheck(True, delay=delay, keys=keys)


def failed_sign_in(email: str) -> None:
    """A wrong password (or unknown email): counts towards the account's growing delay."""
    window = _login_limits()["window"]
    ratelimit.hit(f"login:account:{_account_hash(email)}", 2**31 - 1, window)


def passed_sign_in(check: SignInCheck) -> None:
    """The password was right: the attempt counted by ``check_sign_in`` was no failure."""
    window = _login_limits()["window"]
    for key in check.keys:
        ratelimit.forgive(key, window)


def keep_counted_attempt() -> None:
    """Commit the attempt counted so far (the rate-limit hits, a failed sign-in in the audit log) in a
    transaction of its own, before the view answers. The unit of work (lms/unit_of_work.py) rolls back
    every answer of 400 or more, and a refused or failed sign-in answers 401/429; a registration that
    then fails must not take its counted attempt with it. The only commit a view may ask for itself."""
    db.session.commit()


def password_reset_allowed(email: str) -> bool:
    """Reset links have their own budget (asking for links must not use up anyone's sign-in attempts):
    per address, per account and address, and per account (a cap on the mails one inbox receives;
    the page answers the same whether or not a link was sent)."""
    limits = _login_limits()
    window = limits["window"]
    account = _account_hash(email)
    address = client_address()
    answers = [
        ratelimit.hit(f"reset:ip:{address}", limits["per_ip"], window),
        ratelimit.hit(f"reset:pair:{account}:{address}", limits["per_account_address"], window),
        ratelimit.hit(
            f"reset:account:{account}",
            int(current_app.config.get("PASSWORD_RESET_LIMIT_PER_ACCOUNT", 10)),
            window,
        ),
    ]
    return all(answers)


def registration_allowed() -> bool:
    """Registration must say when an address already has an account, so it is throttled per client
    address instead: probing which addresses exist costs an attacker hours, not seconds."""
    config = current_app.config
    return ratelimit.hit(
        f"register:ip:{client_address()}",
        int(config.get("REGISTRATION_LIMIT_PER_IP", 20)),
        int(config.get("REGISTRATION_LIMIT_WINDOW", 3600)),
    )


def record_sign_in(user: User, *, second_factor: bool = False) -> None:
    record_event("auth.sign_in", "user", user.id, actor_id=user.id, after={"two_factor": second_factor})


def record_failed_sign_in(email: str, *, reason: str = "credentials") -> None:
    # The typed address (truncated), not whether it exists: admins see attacks on an account.
    record_event(
        "auth.sign_in_failed", "email", None, after={"email": email.strip().lower()[:254], "reason": reason}
    )


# --- password reset -----------------------------------------------------------------------------


def reset_lifetime() -> timedelta:
    return timedelta(hours=float(current_app.config.get("PASSWORD_RESET_HOURS", RESET_HOURS_DEFAULT)))


def request_password_reset(email: str) -> str | None:
    """Mail a single-use link when an active account has this address; the caller answers the same
    either way. Returns the raw token (tests read it; the view ignores it).

    The mail is left for the job worker (sent within a minute) instead of being sent inside the
    request: sending would make a known address answer measurably slower than an unknown one."""
    from lms.auth.services import find_user_by_email
    from lms.notifications.services import queue_mail
    from lms.settings.services import get_settings

    user = find_user_by_email(email)
    if user is None or not user.active:
        return None
    token = issue_one_time_token(PasswordReset, user.id, reset_lifetime())
    minutes = int(reset_lifetime().total_seconds() // 60)
    language = recipient_language(user.preferred_language)
    with force_locale(language):  # the recipient's language (issue 8), whatever the page's
        body = _(
            "Hello %(name)s,\n\nSomeone (we hope you) asked to reset your password for %(academy)s. "
            "Open this "
            "link within %(minutes)s minutes to choose a new one:\n\n%(link)s\n\nThe link works once. If you "
            "did not ask for it, ignore this message: your password stays as it is.",
            name=user.given_name,
            academy=get_settings().academy_name,
            minutes=minutes,
            link=public_link("security.reset_password", token=token),
        )
        subject = _("Reset your password")
    mail = queue_mail(user.email, subject, body, kind="password_reset", language=language)
    if has_request_context():  # not sent in this request (see above)
        queued = g.get("queued_mail_ids") or []
        if mail.id in queued:
            queued.remove(mail.id)
    record_event("auth.password_reset_requested", "user", user.id)
    db.session.flush()
    return token


def reset_problem(token: str) -> str | None:
    """Why the reset link cannot be used (the page shows it with a 410), or None when it can."""
    try:
        find_reset(token)
    except ValidationFailed as error:
        return error.message
    return None


def find_reset(token: str) -> PasswordReset:
    reset = db.session.scalar(select(PasswordReset).where(PasswordReset.token_hash == token_hash(token)))
    if reset is None or reset.used_at is not None or reset.expires_at <= utcnow():
        raise ValidationFailed(_("This password reset link is not valid any more. Ask for a new one."))
    return reset


def reset_password(token: str, new_password: str) -> User:
    reset = find_reset(token)
    user = db.session.get(User, reset.user_id)
    if user is None or not user.active:
        raise ValidationFailed(_("This password reset link is not valid any more. Ask for a new one."))
    check_new_password(new_password, user.email, user.given_name, user.family_name)
    now = utcnow()
    # Single use even under a double submit: only the request that flips used_at goes on.
    result = db.session.execute(
        update(PasswordReset)
        .where(PasswordReset.id == reset.id, PasswordReset.used_at.is_(None))
        .values(used_at=now)
    )
    if getattr(result, "rowcount", 0) != 1:
        raise ValidationFailed(_("This password reset link is not valid any more. Ask for a new one."))
    user.password_hash = hash_password(new_password)  # other sessions end: their fingerprint is stale
    record_event("auth.password_reset", "user", user.id, actor_id=user.id)
    db.session.flush()
    return user


# --- two-factor ---------------------------------------------------------------------------------


def two_factor_offered(user: User) -> bool:
    return user.has_role(*TWO_FACTOR_ROLES)


def confirmed_credential(user_id: int) -> TwoFactorCredential | None:
    credential = db.session.get(TwoFactorCredential, user_id)
    return credential if credential is not None and credential.confirmed_at is not None else None


def start_two_factor(user: User) -> TwoFactorCredential:
    """A fresh secret to scan (replacing an unconfirmed one); not in force until confirmed."""
    credential = db.session.get(TwoFactorCredential, user.id)
    if credential is not None and credential.confirmed_at is not None:
        raise ValidationFailed(_("Two-factor sign-in is already on."))
    if credential is None:
        credential = TwoFactorCredential(user_id=user.id, secret=totp.new_secret())
        db.session.add(credential)
    db.session.flush()
    return credential


def two_factor_being_set_up(user: User) -> TwoFactorCredential:
    """The secret the set-up page shows, stored the first time the page is opened (a GET).

    The one write a GET of this feature makes, on purpose: the code typed next is checked against
    the stored secret, so the page may only show a secret that is stored. ``begin_writing`` ends the
    page's read transaction and sets ``g.write_intent``, so the unit of work commits this GET
    (docs/architecture.md, "Unit of work"); later views of the page find the secret and write nothing."""
    credential = pending_two_factor(user.id)
    if credential is None:
        begin_writing()
        credential = start_two_factor(user)
    return credential


def pending_two_factor(user_id: int) -> TwoFactorCredential | None:
    """The secret being set up (shown on the set-up page, not yet confirmed), if any."""
    credential = db.session.get(TwoFactorCredential, user_id)
    return credential if credential is not None and credential.confirmed_at is None else None


def _accept_code(credential: TwoFactorCredential, code: str) -> bool:
    step = totp.matching_step(credential.secret, code)
    if step is None or step <= credential.last_step:
        return False
    # Atomic: two concurrent requests with the same code cannot both pass.
    moved = db.session.execute(
        update(TwoFactorCredential)
        .where(TwoFactorCredential.user_id == credential.user_id, TwoFactorCredential.last_step < step)
        .values(last_step=step)
        .execution_options(synchronize_session=False)
    )
    credential.last_step = step
    return getattr(moved, "rowcount", 0) == 1


def confirm_two_factor(user: User, code: str) -> None:
    credential = db.session.get(TwoFactorCredential, user.id)
    if credential is None or credential.confirmed_at is not None:
        raise ValidationFailed(_("Start the set-up again."))
    if not _accept_code(credential, code):
        raise ValidationFailed(_("That code is not right. Check your device's clock and try the next code."))
    credential.confirmed_at = utcnow()
    record_event("auth.two_factor_enabled", "user", user.id, actor_id=user.id)
    db.session.flush()


def disable_two_factor(user: User, actor_id: int) -> None:
    credential = db.session.get(TwoFactorCredential, user.id)
    if credential is not None:
        db.session.delete(credential)
        record_event("auth.two_factor_disabled", "user", user.id, actor_id=actor_id)
    db.session.flush()


def second_factor_allowed(user_id: int) -> bool:
    config = current_app.config
    return ratelimit.hit(
        f"login:2fa:{user_id}",
        int(config.get("TWO_FACTOR_LIMIT", 5)),
        int(config.get("LOGIN_LIMIT_WINDOW", 900)),
    )


def verify_second_factor(user: User, code: str) -> bool:
    credential = confirmed_credential(user.id)
    return credential is not None and _accept_code(credential, code)


def provisioning_uri(user: User, credential: TwoFactorCredential) -> str:
    from lms.settings.services import get_settings

    return totp.provisioning_uri(credential.secret, user.email, get_settings().academy_name)


# --- personal data (GDPR) -----------------------------------------------------------------------


def _iso(value: Any) -> Any:
    return value.isoformat() if hasattr(value, "isoformat") else value


def personal_data(user: User) -> dict[str, Any]:
    """Everything the academy holds about a person beyond the profile (the profile and enrolment
    summary come from lms.auth.account_views): enrolments with their history, lesson completions,
    quiz attempts, certificates and the audit records about them or by them."""
    from lms.audit.models import AuditRecord
    from lms.certificates.models import Certificate
    from lms.enrolment.models import CourseRun, Enrolment, EnrolmentEvent, LessonCompletion
    from lms.quizzes.models import Quiz, QuizAttempt

    enrolments = db.session.execute(
        select(Enrolment, CourseRun)
        .join(CourseRun, Enrolment.run_id == CourseRun.id)
        .where(Enrolment.user_id == user.id)
    ).all()
    enrolment_ids = [e.id for e, _run in enrolments]
    events = db.session.scalars(
        select(EnrolmentEvent)
        .where(EnrolmentEvent.enrolment_id.in_(enrolment_ids))
        .order_by(EnrolmentEvent.id)
    ).all()
    completions = db.session.scalars(
        select(LessonCompletion)
        .where(LessonCompletion.enrolment_id.in_(enrolment_ids))
        .order_by(LessonCompletion.id)
    ).all()
    attempts = db.session.execute(
        select(QuizAttempt, Quiz)
        .join(Quiz, QuizAttempt.quiz_id == Quiz.id)
        .where(QuizAttempt.enrolment_id.in_(enrolment_ids))
        .order_by(QuizAttempt.id)
    ).all()
    certificates = db.session.scalars(
        select(Certificate).where(Certificate.user_id == user.id).order_by(Certificate.id)
    ).all()
    audit = db.session.scalars(
        select(AuditRecord)
        .where(
            (AuditRecord.actor_id == user.id)
            | ((AuditRecord.subject_type == "user") & (AuditRecord.subject_id == str(user.id)))
            | (
                (AuditRecord.subject_type == "enrolment")
                & AuditRecord.subject_id.in_([str(i) for i in enrolment_ids])
            )
        )
        .order_by(AuditRecord.id)
    ).all()
    return {
        "enrolment_records": [
            {
                "id": e.id,
                "run": run.title,
                "status": e.status,
                "language": e.language,
                "enrolled_at": _iso(e.enrolled_at),
                "completed_at": _iso(e.completed_at),
                "last_activity_at": _iso(e.last_activity_at),
                "justification": e.justification,
            }
            for e, run in enrolments
        ],
        "enrolment_history": [
            {
                "enrolment_id": ev.enrolment_id,
                "action": ev.action,
                "from": ev.from_status,
                "to": ev.to_status,
                "reason": ev.reason,
                "at": _iso(ev.at),
            }
            for ev in events
        ],
        "lesson_completions": [
            {"enrolment_id": c.enrolment_id, "lesson_id": c.lesson_id, "completed_at": _iso(c.completed_at)}
            for c in completions
        ],
        "quiz_attempts": [
            {
                "id": a.id,
                "enrolment_id": a.enrolment_id,
                "quiz": quiz.slug if hasattr(quiz, "slug") else quiz.id,
                "number": a.number,
                "status": a.status,
                "started_at": _iso(a.started_at),
                "submitted_at": _iso(a.submitted_at),
                "score": a.score,
                "max_score": a.max_score,
                "percent": a.percent,
                "passed": a.passed,
            }
            for a, quiz in attempts
        ],
        "certificates": [
            {
                "code": c.code,
                "status": c.status,
                "course": c.course_title,
                "run": c.run_title,
                "holder_name": c.holder_name,
                "issued_at": _iso(c.issued_at),
                "valid_until": _iso(c.valid_until),
                "revoked_at": _iso(c.revoked_at),
            }
            for c in certificates
        ],
        "audit_records": [
            {
                "at": _iso(r.at),
                "action": r.action,
                "subject": f"{r.subject_type}:{r.subject_id}",
                "by_you": r.actor_id == user.id,
                "before": r.before,
                "after": r.after,
                "reason": r.reason,
                "ip_address": r.ip_address if r.actor_id == user.id else None,
            }
            for r in audit
        ],
        "two_factor": {"enabled": confirmed_credential(user.id) is not None},
    }


ERASED_NAME = ""  # certificates of an erased person keep their status, not the name


def erase_person(user: User, actor_id: int, reason: str) -> list[str]:
    """GDPR erasure (docs/security.md): personal fields go; the row, its id and the statistics
    fields that identify nobody (country, authority, sex, birth-year band) stay, so that reports keep
    their counts. Certificates keep code and status (the verify page still answers valid/revoked)
    but lose the name, the signed credential and the PDF. The account can never sign in again.
    Returns the certificate PDF file names to delete once the transaction has committed."""
    from lms.auth.models import EmailConfirmation
    from lms.certificates.models import Certificate
    from lms.enrolment.models import Enrolment
    from lms.notifications.models import OutgoingMail

    if user.id == actor_id:
        raise ValidationFailed(_("You cannot erase your own account."))
    if user.merged_into_id is None and user.email.endswith("@erased.invalid"):
        raise ValidationFailed(_("This person is already erased."))
    old_email = user.email
    user.email = f"erased-{user.id}@erased.invalid"
    user.given_name = "—"
    user.family_name = f"#{user.id}"
    user.patronymic = None
    user.native_name = None
    user.position = None
    user.timezone = None
    user.password_hash = hash_password(secrets.token_urlsafe(32))  # nobody knows it; sessions end
    user.active = False
    if user.deactivated_at is None:
        user.deactivated_at = utcnow()
    user.email_confirmed_at = None
    user.roles = []
    db.session.execute(update(EmailConfirmation).where(EmailConfirmation.user_id == user.id).values(email=""))
    db.session.execute(
        update(PasswordReset).where(PasswordReset.user_id == user.id).values(expires_at=utcnow())
    )
    credential = db.session.get(TwoFactorCredential, user.id)
    if credential is not None:
        db.session.delete(credential)
    db.session.execute(
        update(OutgoingMail)
        .where(OutgoingMail.recipient == old_email)
        .values(recipient="", subject="", body="")
    )
    db.session.execute(update(Enrolment).where(Enrolment.user_id == user.id).values(justification=None))
    pdf_files: list[str] = []
    for certificate in db.session.scalars(select(Certificate).where(Certificate.user_id == user.id)):
        certificate.holder_name = ERASED_NAME
        certificate.holder_native_name = None
        certificate.credential = {}
        if certificate.pdf_file:
            pdf_files.append(certificate.pdf_file)
    record_event("user.erased", "user", user.id, actor_id=actor_id, reason=reason)
    db.session.flush()
    return pdf_files


ERASED_FILES_KEY = "lms_erased_certificate_files"


def delete_certificate_files_after_commit(names: list[str]) -> None:
    """The erased person's PDFs go once the erase has committed, and stay if it rolls back."""
    db.session().info.setdefault(ERASED_FILES_KEY, []).extend(names)


@event.listens_for(Session, "after_commit")
def _delete_erased_files(session: Session) -> None:
    names = session.info.pop(ERASED_FILES_KEY, None)
    if names:
        delete_certificate_files(names)


@event.listens_for(Session, "after_soft_rollback")
def _keep_files_of_rolled_back_erase(session: Session, previous_transaction: SessionTransaction) -> None:
    if not previous_transaction.nested:  # a savepoint's rollback leaves the erase going on
        session.info.pop(ERASED_FILES_KEY, None)


def delete_certificate_files(names: list[str]) -> None:
    """After the erase committed: the PDFs (and their translated copies) carry the name, so they go."""
    from pathlib import Path

    from lms.certificates.storage import PDF_FOLDER, instance_dir

    folder = instance_dir() / PDF_FOLDER
    for name in names:
        stem = Path(name).stem
        if not stem or Path(name).name != name:
            continue
        for path in folder.glob(f"{stem}*.pdf"):
            path.unlink(missing_ok=True)
