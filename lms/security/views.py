"""Password reset, two-factor sign-in and set-up, and the admin's erase of a person."""

from __future__ import annotations

import time

import segno
from flask import Blueprint, abort, flash, redirect, render_template, request, session, url_for
from flask_babel import gettext as _
from flask_login import current_user
from flask_wtf import FlaskForm
from werkzeug.wrappers import Response

from lms.auth.access import ANONYMOUS, PUBLIC, allow
from lms.auth.models import Role, User
from lms.auth.passwords import verify_password
from lms.extensions import db
from lms.security import gdpr, password_reset, sign_in_limits, two_factor
from lms.security.forms import (
    DisableTwoFactorForm,
    EraseForm,
    ForgotPasswordForm,
    ResetPasswordForm,
    TwoFactorCodeForm,
)
from lms.security.models import TwoFactorCredential
from lms.security.sign_in_steps import (
    PENDING_NEXT,
    PENDING_SECONDS,
    PENDING_SINCE,
    PENDING_USER,
    complete_sign_in,
)
from lms.unit_of_work import refusals_into

bp = Blueprint("security", __name__)


@bp.route("/forgot-password", methods=["GET", "POST"])
@allow(ANONYMOUS)
def forgot_password() -> str | Response:
    form = ForgotPasswordForm()
    if form.validate_on_submit():
        if sign_in_limits.password_reset_allowed(form.email.data or ""):  # its own budget, not sign-in's
            password_reset.request_password_reset(form.email.data or "")
        # One answer whether or not the address has an account (no enumeration).
        flash(
            _(
                "If an account uses this address, we have sent it a link to choose a new password. "
                "It works for one hour."
            ),
            "info",
        )
        return redirect(url_for("auth.login"))
    return render_template("security/forgot_password.html", form=form)


@bp.route("/reset-password/<token>", methods=["GET", "POST"])
@allow(PUBLIC)
def reset_password(token: str) -> tuple[str, int] | Response:
    form = ResetPasswordForm()
    problem = None
    if form.validate_on_submit():
        with refusals_into(form):
            password_reset.reset_password(token, form.new_password.data or "")
            session.clear()
            flash(_("Your password is changed. Sign in with the new one."), "success")
            return redirect(url_for("auth.login"))
    elif (problem := password_reset.reset_problem(token)) is not None:
        return render_template("security/reset_password.html", form=form, problem=problem), 410
    status = 422 if form.errors or form.form_errors else 200
    return render_template("security/reset_password.html", form=form, problem=None), status


def _pending_user() -> User | None:
    user_id = session.get(PENDING_USER)
    since = session.get(PENDING_SINCE, 0)
    if (
        not isinstance(user_id, int)
        or not isinstance(since, int | float)
        or time.time() - since > PENDING_SECONDS
    ):
        return None
    user = db.session.get(User, user_id)
    return user if user is not None and user.active else None


@bp.route("/login/two-factor", methods=["GET", "POST"])
@allow(ANONYMOUS)
def two_factor_login() -> tuple[str, int] | Response:
    user = _pending_user()
    if user is None:
        session.pop(PENDING_USER, None)
        flash(_("Please sign in again."), "info")
        return redirect(url_for("auth.login"))
    form = TwoFactorCodeForm()
    if form.validate_on_submit():
        if not two_factor.second_factor_allowed(user.id):
            sign_in_limits.keep_counted_attempt()  # the answer is a 429, which the unit of work rolls back
            abort(429)
        if two_factor.verify_second_factor(user, form.code.data or ""):
            target = session.get(PENDING_NEXT)
            return complete_sign_in(user, target if isinstance(target, str) else None, second_factor=True)
        sign_in_limits.record_failed_sign_in(user.email, reason="second_factor")
        sign_in_limits.keep_counted_attempt()  # the failure stays in the audit log (a 401)
        form.form_errors.append(_("That code is not right."))
    status = 401 if form.form_errors else 200
    return render_template("security/two_factor_login.html", form=form), status


@bp.route("/account/two-factor", methods=["GET", "POST"])
@allow(Role.ADMIN, Role.FOCAL_POINT)
def two_factor_setup() -> tuple[str, int] | Response:
    user: User = current_user._get_current_object()
    form = TwoFactorCodeForm()
    if two_factor.confirmed_credential(user.id) is not None:
        return render_template(
            "security/two_factor_setup.html", enabled=True, form=form, disable_form=DisableTwoFactorForm()
        ), 200
    if request.method == "GET":
        credential: TwoFactorCredential | None = two_factor.two_factor_being_set_up(user)  # a lazy write
    else:
        credential = two_factor.pending_two_factor(user.id)
    if credential is None:  # a code sent before the page ever showed a secret
        flash(_("Start the set-up again."), "error")
        return redirect(url_for("security.two_factor_setup"))
    if form.validate_on_submit():
        with refusals_into(form):
            two_factor.confirm_two_factor(user, form.code.data or "")
            flash(
                _("Two-factor sign-in is on. You will be asked for a code each time you sign in."), "success"
            )
            return redirect(url_for("security.two_factor_setup"))
    return _setup_page(user, credential, form)


def _setup_page(user: User, credential: TwoFactorCredential, form: TwoFactorCodeForm) -> tuple[str, int]:
    """The set-up page: the secret as a QR code and as text, and the form for its first code."""
    qr = segno.make(two_factor.provisioning_uri(user, credential), error="m").svg_data_uri(scale=5)
    return render_template(
        "security/two_factor_setup.html", enabled=False, form=form, qr=qr, secret=credential.secret
    ), (422 if form.form_errors else 200)


@bp.route("/account/two-factor/disable", methods=["POST"])
@allow(Role.ADMIN, Role.FOCAL_POINT)
def two_factor_disable() -> Response:
    form = DisableTwoFactorForm()
    user: User = current_user._get_current_object()
    if form.validate_on_submit() and verify_password(user.password_hash, form.password.data or ""):
        two_factor.disable_two_factor(user, actor_id=user.id)
        flash(_("Two-factor sign-in is off."), "info")
    else:
        flash(_("Your password is not correct; two-factor sign-in stays on."), "error")
    return redirect(url_for("security.two_factor_setup"))


@bp.route("/admin/people/<int:user_id>/two-factor/reset", methods=["POST"])
@allow(Role.ADMIN)
def admin_reset_two_factor(user_id: int) -> Response:
    person = db.get_or_404(User, user_id)
    if not FlaskForm().validate_on_submit():
        abort(400)
    two_factor.disable_two_factor(person, actor_id=current_user.id)
    flash(_("Two-factor sign-in is reset; the person can set it up again."), "success")
    return redirect(url_for("admin.person", user_id=person.id))


@bp.route("/admin/people/<int:user_id>/erase", methods=["GET", "POST"])
@allow(Role.ADMIN)
def erase_person(user_id: int) -> tuple[str, int] | Response:
    person = db.get_or_404(User, user_id)
    form = EraseForm()
    if form.validate_on_submit():
        with refusals_into(form):
            files = gdpr.erase_person(person, actor_id=current_user.id, reason=form.reason.data or "")
            gdpr.delete_certificate_files_after_commit(files)
            flash(_("The person's personal data is erased; anonymous statistics are kept."), "success")
            return redirect(url_for("admin.person", user_id=person.id))
    status = 422 if form.errors or form.form_errors else 200
    return render_template("security/erase.html", form=form, person=person), status
