"""The attendance register of a session (issue 20): the trainer's roll call on a phone (a plain form, and
lms/static/js/roll-call.js which keeps marks on the device while offline and sends them as JSON), and the
room's screen with the rotating check-in code. The participant's check-in pages are in check_in_pages.py,
the sign-in sheet and its scans in sheet_pages.py.

Who may keep a session's register: admins, the session's trainers and the trainers assigned to the course
(lms/authoring/access.py); anyone else gets 403, an unknown session 404.
"""

from __future__ import annotations

from datetime import datetime
from zoneinfo import ZoneInfo

import segno
from babel.dates import format_datetime
from flask import flash, redirect, render_template, request, url_for
from flask_babel import get_locale
from flask_babel import gettext as _
from flask_login import current_user
from sqlalchemy import select
from werkzeug.wrappers import Response

from lms.auth.access import allow
from lms.auth.models import Role
from lms.authoring.access import require_course_trainer
from lms.certificates.models import Certificate, CertificateStatus
from lms.db import utcnow
from lms.enrolment.models import CourseRun, Enrolment
from lms.extensions import db
from lms.sessions import check_in as codes
from lms.sessions import register_queries
from lms.sessions.access import is_session_trainer
from lms.sessions.attendance import RollCallResult, apply_roll_call
from lms.sessions.attendance_forms import (
    RollCallForm,
    ScanForm,
    parse_form_marks,
    parse_json_marks,
    parse_time,
)
from lms.sessions.models import AttendanceStatus, TrainingSession
from lms.sessions.views.base import bp
from lms.unit_of_work import on_refusal


def register_of(session_id: int) -> tuple[TrainingSession, CourseRun]:
    """The session and its run, when the signed-in person may keep its register (else 404/403)."""
    session = register_queries.register_session(session_id)
    run = register_queries.session_run(session)
    if not is_session_trainer(current_user, session):
        require_course_trainer(run.course_id)  # admins pass; another course's trainer gets 403
    return session, run


def venue_time(session: TrainingSession, moment: datetime) -> str:
    """A time in the venue's zone, with the zone's name (the room's clock)."""
    try:
        zone = ZoneInfo(session.timezone)
    except (KeyError, ValueError):
        zone = ZoneInfo("UTC")
    text = format_datetime(moment, "medium", tzinfo=zone, locale=str(get_locale() or "en"))
    return f"{text} ({session.timezone})"


def status_labels() -> dict[str, str]:
    return {
        AttendanceStatus.PRESENT: _("Present"),
        AttendanceStatus.LATE: _("Late"),
        AttendanceStatus.LEFT_EARLY: _("Left early"),
        AttendanceStatus.ABSENT: _("Absent"),
        AttendanceStatus.EXCUSED: _("Excused"),
    }


@bp.route("/sessions/<int:session_id>/attendance")
@allow(Role.TRAINER, Role.ADMIN)
def roll_call(session_id: int) -> str:
    session, run = register_of(session_id)
    return render_template(
        "sessions/roll_call.html",
        session=session,
        run=run,
        lines=register_queries.register_lines(session),
        labels=status_labels(),
        statuses=[str(status) for status in AttendanceStatus],
        form=RollCallForm(loaded_at=utcnow().isoformat()),
        when=venue_time(session, session.starts_at),
        scans=register_queries.sheet_scans(session.id),
        scan_form=ScanForm(),
    )


@bp.route("/sessions/<int:session_id>/attendance/save", methods=["POST"])
@allow(Role.TRAINER, Role.ADMIN)
@on_refusal(lambda session_id: url_for("sessions.roll_call", session_id=session_id))
def save_roll_call(session_id: int) -> Response:
    session, _run = register_of(session_id)
    form = RollCallForm()
    if not form.validate_on_submit():
        flash(_("The form has expired or was tampered with. Please submit it again."), "error")
        return redirect(url_for("sessions.roll_call", session_id=session_id))
    ids = [line.enrolment_id for line in register_queries.register_lines(session)]
    marks = parse_form_marks(request.form, ids, parse_time(form.loaded_at.data) or utcnow())
    result = apply_roll_call(session, marks, actor_id=current_user.id)
    flash(_roll_call_message(result), "success")
    if _has_certificate(result.changed):
        flash(_("certificate already issued; completion re-evaluated"), "warning")
    return redirect(url_for("sessions.roll_call", session_id=session_id))


@bp.route("/sessions/<int:session_id>/attendance/marks", methods=["POST"])
@allow(Role.TRAINER, Role.ADMIN)
def send_marks(session_id: int) -> dict[str, object]:
    """The phone's marks, as JSON (roll-call.js); a refusal answers JSON with its message."""
    session, _run = register_of(session_id)
    result = apply_roll_call(
        session, parse_json_marks(request.get_json(silent=True)), actor_id=current_user.id
    )
    warning = (
        _("certificate already issued; completion re-evaluated") if _has_certificate(result.changed) else None
    )
    return {
        "changed": result.changed,
        "unchanged": result.unchanged,
        "newer_kept": result.newer_kept,
        "warning": warning,
    }


@bp.route("/sessions/<int:session_id>/check-in-screen")
@allow(Role.TRAINER, Role.ADMIN)
def check_in_screen(session_id: int) -> str:
    session, run = register_of(session_id)
    now = utcnow()
    shown = codes.screen_codes(session.check_in_secret, session.id, now)
    url = url_for("sessions.check_in_scan", session_id=session.id, check_in_code=shown.qr, _external=True)
    return render_template(
        "sessions/attendance_screen.html",
        session=session,
        run=run,
        codes=shown,
        qr_svg=segno.make(url, error="m", micro=False).svg_inline(
            scale=10, omitsize=True, svgclass="qr-code"
        ),
        typed_url=url_for("sessions.check_in_typed", _external=True),
        open_now=codes.check_in_open(session.starts_at, session.ends_at, now)
        and session.cancelled_at is None,
        when=venue_time(session, session.starts_at),
    )


def _roll_call_message(result: RollCallResult) -> str:
    message = _("Attendance saved: %(changed)s changed.", changed=len(result.changed))
    if result.newer_kept:
        kept = _("%(count)s lines changed meanwhile were kept.", count=len(result.newer_kept))
        message = f"{message} {kept}"
    return message


def _has_certificate(enrolment_ids: list[int]) -> bool:
    """Attendance changed for someone already certified: the certificate stays (never revoked here)."""
    if not enrolment_ids:
        return False
    found = db.session.scalar(
        select(Certificate.id)
        .join(
            Enrolment, (Enrolment.user_id == Certificate.user_id) & (Enrolment.run_id == Certificate.run_id)
        )
        .where(Enrolment.id.in_(enrolment_ids), Certificate.status == CertificateStatus.ACTIVE)
        .limit(1)
    )
    return found is not None
