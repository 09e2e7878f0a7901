"""A run's sessions: admins and the trainers of the run's course manage them (list, new, edit, cancel);
a trainer's upcoming sessions; a hybrid participant's choice of how to attend. Views parse and call a
service; the request commits once (lms/unit_of_work.py).

Which trainer may manage which run is decided by the course assignments of lms.authoring (a feature above
sessions): ``require_course_trainer`` here, in the page, not in the services.
"""

from __future__ import annotations

from datetime import datetime

from babel.dates import format_date as babel_format_date
from babel.dates import format_datetime as babel_format_datetime
from babel.dates import format_time as babel_format_time
from flask import abort, flash, redirect, render_template, url_for
from flask_babel import get_locale, get_timezone
from flask_babel import gettext as _
from flask_login import current_user
from werkzeug.wrappers import Response
from wtforms import SelectChoice

from lms.auth.access import AUTHENTICATED, allow
from lms.auth.models import Role
from lms.authoring.access import require_course_trainer, trainer_course_ids
from lms.enrolment.models import CourseRun, Enrolment
from lms.extensions import db
from lms.i18n import current_language
from lms.orgs.queries import country_choices
from lms.sessions import queries, scheduling, services
from lms.sessions.forms import AttendanceModeForm, CancelSessionForm, SessionForm
from lms.sessions.models import TrainingSession
from lms.sessions.views.base import bp
from lms.unit_of_work import on_refusal, refusals_into

# --- What every page showing sessions uses --------------------------------------------------------------


@bp.app_template_filter("hours_minutes")
def hours_minutes(minutes: int | None) -> str:
    """630 -> "10 h 30"; 840 -> "14 h"."""
    hours, rest = scheduling.hours_and_minutes(int(minutes or 0))
    if rest == 0:
        return _("%(hours)s h", hours=hours)
    return _("%(hours)s h %(minutes)s", hours=hours, minutes=f"{rest:02d}")


@bp.app_template_filter("venue_time")
def venue_time(at: datetime | None, zone_name: str | None, format: str = "medium") -> str:
    """A UTC time in the venue's zone and the page's language (the viewer's own zone is ``ldatetime``)."""
    if at is None:
        return ""
    zone = scheduling.zone_of(zone_name) or scheduling.zone_of("UTC")
    return babel_format_datetime(at, format, tzinfo=zone, locale=get_locale())


@bp.app_template_global("time_span")
def time_span(starts: datetime, ends: datetime, zone_name: str | None = None) -> str:
    """A session's span, "Dec 9, 2026, 09:00 - 10:30", in the page's language: in the viewer's zone,
    or in ``zone_name`` (the venue's); the end's date is written only when it falls on another day."""
    zone = (scheduling.zone_of(zone_name) if zone_name else get_timezone()) or scheduling.zone_of("UTC")
    locale = get_locale()
    first_day = babel_format_date(starts.astimezone(zone), "medium", locale=locale)
    last_day = babel_format_date(ends.astimezone(zone), "medium", locale=locale)
    start = babel_format_time(starts, "short", tzinfo=zone, locale=locale)
    end = babel_format_time(ends, "short", tzinfo=zone, locale=locale)
    if first_day == last_day:
        return f"{first_day}, {start} – {end}"
    return f"{first_day}, {start} – {last_day}, {end}"


@bp.app_template_global("viewer_zone")
def viewer_zone() -> str | None:
    """The signed-in person's zone when they set a valid one; None: times are shown in UTC."""
    zone = None if current_user.is_anonymous else current_user.timezone
    return zone if scheduling.zone_of(zone) is not None else None


# --- Managing a run's sessions -----------------------------------------------------------------------------


def _managed_run(run_id: int) -> CourseRun:
    run = db.session.get(CourseRun, run_id) or abort(404)
    require_course_trainer(run.course_id)  # admins, and trainers assigned to the run's course; 403 otherwise
    return run


def _managed_session(session_id: int) -> tuple[TrainingSession, CourseRun]:
    session = db.session.get(TrainingSession, session_id) or abort(404)
    return session, _managed_run(session.run_id)


def _session_form(session: TrainingSession | None = None) -> SessionForm:
    form = SessionForm(obj=session)
    people = [SelectChoice(u.id, u.full_name) for u in queries.trainer_choices()]
    form.offer(country_choices(current_language()), people)
    if session is not None and not form.is_submitted():
        form.fill_from(session)
    elif session is None and not form.is_submitted():
        form.timezone.data = viewer_zone() or "UTC"
    return form


@bp.route("/runs/<int:run_id>/sessions")
@allow(Role.ADMIN, Role.TRAINER)
def manage(run_id: int) -> str:
    run = _managed_run(run_id)
    sessions = queries.run_sessions(run.id)
    return render_template(
        "sessions/manage.html", run=run, sessions=sessions, trainer_names=queries.trainer_names(sessions)
    )


@bp.route("/runs/<int:run_id>/sessions/new", methods=["GET", "POST"])
@allow(Role.ADMIN, Role.TRAINER)
def new(run_id: int) -> tuple[str, int] | Response:
    run = _managed_run(run_id)
    form = _session_form()
    if form.validate_on_submit():
        with refusals_into(form):
            services.schedule_session(run, form.data_for_service(), actor_id=current_user.id)
            flash(_("The session was scheduled."), "success")
            return redirect(url_for("sessions.manage", run_id=run_id))
    status = 422 if form.is_submitted() else 200
    return render_template("sessions/form.html", form=form, run=run, session=None), status


@bp.route("/sessions/<int:session_id>/edit", methods=["GET", "POST"])
@allow(Role.ADMIN, Role.TRAINER)
def edit(session_id: int) -> tuple[str, int] | Response:
    session, run = _managed_session(session_id)
    if session.cancelled_at is not None:
        abort(404)
    form = _session_form(session)
    if form.validate_on_submit():
        with refusals_into(form):
            services.update_session(session, form.data_for_service(), actor_id=current_user.id)
            flash(_("The session was saved."), "success")
            return redirect(url_for("sessions.manage", run_id=run.id))
    status = 422 if form.is_submitted() else 200
    return render_template("sessions/form.html", form=form, run=run, session=session), status


@bp.route("/sessions/<int:session_id>/cancel", methods=["GET", "POST"])
@allow(Role.ADMIN, Role.TRAINER)
@on_refusal(lambda session_id: url_for("sessions.edit", session_id=session_id))
def cancel(session_id: int) -> str | Response:
    session, run = _managed_session(session_id)
    if session.cancelled_at is not None:
        abort(404)
    form = CancelSessionForm()
    if form.validate_on_submit():
        services.cancel_session(session, actor_id=current_user.id, reason=form.reason.data)
        flash(_("The session was cancelled. Participants' calendars are updated."), "success")
        return redirect(url_for("sessions.manage", run_id=run.id))
    return render_template("sessions/cancel.html", form=form, run=run, session=session)


@bp.route("/trainer/sessions")
@allow(Role.ADMIN, Role.TRAINER)
def trainer_sessions() -> str:
    course_ids = trainer_course_ids()  # None: an admin, who manages every run
    lines = queries.trainer_sessions(current_user.id, course_ids)
    # A session may name a trainer of another course: its run's title is then no link to a page they
    # may not open (managing a run's sessions is for its course's trainers).
    return render_template("sessions/trainer.html", lines=lines, managed_course_ids=course_ids)


# --- A participant's choice in a hybrid run -----------------------------------------------------------------


@bp.route("/runs/<int:run_id>/attendance-mode", methods=["POST"])
@allow(AUTHENTICATED)
@on_refusal(lambda run_id: url_for("enrolment.run", run_id=run_id))
def attendance_mode(run_id: int) -> Response:
    form = AttendanceModeForm()
    if not form.validate_on_submit():
        abort(400)
    place: Enrolment | None = queries.active_place(current_user.id, run_id)
    if place is None:
        abort(404)  # no place in this run (or no such run): nothing to choose
    services.set_attendance_mode(place, form.mode.data or "", actor_id=current_user.id)
    flash(_("Your choice was saved."), "success")
    return redirect(url_for("enrolment.run", run_id=run_id))
