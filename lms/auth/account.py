"""A person's own account: self-registration under the academy's policy, email confirmation,
profile and password. Services flush and raise LmsError; views commit."""

from __future__ import annotations

from datetime import timedelta

from flask import current_app
from flask_babel import force_locale
from flask_babel import gettext as _
from sqlalchemy import select

from lms.audit.services import record_event
from lms.auth.models import EmailConfirmation, User
from lms.auth.password_policy import check_new_password
from lms.auth.passwords import hash_password, verify_password
from lms.auth.profile import PROFILE_FIELDS, ProfileChange, write_profile
from lms.auth.services import Registration, normalise_email, register_user
from lms.auth.tokens import issue_one_time_token, public_link, token_hash
from lms.db import utcnow
from lms.errors import Forbidden, ValidationFailed
from lms.extensions import db
from lms.i18n import recipient_language
from lms.notifications.services import queue_mail
from lms.settings.models import RegistrationPolicy
from lms.settings.services import email_domain_allowed, get_settings

DEFAULT_CONFIRMATION_HOURS = 48


def registration_refusal(email: str | None = None) -> str | None:
    """Why self-registration is refused (for this address), or None when it is allowed."""
    settings = get_settings()
    if settings.registration_policy == RegistrationPolicy.CLOSED:
        return _(
            "Self-registration is closed. Your authority's focal point or the academy nominates "
            "participants; please contact them."
        )
    if (
        settings.registration_policy == RegistrationPolicy.DOMAINS
        and email is not None
        and not email_domain_allowed(email, settings)
    ):
        return _(
            "Registration is open to official email addresses only (%(domains)s). Use your work "
            "address, or ask your focal point to nominate you.",
            domains=", ".join(settings.allowed_email_domains),
        )
    return None


def self_register(data: Registration) -> tuple[User, str]:
    """A visitor registers: the policy decides; the account starts unconfirmed and a link is mailed.
    Returns the user and the raw token (only the mail and tests ever see it)."""
    refusal = registration_refusal(data.email)
    if refusal is not None:
        raise Forbidden(refusal)
    user = register_user(data)
    token = issue_email_confirmation(user)
    return user, token


def confirmation_lifetime() -> timedelta:
    return timedelta(
        hours=float(current_app.config.get("EMAIL_CONFIRMATION_HOURS", DEFAULT_CONFIRMATION_HOURS))
    )


def issue_email_confirmation(user: User) -> str:
    """A new single-use link for the user's current address; earlier unused links stop working."""
    if user.email_confirmed_at is not None:
        raise ValidationFailed(_("Your email address is already confirmed."))
    token = issue_one_time_token(EmailConfirmation, user.id, confirmation_lifetime(), email=user.email)
    hours = int(confirmation_lifetime().total_seconds() // 3600)
    language = recipient_language(user.preferred_language)
    with force_locale(language):  # the recipient's language, not that of whoever made the account
        body = _(
            "Hello %(name)s,\n\nPlease confirm your email address for %(academy)s by opening this link "
            "within %(hours)s hours:\n\n%(link)s\n\nUntil you confirm it you cannot enrol in courses. "
            "If you did not create this account, ignore this message.",
            name=user.given_name,
            academy=get_settings().academy_name,
            hours=hours,
            link=public_link("account.confirm_email", token=token),
        )
        subject = _("Confirm your email address")
    queue_mail(user.email, subject, body, kind="email_confirmation", language=language)
    db.session.flush()
    return token


def confirmation_problem(token: str) -> str | None:
    """Why the confirmation link cannot be used (the page shows it with a 410), or None when it can."""
    try:
        find_confirmation(token)
    except ValidationFailed as error:
        return error.message
    return None


def find_confirmation(token: str) -> EmailConfirmation:
    """The confirmation a token names, if it can still be used; else ValidationFailed saying why."""
    confirmation = db.session.scalar(
        select(EmailConfirmation).where(EmailConfirmation.token_hash == token_hash(token))
    )
    if confirmation is None:
        raise ValidationFailed(_("This confirmation link is not valid."))
    if confirmation.used_at is not None:
        raise ValidationFailed(_("This confirmation link has already been used."))
    if confirmation.expires_at <= utcnow():
        raise ValidationFailed(_("This confirmation link has expired. Sign in and ask for a new one."))
    user = db.session.get(User, confirmation.user_id)
    if user is None or normalise_email(user.email) != normalise_email(confirmation.email):
        raise ValidationFailed(_("This confirmation link is not valid."))
    return confirmation


def confirm_email(token: str) -> User:
    confirmation = find_confirmation(token)
    now = utcnow()
    confirmation.used_at = now
    user = db.session.get(User, confirmation.user_id)
    if user is None:  # find_confirmation checked it; kept for the type checker
        raise ValidationFailed(_("This confirmation link is not valid."))
    if user.email_confirmed_at is None:
        user.email_confirmed_at = now
    record_event("account.email_confirmed", "user", user.id, actor_id=user.id, after={"email": user.email})
    db.session.flush()
    return user


def update_own_profile(user: User, change: ProfileChange) -> User:
    before = {name: getattr(user, name) for name in PROFILE_FIELDS}
    changed = write_profile(user, change, own=True)
    if changed:
        record_event(
            "account.profile_update", "user", user.id, actor_id=user.id,
            before={n: before[n] for n in changed}, after={n: getattr(user, n) for n in changed},
        )  # fmt: skip
    db.session.flush()
    return user


def change_password(user: User, current_password: str, new_password: str) -> None:
    if not verify_password(user.password_hash, current_password):
        raise ValidationFailed(_("Your current password is not correct."))
    check_new_password(new_password, user.email, user.given_name, user.family_name)
    if new_password == current_password:
        raise ValidationFailed(_("Choose a password different from the current one."))
    user.password_hash = hash_password(new_password)
    record_event("account.password_change", "user", user.id, actor_id=user.id)  # never the hashes
    db.session.flush()
