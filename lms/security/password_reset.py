"""Password reset by a one-time link: the request (mail), the link's checks and the new password.

Services flush and raise LmsError subclasses; the unit of work commits.
"""

from __future__ import annotations

from datetime import timedelta

from flask import current_app, g, has_request_context
from flask_babel import force_locale
from flask_babel import gettext as _
from sqlalchemy import select, update

from lms.audit.services import record_event
from lms.auth.models import User
from lms.auth.password_policy import check_new_password
from lms.auth.passwords import hash_password
from lms.auth.services import find_user_by_email
from lms.auth.tokens import issue_one_time_token, public_link, token_hash
from lms.db import utcnow
from lms.errors import ValidationFailed
from lms.extensions import db
from lms.i18n import recipient_language
from lms.notifications.services import queue_mail
from lms.security.models import PasswordReset
from lms.settings.services import get_settings

RESET_HOURS_DEFAULT = 1


# --- password reset -----------------------------------------------------------------------------


def reset_lifetime() -> timedelta:
    return timedelta(hours=float(current_app.config.get("PASSWORD_RESET_HOURS", RESET_HOURS_DEFAULT)))


def request_password_reset(email: str) -> str | None:
    """Mail a single-use link when an active account has this address; the caller answers the same
    either way. Returns the raw token (tests read it; the view ignores it).

    The mail is left for the job worker (sent within a minute) instead of being sent inside the
    request: sending would make a known address answer measurably slower than an unknown one."""
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
