"""The paper side of a session's register (issue 20): the printable sign-in sheet PDF, and the scans of
signed sheets kept as evidence (upload, list on the register page, download). Same people as the register
(lms/sessions/views/attendance.py: admins, the session's and the course's trainers)."""

from __future__ import annotations

from flask import Response as FlaskResponse
from flask import flash, redirect, send_file, url_for
from flask_babel import gettext as _
from flask_login import current_user
from werkzeug.wrappers import Response

from lms.auth.access import allow
from lms.auth.models import Role
from lms.sessions import register_queries, sheets
from lms.sessions.attendance_forms import ScanForm
from lms.sessions.views.attendance import register_of, venue_time
from lms.sessions.views.base import bp
from lms.settings.services import get_settings
from lms.unit_of_work import on_refusal


@bp.route("/sessions/<int:session_id>/sign-in-sheet.pdf")
@allow(Role.TRAINER, Role.ADMIN)
def sign_in_sheet(session_id: int) -> Response:
    session, run = register_of(session_id)
    venue = ", ".join(
        part for part in (session.venue_name, session.venue_address, session.venue_city) if part
    ) or (_("Online") if session.meeting_url else "")
    when = f"{venue_time(session, session.starts_at)} – {venue_time(session, session.ends_at)}"
    pdf = sheets.sign_in_sheet_pdf(
        session, run.title, register_queries.register_lines(session),
        academy_name=get_settings().academy_name, when=when, venue=venue,
    )  # fmt: skip
    response = FlaskResponse(pdf, mimetype="application/pdf")
    response.headers["Content-Disposition"] = f'inline; filename="sign-in-sheet-{session.id}.pdf"'
    return response


@bp.route("/sessions/<int:session_id>/sign-in-sheets", methods=["POST"])
@allow(Role.TRAINER, Role.ADMIN)
@on_refusal(lambda session_id: url_for("sessions.roll_call", session_id=session_id))
def upload_sheet(session_id: int) -> Response:
    session, _run = register_of(session_id)
    form = ScanForm()
    if not form.validate_on_submit():
        flash(_("Choose the scanned sheet to upload."), "error")
        return redirect(url_for("sessions.roll_call", session_id=session_id))
    upload = form.scan.data
    data = upload.stream.read(sheets.MAX_SCAN_BYTES + 1)
    sheets.store_scan(session, upload.filename or "", data, actor_id=current_user.id)
    flash(_("The scanned sheet is kept with this session."), "success")
    return redirect(url_for("sessions.roll_call", session_id=session_id))


@bp.route("/sessions/<int:session_id>/sign-in-sheets/<int:scan_id>")
@allow(Role.TRAINER, Role.ADMIN)
def download_sheet(session_id: int, scan_id: int) -> Response:
    session, _run = register_of(session_id)
    scan = register_queries.sheet_scan(session.id, scan_id)
    return send_file(
        sheets.scan_path(scan),
        mimetype=scan.content_type,
        as_attachment=True,
        download_name=f"sign-in-sheet-{session.id}-{scan.id}.{scan.stored_name.rsplit('.', 1)[-1]}",
    )
