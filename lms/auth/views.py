from __future__ import annotations

from datetime import timedelta
from urllib.parse import urlsplit

from flask import Blueprint, flash, g, redirect, render_template, request, session, url_for
from flask_babel import format_timedelta
from flask_babel import gettext as _
from flask_limiter import RateLimitExceeded
from flask_login import current_user, login_user, logout_user
from werkzeug.wrappers import Response
from wtforms import SelectChoice

from lms.auth.access import ANONYMOUS, AUTHENTICATED, PUBLIC, allow
from lms.auth.account import registration_refusal, self_register
from lms.auth.forms import LoginForm, RegistrationForm
from lms.auth.models import User
from lms.auth.services import Registration, end_sessions, note_sign_in, password_matches
from lms.config import LANGUAGES
from lms.db import begin_writing, reads_before_writing
from lms.i18n import current_language
from lms.ops import route_limits
from lms.orgs.queries import authority_choices_by_country, country_choices
from lms.security import sign_in_limits, sign_in_wave, two_factor
from lms.security.sign_in_steps import begin_second_factor, complete_sign_in
from lms.settings.models import RegistrationPolicy
from lms.settings.services import get_settings
from lms.unit_of_work import refusals_into

bp = Blueprint("auth", __name__)


def _too_many() -> str:
    return _("Too many registrations from your network. Try again later.")


def safe_next_url(target: str | None) -> str | None:
    """Only our own paths: an absolute URL or '//host' would be an open redirect."""
    if not target:
        return None
    parts = urlsplit(target)
    if parts.scheme or parts.netloc or not target.startswith("/") or target.startswith("//"):
        return None
    if "\\" in target:  # browsers read "/\\host" as "//host"
        return None
    return target


@bp.route("/login", methods=["GET", "POST"])
@allow(ANONYMOUS)
@reads_before_writing  # the password hash runs in a reading transaction (_checked_password)
def login() -> tuple[str, int] | tuple[str, int, dict[str, str]] | Response:
    form = LoginForm()
    if not form.validate_on_submit():
        return render_template("auth/login.html", form=form), 200
    email = form.email.data or ""
    # Per address, per account and address, and a growing delay per account, counted in Redis or
    # the database (all workers share it); docs/security.md, "Sign-in limits".
    begin_writing()
    check = sign_in_limits.check_sign_in(email)
    if not check.allowed:
        return _sign_in_refused(form, email, check)
    user = _checked_password(form, email, check)
    if not isinstance(user, User):
        return user  # 401 or 503
    note_sign_in(user, form.password.data or "")
    sign_in_limits.passed_sign_in(check)  # the limits count failures only
    next_url = safe_next_url(request.args.get("next"))
    if two_factor.confirmed_credential(user.id) is not None:
        return begin_second_factor(user, next_url)
    return complete_sign_in(user, next_url)


def _checked_password(
    form: LoginForm, email: str, check: sign_in_limits.SignInCheck
) -> User | tuple[str, int] | tuple[str, int, dict[str, str]]:
    """The password checked in one of the server's bounded hash slots (issue 22), in a reading
    transaction: the counted attempt is committed first, so no write lock is held during the hash and
    lesson completions or quiz answers of others go on meanwhile (SQLite has one writer at a time)."""
    sign_in_limits.keep_counted_attempt()
    g.pop("write_intent", None)  # begin_writing() set it: this request reads again until the next one
    try:
        with sign_in_wave.hash_slot():
            user = password_matches(email, form.password.data or "")
    except sign_in_wave.HashBusy as busy:
        return _many_signing_in(form, check, busy)
    begin_writing(*([user] if user else []))
    if user is None:
        sign_in_limits.failed_sign_in(email)
        sign_in_limits.record_failed_sign_in(email)
        sign_in_limits.keep_counted_attempt()  # the attempt counts and stays in the audit log (a 401)
        form.form_errors.append(_("The email or password is not correct."))
        return render_template("auth/login.html", form=form), 401
    return user


def _many_signing_in(
    form: LoginForm, check: sign_in_limits.SignInCheck, busy: sign_in_wave.HashBusy
) -> tuple[str, int, dict[str, str]]:
    """A wave of sign-ins: no password was tried, so the attempt counted (and committed) before is given
    back, in a commit of its own (the unit of work rolls a 503 back)."""
    begin_writing()
    sign_in_limits.passed_sign_in(check)
    sign_in_limits.keep_counted_attempt()
    form.form_errors.append(_("Many people are signing in right now. Please try again in a few seconds."))
    return render_template("auth/login.html", form=form), 503, {"Retry-After": str(busy.retry_after)}


def _sign_in_refused(
    form: LoginForm, email: str, check: sign_in_limits.SignInCheck
) -> tuple[str, int, dict[str, str]]:
    sign_in_limits.record_failed_sign_in(email, reason="rate_limited")
    sign_in_limits.keep_counted_attempt()  # the answer is a 429, which the unit of work rolls back
    if check.refused_by == "account_delay":
        wait = format_timedelta(timedelta(seconds=check.retry_after), threshold=1)
        form.form_errors.append(_("Too many sign-in attempts. Try again in %(time)s.", time=wait))
    else:
        form.form_errors.append(_("Too many sign-in attempts. Wait a few minutes and try again."))
    return render_template("auth/login.html", form=form), 429, {"Retry-After": str(check.retry_after)}


@bp.route("/logout", methods=["POST"])
@allow(AUTHENTICATED)
def logout() -> Response:
    # Clearing the cookie is not enough: a copy taken before would still be signed. Raising the
    # version ends every session of this person on the server (docs/security.md, "Signing out").
    end_sessions(current_user._get_current_object())
    logout_user()
    session.clear()
    flash(_("You have signed out."), "info")
    return redirect(url_for("courses.catalogue"))


@bp.route("/register", methods=["GET", "POST"])
@allow(ANONYMOUS)
def register() -> tuple[str, int] | Response:
    closed = registration_refusal()  # the academy's registration policy (lms.settings)
    if closed is not None:
        status = 403 if request.method == "POST" else 200
        return render_template("auth/register_closed.html", message=closed), status
    language = current_language()
    form = _registration_form(language)
    if form.validate_on_submit():
        if _registration_limited():  # the form again, with the reason; Retry-After comes from the limiter
            form.form_errors.append(_too_many())
            return render_template("auth/register.html", form=form), 429
        with refusals_into(form):
            user, _token = self_register(_registration(form, language))
            message = _(
                "Your account is ready. Confirm your address with the link we sent to %(email)s to enrol.",
                email=user.email,
            )
            session.clear()
            login_user(user)
            flash(message, "success")
            return redirect(url_for("courses.dashboard"))
    status = 422 if form.errors or form.form_errors else 200
    return render_template("auth/register.html", form=form), status


def _registration_limited() -> bool:
    """Counts this registration attempt per address (Flask-Limiter); True when the limit is reached. The
    count is kept even when the registration then fails."""
    try:
        with route_limits.limit(
            "register", "REGISTRATION_LIMIT_PER_IP", 20, "REGISTRATION_LIMIT_WINDOW", 3600, _too_many
        ):
            return False
    except RateLimitExceeded:
        return True


def _registration_form(language: str) -> RegistrationForm:
    form = RegistrationForm()
    settings = get_settings()
    if settings.registration_policy == RegistrationPolicy.DOMAINS:
        domains = ", ".join(settings.allowed_email_domains)
        form.email.description = _("Use your official address at: %(domains)s.", domains=domains)
    form.country.choices = [SelectChoice("", _("Choose your country")), *country_choices(language)]
    form.authority.choices = [
        SelectChoice("0", _("Choose your authority")),
        *authority_choices_by_country(language),
    ]
    return form


def _registration(form: RegistrationForm, language: str) -> Registration:
    return Registration(
        email=form.email.data or "",
        password=form.password.data or "",
        given_name=form.given_name.data or "",
        family_name=form.family_name.data or "",
        patronymic=form.patronymic.data,
        native_name=form.native_name.data,
        country_code=form.country.data or "",
        authority_id=form.authority.data or 0,
        sex=form.sex.data or None,
        position=form.position.data,
        preferred_language=language,
    )


@bp.route("/language", methods=["POST"])
@allow(PUBLIC)
def set_language() -> Response:
    language = request.form.get("language", "")  # the switcher in base.html: one field, no form class
    if language in LANGUAGES:
        session["language"] = language
        if current_user.is_authenticated and current_user.preferred_language != language:
            # The explicit choice is the signed-in user's preference from now on (mails use it too).
            current_user.preferred_language = language
    return redirect(safe_next_url(request.form.get("next")) or url_for("courses.catalogue"))
