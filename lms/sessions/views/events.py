"""International events (issue 20): participant details, visa invitation letters, the venue's list.

Every page is for signed-in people and decides by object (lms.sessions.participants): the participant
themself, the focal point of the authority the place counts for, admins. Anyone else (another trainee,
another authority's focal point, any trainer) gets 404, and so does a run that is not international.
"""

from __future__ import annotations

from flask import Response, abort, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import current_user
from werkzeug.wrappers import Response as BaseResponse
from wtforms import SelectChoice

from lms.auth.access import AUTHENTICATED, allow
from lms.auth.models import Role, User
from lms.config import LANGUAGES
from lms.enrolment.models import SEAT_STATUSES, CourseRun, Enrolment
from lms.extensions import db
from lms.i18n import LANGUAGE_NAMES, current_language
from lms.orgs.queries import country_choices
from lms.sessions import letters, participants
from lms.sessions.event_forms import ParticipantDetailsForm
from lms.sessions.models import ParticipantDetails
from lms.sessions.views.base import bp
from lms.unit_of_work import refusals_into


def _event_run(run_id: int) -> CourseRun:
    run = db.session.get(CourseRun, run_id)
    if run is None or not run.is_international:
        abort(404)
    return run


def _actor() -> User:
    return current_user._get_current_object()


@bp.get("/runs/<int:run_id>/event")
@allow(AUTHENTICATED)
def event(run_id: int) -> str:
    run, actor = _event_run(run_id), _actor()
    rows = participants.event_participants(run, actor)
    if not rows and not participants.is_admin(actor):
        abort(404)
    return render_template(
        "sessions/events.html",
        run=run,
        rows=rows,
        facts=letters.event_facts(run),
        is_admin=participants.is_admin(actor),
        seat_statuses=SEAT_STATUSES,
        missing_for_letter=participants.missing_for_letter,
        languages=LANGUAGE_NAMES,
    )


def _details_form(
    enrolment: Enrolment, details: ParticipantDetails | None, shows_needs: bool
) -> ParticipantDetailsForm:
    form = ParticipantDetailsForm(obj=details)
    form.nationality.choices = [SelectChoice("", _("Choose…")), *country_choices(current_language())]
    if not shows_needs and request.method == "GET":  # a focal point types needs, never reads them back
        form.dietary_needs.data = form.accessibility_needs.data = ""
    return form


def _change(form: ParticipantDetailsForm, shows_needs: bool) -> participants.DetailsChange:
    def needs(value: str | None) -> str | None:
        return value if shows_needs or (value or "").strip() else None  # empty from a focal point: kept

    return participants.DetailsChange(
        passport_name=form.passport_name.data,
        passport_number=form.passport_number.data,
        nationality=form.nationality.data,
        date_of_birth=form.date_of_birth.data,
        dietary_needs=needs(form.dietary_needs.data),
        accessibility_needs=needs(form.accessibility_needs.data),
    )


@bp.route("/runs/<int:run_id>/event/participants/<int:enrolment_id>", methods=["GET", "POST"])
@allow(AUTHENTICATED)
def participant_details(run_id: int, enrolment_id: int) -> tuple[str, int] | BaseResponse:
    run, actor = _event_run(run_id), _actor()
    enrolment = participants.event_enrolment(run, enrolment_id, actor)
    details = participants.details_of(enrolment.id)
    shows_needs = participants.sees_needs(actor, enrolment)
    form = _details_form(enrolment, details, shows_needs)
    if form.validate_on_submit():
        with refusals_into(form):
            participants.save_details(enrolment, _change(form, shows_needs), actor=actor)
            flash(_("The participant's details are saved."), "success")
            return redirect(url_for("sessions.event", run_id=run_id))
    page = render_template(
        "sessions/events_details.html", run=run, enrolment=enrolment, details=details, form=form,
        shows_needs=shows_needs,
    )  # fmt: skip
    return page, 422 if form.errors or form.form_errors else 200


@bp.get("/runs/<int:run_id>/event/letters/<int:enrolment_id>.pdf")
@allow(AUTHENTICATED)
def visa_letter(run_id: int, enrolment_id: int) -> Response:
    enrolment = participants.event_enrolment(_event_run(run_id), enrolment_id, _actor())
    language = request.args.get("language", "en")
    pdf = letters.visa_letter_pdf(enrolment, language if language in LANGUAGES else "en")
    response = Response(pdf, mimetype="application/pdf")
    response.headers["Content-Disposition"] = f'attachment; filename="invitation-letter-{enrolment_id}.pdf"'
    response.headers["Cache-Control"] = "private, no-store"  # passport data: no cache keeps it
    return response


@bp.get("/runs/<int:run_id>/event/participants.csv")
@allow(Role.ADMIN)
def participant_list(run_id: int) -> Response:
    run = _event_run(run_id)
    rows = participants.event_participants(run, _actor())
    response = Response(letters.participant_list_csv(rows), mimetype="text/csv")
    response.headers["Content-Disposition"] = f'attachment; filename="participants-run-{run_id}.csv"'
    response.headers["Cache-Control"] = "private, no-store"
    return response
