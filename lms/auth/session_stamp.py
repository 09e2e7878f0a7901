"""A session's password stamp: a keyed digest of the password hash and the session version, written
into the session at sign-in and compared by the user loader on every request. A new password or a
sign-out everywhere (lms.auth.services.end_sessions) changes it, so sessions stamped before stop working
at their next request. It lives in auth (the user loader's own check), below security, which stamps
the session after a sign-in or a password change."""

from __future__ import annotations

import hashlib
import hmac

from flask import current_app, has_request_context, session

from lms.auth.models import User

SESSION_FINGERPRINT_KEY = "_pw"


def session_fingerprint(user: User) -> str:
    """Both values come with the user row: the check costs no extra query."""
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
