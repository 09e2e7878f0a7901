"""Course runs for trainees, focal points and admins. Views parse and call a service; the request commits once
(lms/unit_of_work.py)."""

from __future__ import annotations

from flask import abort, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import current_user
from flask_wtf import FlaskForm
from sqlalchemy import select
from werkzeug.wrappers import Response
from wtforms import SelectChoice

from lms.auth.access import AUTHENTICATED, allow
from lms.auth.models import Role, User
from lms.authoring.access import manages_course
from lms.certificates import services as certificate_services
from lms.config import LANGUAGES
from lms.courses.models import Course
from lms.enrolment import (
    admission,
    completion,
    nominations,
    queries,
    rules,
    self_service,
)
from lms.enrolment import runs as course_runs
from lms.enrolment.forms import (
    DecisionForm,
    NewPersonForm,
    NominateForm,
    RequestForm,
    RunForm,
    WithdrawForm,
    parse_quota_lines,
)
from lms.enrolment.models import (
    PENDING_STATUSES,
    CourseRun,
    Enrolment,
    EnrolmentMethod,
    EnrolmentStatus,
    RunEligibleAuthority,
    RunEligibleCountry,
)
from lms.enrolment.views.base import _focal_authority_ids, _refused, _run_or_404, bp
from lms.extensions import db
from lms.i18n import LANGUAGE_NAMES, current_language
from lms.orgs.models import Authority
from lms.orgs.queries import authority_choices_by_country, country_choices
from lms.request_input import database_id
from lms.sessions import queries as session_queries
from lms.unit_of_work import on_refusal, refusal_kept

# --- Trainees ----------------------------------------------------------------------------------------


@bp.route("/runs")
@allow(AUTHENTICATED)
def runs() -> str:
    rows = queries.runs_for_trainee(current_user, admission.today_utc())
    return render_template("enrolment/runs.html", rows=rows, language=current_language())


@bp.route("/runs/<int:run_id>")
@allow(AUTHENTICATED)
def run(run_id: int) -> str:
    course_run = _run_or_404(run_id)
    mine = _my_enrolments(run_id)
    summary = queries.run_summaries(include_default=True, only_ids=[run_id])[0]
    return render_template(
        "enrolment/run.html",
        summary=summary,
        run=course_run,
        mine=mine,
        live=next((e for e in mine if e.status in (*PENDING_STATUSES, EnrolmentStatus.ENROLLED)), None),
        history=queries.enrolment_events([e.id for e in mine]),
        eligible=admission.user_is_eligible(course_run, current_user),
        window_problem=_window_problem(course_run),
        request_form=RequestForm(),
        withdraw_form=WithdrawForm(),
        form=FlaskForm(),
        language=current_language(),
        panel=session_queries.run_panel(
            course_run, current_user, assigned_to_course=manages_course(course_run.course_id)
        ),
    )


def _my_enrolments(run_id: int) -> list[Enrolment]:
    """The signed-in person's enrolments on the run, newest first."""
    return list(
        db.session.scalars(
            select(Enrolment)
            .where(Enrolment.run_id == run_id, Enrolment.user_id == current_user.id)
            .order_by(Enrolment.created_at.desc(), Enrolment.id.desc())
        ).all()
    )


def _window_problem(course_run: CourseRun) -> rules.Refusal | None:
    """Why the run's enrolment window refuses a request today, or None."""
    return rules.window_refusal(
        admission.today_utc(),
        course_run.enrolment_opens_on,
        course_run.enrolment_closes_on,
        course_run.ends_on,
    )


def _course_or_run_page(run_id: int) -> str:
    """Where a trainee enrols: the course page for a course's default run, the run's page otherwise."""
    course_run = _run_or_404(run_id)
    if course_run.is_default:
        return url_for("courses.course", slug=course_run.course.slug)
    return url_for("enrolment.run", run_id=run_id)


@bp.route("/runs/<int:run_id>/enrol", methods=["POST"])
@allow(AUTHENTICATED)
@on_refusal(_course_or_run_page)
def enrol(run_id: int) -> Response:
    if not FlaskForm().validate_on_submit():
        abort(400)
    course_run = _run_or_404(run_id)
    enrolment = self_service.self_enrol(current_user, course_run, language=request.form.get("language"))
    if enrolment.status == EnrolmentStatus.WAITING:
        flash(
            _(
                "The run is full: you are number %(position)s on the waiting list.",
                position=enrolment.waiting_position,
            ),
            "info",
        )
        return redirect(url_for("enrolment.run", run_id=run_id))
    flash(_("You are enrolled. Start with the first lesson."), "success")
    progress = completion.enrolment_progress(enrolment, course_run.course_id)
    if progress.next_lesson_id is not None:
        return redirect(
            url_for("courses.lesson", slug=course_run.course.slug, lesson_id=progress.next_lesson_id)
        )
    return redirect(url_for("courses.course", slug=course_run.course.slug))


@bp.route("/runs/<int:run_id>/request", methods=["POST"])
@allow(AUTHENTICATED)
@on_refusal(lambda run_id: url_for("enrolment.run", run_id=run_id))
def request_place(run_id: int) -> Response:
    form = RequestForm()
    if not form.validate_on_submit():
        abort(400)
    course_run = _run_or_404(run_id)
    self_service.request_place(current_user, course_run, justification=form.justification.data)
    flash(_("Your request was sent. You will receive an email when it is decided."), "success")
    return redirect(url_for("enrolment.run", run_id=run_id))


def _after_withdraw(enrolment_id: int) -> str:
    """Back to where the withdrawal was asked: the trainee's run, the admin's run page, the authority."""
    enrolment = db.session.get(Enrolment, enrolment_id) or abort(404)
    if enrolment.user_id == current_user.id:
        return url_for("enrolment.run", run_id=enrolment.run_id)
    if current_user.has_role(Role.ADMIN):
        return url_for("enrolment.admin_run", run_id=enrolment.run_id)
    return url_for("enrolment.authority")


@bp.route("/enrolments/<int:enrolment_id>/withdraw", methods=["POST"])
@allow(AUTHENTICATED)
@on_refusal(_after_withdraw)
def withdraw(enrolment_id: int) -> Response:
    form = WithdrawForm()
    if not form.validate_on_submit():
        abort(400)
    enrolment = db.session.get(Enrolment, enrolment_id) or abort(404)
    if not nominations.may_withdraw(enrolment, current_user):
        abort(403)  # someone else's enrolment: refused, not redirected
    nominations.withdraw(enrolment, current_user, form.reason.data)
    flash(_("Withdrawn."), "success")
    return redirect(_after_withdraw(enrolment_id))


# --- Focal points --------------------------------------------------------------------------------------


@bp.route("/authority")
@allow(Role.FOCAL_POINT)
def authority() -> str:
    ids = _focal_authority_ids()
    authorities = db.session.scalars(select(Authority).where(Authority.id.in_(ids))).all() if ids else []
    return render_template(
        "enrolment/authority.html",
        authorities=authorities,
        rows=queries.authority_enrolments(ids),
        open_runs=queries.runs_taking_nominations(admission.today_utc()),
        staff_sessions=session_queries.staff_sessions(ids),
        withdraw_form=WithdrawForm(),
        language=current_language(),
    )


def _nominate_forms(course_run: CourseRun) -> tuple[NominateForm, NewPersonForm, list[User]]:
    ids = _focal_authority_ids()
    staff = queries.authority_staff(ids, excluding=current_user.id)
    nominate_form = NominateForm(prefix="existing")
    nominate_form.user_ids.choices = [SelectChoice(u.id, u.full_name) for u in staff]
    new_form = NewPersonForm(prefix="new")
    authorities = db.session.scalars(select(Authority).where(Authority.id.in_(ids))).all() if ids else []
    new_form.authority.choices = [SelectChoice(a.id, a.name) for a in authorities]
    return nominate_form, new_form, staff


def _render_nominate(
    course_run: CourseRun,
    nominate_form: NominateForm,
    new_form: NewPersonForm,
    staff: list[User],
    status: int = 200,
) -> tuple[str, int]:
    ids = _focal_authority_ids()
    lines = queries.run_enrolments(course_run.id, authority_ids=ids)
    return (
        render_template(
            "enrolment/nominate.html",
            run=course_run,
            nominate_form=nominate_form,
            new_form=new_form,
            staff=staff,
            lines=lines,
            taken={line.user.id for line in lines if line.enrolment.status not in ("rejected", "withdrawn")},
            language=current_language(),
        ),
        status,
    )


@bp.route("/authority/runs/<int:run_id>/nominate", methods=["GET", "POST"])
@allow(Role.FOCAL_POINT)
def nominate(run_id: int) -> tuple[str, int] | Response:
    course_run = _run_or_404(run_id)
    if not nominations.accepts_nominations(course_run):
        abort(404)
    forms = _nominate_forms(course_run)
    if request.method == "POST" and "existing-justification" in request.form:  # which of the two forms
        return _nominate_staff(course_run, *forms)
    if request.method == "POST" and "new-justification" in request.form:
        return _add_and_nominate(course_run, *forms)
    return _render_nominate(course_run, *forms)


def _nominate_staff(
    course_run: CourseRun, nominate_form: NominateForm, new_form: NewPersonForm, staff: list[User]
) -> tuple[str, int] | Response:
    if not nominate_form.validate_on_submit():
        return _render_nominate(course_run, nominate_form, new_form, staff, 422)
    chosen = {u.id: u for u in staff}
    justification = nominate_form.justification.data or ""
    with refusal_kept() as refusal:
        for user_id in nominate_form.user_ids.data or []:
            nominations.nominate(current_user, course_run, chosen[user_id], justification)
    if refusal.error is not None:
        return _render_nominate(course_run, nominate_form, new_form, staff, _refused(refusal))
    flash(_("Nominated: %(count)s.", count=len(nominate_form.user_ids.data or [])), "success")
    return redirect(url_for("enrolment.nominate", run_id=course_run.id))


def _add_and_nominate(
    course_run: CourseRun, nominate_form: NominateForm, new_form: NewPersonForm, staff: list[User]
) -> tuple[str, int] | Response:
    if not new_form.validate_on_submit():
        return _render_nominate(course_run, nominate_form, new_form, staff, 422)
    with refusal_kept() as refusal:
        person = nominations.add_staff_member(current_user, _new_person(new_form))
        nominations.nominate(current_user, course_run, person, new_form.justification.data or "")
        flash(_("%(name)s was added and nominated.", name=person.full_name), "success")
    if refusal.error is not None:
        return _render_nominate(course_run, nominate_form, new_form, staff, _refused(refusal))
    return redirect(url_for("enrolment.nominate", run_id=course_run.id))


def _new_person(form: NewPersonForm) -> nominations.NewPerson:
    return nominations.NewPerson(
        email=form.email.data or "",
        given_name=form.given_name.data or "",
        family_name=form.family_name.data or "",
        authority_id=form.authority.data or 0,
        patronymic=form.patronymic.data,
        native_name=form.native_name.data,
        position=form.position.data,
        sex=form.sex.data or None,
        birth_year_band=form.birth_year_band.data or None,
    )


# --- Admins -----------------------------------------------------------------------------------------


@bp.route("/admin/course-runs")
@allow(Role.ADMIN)
def admin_runs() -> str:
    return render_template("enrolment/admin_runs.html", summaries=queries.run_summaries(include_default=True))


def _run_form(course_run: CourseRun | None) -> RunForm:
    form = RunForm(obj=course_run, prefix="")
    language = current_language()
    courses = db.session.scalars(select(Course).order_by(Course.title)).all()
    form.course.choices = [SelectChoice(c.id, c.title) for c in courses]
    form.language.choices = [SelectChoice(code, LANGUAGE_NAMES.get(code, code)) for code in LANGUAGES]
    form.eligible_countries.choices = country_choices(language)
    form.eligible_authorities.choices = authority_choices_by_country(language)
    if course_run is not None and request.method == "GET":
        form.course.data = course_run.course_id
        form.eligible_countries.data = list(
            db.session.scalars(
                select(RunEligibleCountry.country_code).where(RunEligibleCountry.run_id == course_run.id)
            )
        )
        form.eligible_authorities.data = list(
            db.session.scalars(
                select(RunEligibleAuthority.authority_id).where(RunEligibleAuthority.run_id == course_run.id)
            )
        )
        form.quotas.data = "\n".join(f"{code}: {seats}" for code, seats in queries.run_quotas(course_run.id))
    return form


@bp.route("/admin/course-runs/new", methods=["GET", "POST"])
@allow(Role.ADMIN)
def admin_run_new() -> tuple[str, int] | Response:
    return _edit_run(None)


@bp.route("/admin/course-runs/<int:run_id>/edit", methods=["GET", "POST"])
@allow(Role.ADMIN)
def admin_run_edit(run_id: int) -> tuple[str, int] | Response:
    return _edit_run(_run_or_404(run_id))


def _run_data(form: RunForm) -> course_runs.RunData:
    return course_runs.RunData(
        course_id=form.course.data or 0,
        title=form.title.data or "",
        modality=form.modality.data or EnrolmentMethod.OPEN,
        language=form.language.data or "en",
        starts_on=form.starts_on.data,
        ends_on=form.ends_on.data,
        enrolment_opens_on=form.enrolment_opens_on.data,
        enrolment_closes_on=form.enrolment_closes_on.data,
        seats_total=form.seats_total.data,
        enrolment_method=form.enrolment_method.data or EnrolmentMethod.OPEN,
        open_to_all=bool(form.open_to_all.data),
        countries=frozenset(form.eligible_countries.data or []),
        authority_ids=frozenset(form.eligible_authorities.data or []),
        quota_codes=parse_quota_lines(form.quotas.data),
        completion_requires_lessons=bool(form.completion_requires_lessons.data),
        min_attendance_percent=form.min_attendance_percent.data,
        is_international=bool(form.is_international.data),
        personal_data_retention_days=30
        if form.personal_data_retention_days.data is None
        else form.personal_data_retention_days.data,
    )


def _edit_run(course_run: CourseRun | None) -> tuple[str, int] | Response:
    form = _run_form(course_run)
    status = 200
    if form.validate_on_submit():
        data = _run_data(form)
        with refusal_kept() as refusal:
            saved = course_runs.save_run(current_user, course_run, data)
            certificate_services.set_issuance_rule(
                saved, form.certificate_issuance.data or "", current_user.id
            )
            flash(_("The course run was saved."), "success")
            return redirect(url_for("enrolment.admin_run", run_id=saved.id))
        assert refusal.error is not None  # noqa: S101  # the block returns unless refused
        form.form_errors.append(refusal.error.message)  # on the form, with everything typed
        status = refusal.error.status_code
    elif form.errors:
        status = 422
    return render_template("enrolment/admin_run_form.html", form=form, run=course_run), status


@bp.route("/admin/course-runs/<int:run_id>")
@allow(Role.ADMIN)
def admin_run(run_id: int) -> str:
    course_run = _run_or_404(run_id)
    return render_template(
        "enrolment/admin_run.html",
        run=course_run,
        summary=queries.run_summaries(include_default=True, only_ids=[run_id])[0],
        **_lines_by_column(queries.run_enrolments(run_id)),
        seats=queries.seats_by_authority(run_id),
        form=DecisionForm(),
    )


# The admin's run page: its columns and the statuses each one shows.
_ADMIN_RUN_COLUMNS = {
    "queue": (EnrolmentStatus.NOMINATED, EnrolmentStatus.REQUESTED),
    "waiting": (EnrolmentStatus.WAITING,),
    "enrolled": (EnrolmentStatus.ENROLLED, EnrolmentStatus.COMPLETED),
    "closed": (EnrolmentStatus.REJECTED, EnrolmentStatus.WITHDRAWN),
}


def _lines_by_column(lines: list[queries.EnrolmentLine]) -> dict[str, list[queries.EnrolmentLine]]:
    return {
        column: [line for line in lines if line.enrolment.status in statuses]
        for column, statuses in _ADMIN_RUN_COLUMNS.items()
    }


@bp.route("/admin/course-runs/<int:run_id>/decide", methods=["POST"])
@allow(Role.ADMIN)
@on_refusal(lambda run_id: url_for("enrolment.admin_run", run_id=run_id))
def admin_decide(run_id: int) -> Response:
    _run_or_404(run_id)
    form = DecisionForm()
    ids = [i for i in map(database_id, form.enrolment_ids.raw_data or []) if i is not None]
    form.enrolment_ids.choices = [SelectChoice(i, str(i)) for i in ids]
    if not form.validate_on_submit():
        flash(_("Select at least one person."), "error")
        return redirect(url_for("enrolment.admin_run", run_id=run_id))
    in_run = list(
        db.session.scalars(select(Enrolment.id).where(Enrolment.id.in_(ids), Enrolment.run_id == run_id))
    )
    if form.withdraw.data:
        for enrolment_id in in_run:
            enrolment = db.session.get(Enrolment, enrolment_id)
            if enrolment is not None:
                nominations.withdraw(enrolment, current_user, form.reason.data)
        result = nominations.BulkResult()
    else:
        result = nominations.decide_many(in_run, current_user, bool(form.approve.data), form.reason.data)
    _flash_decision(form, result)
    return redirect(url_for("enrolment.admin_run", run_id=run_id))


def _flash_decision(form: DecisionForm, result: nominations.BulkResult) -> None:
    if form.approve.data:
        flash(
            _(
                "Enrolled: %(enrolled)s. Waiting list: %(waiting)s.",
                enrolled=result.enrolled,
                waiting=result.waiting,
            ),
            "success",
        )
        for authority, quota in sorted(result.quota_full.items()):
            flash(
                _(
                    "%(authority)s has used its quota of %(quota)s seat(s) in this run, so its people wait "
                    "on the waiting list although the run has free seats. Raise the authority's quota (Edit) "
                    "to enrol them.",
                    authority=authority,
                    quota=quota,
                ),
                "info",
            )
    elif form.reject.data:
        flash(_("Rejected: %(count)s.", count=result.rejected), "success")
    else:
        flash(_("Withdrawn."), "success")
    for problem in result.problems:
        flash(problem, "error")
