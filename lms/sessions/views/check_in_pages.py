"""A participant's self check-in (issue 20): the URL of the room's QR code, and the typed short code.

Opening the QR URL writes nothing: the page says whether the code would be accepted and offers a "Check
in" button (a POST; a GET never records attendance). The code is checked again when the button is
pressed; it stays good for one more rotation (30 to 60 seconds in all).
"""

from __future__ import annotations

from flask import flash, redirect, render_template, url_for
from flask_babel import gettext as _
from flask_login import current_user
from werkzeug.wrappers import Response

from lms.auth.access import AUTHENTICATED, allow
from lms.db import utcnow
from lms.sessions import self_check_in
from lms.sessions.attendance_forms import CheckInForm, TypedCodeForm
from lms.sessions.models import Attendance, AttendanceStatus, TrainingSession
from lms.sessions.views.base import bp
from lms.unit_of_work import on_refusal, refusals_into

MAX_CODE_LENGTH = 64


@bp.route("/check-in/<int:session_id>/<check_in_code>")
@allow(AUTHENTICATED)
def check_in_scan(session_id: int, check_in_code: str) -> str:
    code = check_in_code[:MAX_CODE_LENGTH]
    session = self_check_in.session_for_check_in(session_id)
    refusal = self_check_in.check_in_refusal(session, current_user, code, utcnow(), typed=False)
    return render_template(
        "sessions/attendance_check_in.html",
        session=session,
        refusal=refusal.message if refusal else None,
        form=CheckInForm(),
        code=code,
    )


@bp.route("/check-in/<int:session_id>/<check_in_code>/confirm", methods=["POST"])
@allow(AUTHENTICATED)
@on_refusal(lambda session_id, check_in_code: url_for("sessions.check_in_typed"))
def confirm_check_in(session_id: int, check_in_code: str) -> Response:
    session = self_check_in.session_for_check_in(session_id)
    if not CheckInForm().validate_on_submit():
        flash(_("The form has expired or was tampered with. Please submit it again."), "error")
        return redirect(url_for("sessions.check_in_typed"))
    row = self_check_in.check_in(session, current_user, check_in_code[:MAX_CODE_LENGTH])
    flash(_checked_in_message(session, row), "success")
    return redirect(url_for("sessions.check_in_typed"))


@bp.route("/check-in", methods=["GET", "POST"])
@allow(AUTHENTICATED)
def check_in_typed() -> str | Response:
    form = TypedCodeForm()
    if form.validate_on_submit():
        with refusals_into(form):
            row = self_check_in.check_in_typed(current_user, form.code.data or "")
            session = self_check_in.session_for_check_in(row.session_id)
            flash(_checked_in_message(session, row), "success")
            return redirect(url_for("sessions.check_in_typed"))
    return render_template("sessions/attendance_check_in_typed.html", form=form)


def _checked_in_message(session: TrainingSession, row: Attendance) -> str:
    if row.status == AttendanceStatus.LATE:
        return _(
            "You are checked in to %(session)s as late: %(minutes)s minutes count.",
            session=session.title,
            minutes=row.minutes,
        )
    return _("You are checked in to %(session)s: present.", session=session.title)
