from __future__ import annotations

from flask import Blueprint, Flask, abort, flash, redirect, render_template, send_file, url_for
from flask_babel import gettext as _
from flask_login import current_user
from flask_wtf import FlaskForm
from werkzeug.wrappers import Response

from lms.auth.access import PUBLIC, allow
from lms.auth.models import Role
from lms.settings import services
from lms.settings.forms import LogoForm, SettingsForm
from lms.settings.sniff import MAX_LOGO_BYTES
from lms.unit_of_work import on_refusal, refusals_into

bp = Blueprint("settings", __name__)


def _settings_edit_url() -> str:
    return url_for("settings.edit")


def _form_data(current: services.EffectiveSettings) -> dict[str, object]:
    return {
        "academy_name": current.academy_name,
        "contact_email": current.contact_email,
        "default_language": current.default_language,
        "registration_policy": current.registration_policy,
        "allowed_email_domains": "\n".join(current.allowed_email_domains),
        "public_base_url": current.public_base_url,
        "mail_sender": current.mail_sender,
    }


def _change(form: SettingsForm) -> services.SettingsChange:
    return services.SettingsChange(
        academy_name=form.academy_name.data or "",
        contact_email=form.contact_email.data or "",
        default_language=form.default_language.data,
        allowed_email_domains=tuple((form.allowed_email_domains.data or "").split()),
        registration_policy=form.registration_policy.data,
        public_base_url=form.public_base_url.data or "",
        mail_sender=form.mail_sender.data or "",
    )


@bp.route("/admin/settings", methods=["GET", "POST"])
@allow(Role.ADMIN)
def edit() -> tuple[str, int] | Response:
    form = SettingsForm(data=_form_data(services.get_settings()))
    if form.validate_on_submit():
        with refusals_into(form):
            services.update_settings(_change(form), actor_id=current_user.id)
            flash(_("The settings are saved."), "success")
            return redirect(_settings_edit_url())
    status = 422 if form.errors or form.form_errors else 200
    return render_template(
        "settings/edit.html",
        form=form,
        logo_form=LogoForm(),
        remove_form=FlaskForm(),
        settings=services.get_settings(),
        did_web=services.did_web_identifier(),
    ), status


@bp.route("/admin/settings/logo", methods=["POST"])
@allow(Role.ADMIN)
@on_refusal(_settings_edit_url)
def upload_logo() -> Response:
    form = LogoForm()
    if not form.validate_on_submit():
        flash(_("Choose an image file to upload."), "error")
        return redirect(_settings_edit_url())
    services.save_logo(form.logo.data.read(MAX_LOGO_BYTES + 1), actor_id=current_user.id)
    flash(_("The logo is updated."), "success")
    return redirect(_settings_edit_url())


@bp.route("/admin/settings/logo/remove", methods=["POST"])
@allow(Role.ADMIN)
def remove_logo() -> Response:
    if not FlaskForm().validate_on_submit():
        abort(400)
    services.remove_logo(actor_id=current_user.id)
    flash(_("The logo is removed."), "success")
    return redirect(_settings_edit_url())


@bp.route("/branding/logo")
@allow(PUBLIC)
def logo() -> Response:
    path = services.logo_path()
    if path is None:
        abort(404)
    mimetype = "image/png" if path.suffix == ".png" else "image/jpeg"
    response = send_file(path, mimetype=mimetype, max_age=300)
    response.headers["X-Content-Type-Options"] = "nosniff"
    response.headers["Content-Security-Policy"] = "default-src 'none'"
    return response


def register_settings_context(app: Flask) -> None:
    """Templates show the academy's name and logo from the settings, not the configuration
    (registered after lms.i18n's processor, so these values win)."""

    @app.context_processor
    def academy_context() -> dict[str, object]:
        settings = services.get_settings()
        return {
            "academy_name": settings.academy_name,
            "academy_logo_url": url_for("settings.logo", v=settings.logo_filename)
            if settings.logo_filename
            else None,
            "academy_contact_email": settings.contact_email,
        }
