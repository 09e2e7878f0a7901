"""A signed-in person's own pages: profile, password, their data, and email confirmation."""

from __future__ import annotations

from typing import Any

from flask import Blueprint, abort, flash, jsonify, redirect, render_template, url_for
from flask_babel import gettext as _
from flask_login import current_user
from flask_wtf import FlaskForm
from werkzeug.wrappers import Response

from lms.auth import account
from lms.auth.access import AUTHENTICATED, PUBLIC, allow
from lms.auth.account_forms import PasswordChangeForm, ProfileForm
from lms.auth.models import User
from lms.auth.profile import ProfileChange
from lms.auth.session_stamp import stamp_session
from lms.auth.user_references import linked_row_counts
from lms.enrolment.queries import dashboard_rows
from lms.i18n import current_language
from lms.security.gdpr import personal_data
from lms.unit_of_work import on_refusal, refusals_into

bp = Blueprint("account", __name__)


@bp.route("/account", methods=["GET", "POST"])
@allow(AUTHENTICATED)
def profile() -> tuple[str, int] | Response:
    user: User = current_user._get_current_object()  # the real object, for assignments
    form = ProfileForm(obj=user)
    if form.validate_on_submit():
        with refusals_into(form):
            account.update_own_profile(user, _profile_change(form))
            flash(_("Your profile is saved."), "success")
            return redirect(url_for("account.profile"))
    status = 422 if form.errors or form.form_errors else 200
    return render_template("auth/account.html", form=form, resend_form=FlaskForm(), user=user), status


def _profile_change(form: ProfileForm) -> ProfileChange:
    return ProfileChange(
        given_name=form.given_name.data or "",
        family_name=form.family_name.data or "",
        patronymic=form.patronymic.data,
        native_name=form.native_name.data,
        preferred_language=form.preferred_language.data,
        timezone=form.timezone.data,
        position=form.position.data,
    )


@bp.route("/account/password", methods=["GET", "POST"])
@allow(AUTHENTICATED)
def password() -> tuple[str, int] | Response:
    form = PasswordChangeForm()
    if form.validate_on_submit():
        user: User = current_user._get_current_object()
        with refusals_into(form):
            account.change_password(user, form.current_password.data or "", form.new_password.data or "")
            stamp_session(user)  # this session goes on (the new password's fingerprint); the others end
            flash(_("Your password is changed."), "success")
            return redirect(url_for("account.profile"))
    status = 422 if form.errors or form.form_errors else 200
    return render_template("auth/password.html", form=form), status


def _my_data(user: User) -> dict[str, Any]:
    return {
        "profile": {
            "email": user.email,
            "email_confirmed_at": user.email_confirmed_at.isoformat() if user.email_confirmed_at else None,
            "given_name": user.given_name,
            "family_name": user.family_name,
            "patronymic": user.patronymic,
            "native_name": user.native_name,
            "sex": user.sex,
            "birth_year_band": user.birth_year_band,
            "position": user.position,
            "country": user.country_code,
            "authority": user.authority.name if user.authority else None,
            "preferred_language": user.preferred_language,
            "timezone": user.timezone,
            "created_at": user.created_at.isoformat(),
            "last_login_at": user.last_login_at.isoformat() if user.last_login_at else None,
        },
        "roles": sorted(f"{r.role}:{r.authority.name}" if r.authority else str(r.role) for r in user.roles),
        "enrolments": [
            {
                "course": row.course.text("title", row.enrolment.language or "en"),
                "run": row.run.title,
                "status": row.enrolment.status,
                "enrolled_at": row.enrolment.enrolled_at.isoformat(),
                "completed_at": row.enrolment.completed_at.isoformat()
                if row.enrolment.completed_at
                else None,
                "lessons_done": row.progress.done,
                "lessons_total": row.progress.total,
            }
            for row in dashboard_rows(user.id)
        ],
        "records_held": linked_row_counts(user.id),
        **personal_data(user),  # enrolment history, completions, attempts, certificates, audit
    }


@bp.route("/account/data")
@allow(AUTHENTICATED)
def my_data() -> str:
    user = current_user._get_current_object()
    return render_template("auth/my_data.html", data=_my_data(user), language=current_language())


@bp.route("/account/data.json")
@allow(AUTHENTICATED)
def my_data_json() -> Response:
    response = jsonify(_my_data(current_user._get_current_object()))
    response.headers["Content-Disposition"] = 'attachment; filename="my-academy-data.json"'
    return response


@bp.route("/account/confirm/resend", methods=["POST"])
@allow(AUTHENTICATED)
@on_refusal(lambda: url_for("account.profile"))
def resend_confirmation() -> Response:
    if not FlaskForm().validate_on_submit():
        abort(400)
    user: User = current_user._get_current_object()
    if user.email_confirmed_at is not None:  # nothing to send: a note, not an error
        flash(_("Your email address is already confirmed."), "info")
        return redirect(url_for("account.profile"))
    account.issue_email_confirmation(user)
    flash(_("We sent a new confirmation link to %(email)s.", email=user.email), "success")
    return redirect(url_for("account.profile"))


@bp.route("/confirm-email/<token>", methods=["GET", "POST"])
@allow(PUBLIC)
def confirm_email(token: str) -> tuple[str, int] | Response:
    # Opening the link shows a button; only the POST confirms, because mail scanners fetch links.
    form = FlaskForm()
    if form.validate_on_submit():
        with refusals_into(form):
            account.confirm_email(token)
            flash(_("Thank you: your email address is confirmed. You can now enrol in courses."), "success")
            return redirect(url_for("courses.dashboard" if current_user.is_authenticated else "auth.login"))
        return render_template("auth/confirm_email.html", problem=form.form_errors[-1], form=form), 410
    problem = account.confirmation_problem(token)
    return render_template("auth/confirm_email.html", problem=problem, form=form), 410 if problem else 200
