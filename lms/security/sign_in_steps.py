"""The two steps at the end of signing in, shared by the sign-in page (lms.auth.views) and the
two-factor page (lms.security.views): hand over to the second factor, or sign the person in. Here,
below both pages, so that one page never imports the other (contract "pages-apart",
docs/architecture.md)."""

from __future__ import annotations

import time

from flask import flash, redirect, session, url_for
from flask_babel import gettext as _
from flask_login import login_user
from werkzeug.wrappers import Response

from lms.auth.models import User
from lms.config import LANGUAGES
from lms.security import sign_in_limits

PENDING_USER = "_2fa_user"
PENDING_NEXT = "_2fa_next"
PENDING_SINCE = "_2fa_since"
PENDING_SECONDS = 300


def begin_second_factor(user: User, next_url: str | None) -> Response:
    """Called by the sign-in view once the password is right for a person with two-factor on."""
    chosen_language = session.get("language")
    session.clear()
    if chosen_language in LANGUAGES:  # kept for the second step, which saves it as the preference
        session["language"] = chosen_language
    session[PENDING_USER] = user.id
    session[PENDING_SINCE] = int(time.time())
    if next_url:
        session[PENDING_NEXT] = next_url
    return redirect(url_for("security.two_factor_login"))


def complete_sign_in(user: User, next_url: str | None, *, second_factor: bool = False) -> Response:
    """The last step of signing in, after the password (and the code, with two-factor on)."""
    # A language chosen with the switcher before signing in is the person's choice: it becomes
    # their saved preference instead of being silently overruled by the one saved earlier.
    chosen_language = session.get("language")
    if chosen_language in LANGUAGES and user.preferred_language != chosen_language:
        user.preferred_language = chosen_language
    sign_in_limits.record_sign_in(user, second_factor=second_factor)
    welcome = _("Welcome, %(name)s.", name=user.given_name)
    session.clear()  # a fresh session on sign-in (no fixation)
    login_user(user)
    flash(welcome, "success")
    return redirect(next_url or url_for("courses.dashboard"))
