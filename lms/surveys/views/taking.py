"""A trainee's surveys: the open ones (dashboard), answering one, the thank-you page; and a run's surveys
(admins attach the forms). Views parse and call a service; the request commits once (lms/unit_of_work.py).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field

from flask import abort, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import current_user
from werkzeug.wrappers import Response
from wtforms import SelectChoice

from lms.auth.access import AUTHENTICATED, allow
from lms.auth.models import Role
from lms.content.markdown import render_markdown
from lms.enrolment.models import CourseRun
from lms.extensions import db
from lms.i18n import current_language
from lms.surveys import queries, services, texts
from lms.surveys.answer_rules import TEXT_LIMIT, pick_text
from lms.surveys.answering import AnswersRefused, asked_items, invitation_state, submit_response
from lms.surveys.models import SurveyItem, SurveyKind
from lms.surveys.run_survey_forms import AnswerForm, RunSurveysForm
from lms.surveys.views.base import bp
from lms.unit_of_work import refusal_kept

FIELD_PREFIX = "item-"  # form field names: item-<key>, apart from csrf_token


@bp.app_template_global("open_surveys_of_current_user")
def open_surveys_of_current_user() -> list[queries.OpenSurvey]:
    """The dashboard's and the certificates page's "Surveys to answer" (one query; none when signed out)."""
    if current_user.is_anonymous:
        return []
    return queries.open_surveys(current_user.id)


# --- answering -------------------------------------------------------------------------------------


@dataclass(frozen=True)
class ItemView:
    """One question as the page draws it, in the person's language (English when the form lacks it)."""

    key: str
    type: str
    required: bool
    prompt: str
    prompt_language: str
    choices: list[texts.Choice]
    ends: tuple[str, str]
    given: list[str] = field(default_factory=list)  # what the person sent (a refused form keeps it)
    problem: str | None = None

    @property
    def name(self) -> str:
        return FIELD_PREFIX + self.key


def _item_views(
    items: list[SurveyItem], given: Mapping[str, list[str]], problems: Mapping[str, str]
) -> list[ItemView]:
    language = current_language()
    views = []
    for item in items:
        prompt, prompt_language = pick_text(item.prompt, language)
        views.append(
            ItemView(
                key=item.key,
                type=item.type,
                required=item.required,
                prompt=prompt,
                prompt_language=prompt_language,
                choices=texts.choices(item.type, item.options, language),
                ends=texts.rating_ends(item.options, language) if item.type == "rating" else ("", ""),
                given=list(given.get(item.key, [])),
                problem=problems.get(item.key),
            )
        )
    return views


def _own(invitation_id: int) -> queries.InvitationView:
    return queries.own_invitation(invitation_id, current_user.id) or abort(404)


def _render_form(
    found: queries.InvitationView, given: Mapping[str, list[str]], problems: Mapping[str, str], status: int
) -> tuple[str, int]:
    language = current_language()
    title, title_language = pick_text(found.form.title, language)
    intro, intro_language = pick_text(found.form.intro, language)
    return render_template(
        "surveys/take.html",
        found=found,
        title=title,
        title_language=title_language,
        intro_html=render_markdown(intro, image_size=lambda _src: None) if intro else "",  # sanitised
        intro_language=intro_language,
        items=_item_views(asked_items(found.run_survey), given, problems),
        follow_up=found.run_survey.kind == SurveyKind.FOLLOW_UP,
        text_limit=TEXT_LIMIT,
        form=AnswerForm(),
    ), status


@bp.route("/surveys/<int:invitation_id>", methods=["GET", "POST"])
@allow(AUTHENTICATED)
def take(invitation_id: int) -> tuple[str, int] | Response:
    found = _own(invitation_id)
    state = invitation_state(found.invitation)
    if state is not None:
        return _render_done(found, state)
    given = {
        key[len(FIELD_PREFIX) :]: request.form.getlist(key)
        for key in request.form
        if key.startswith(FIELD_PREFIX)
    }
    form = AnswerForm()
    if request.method == "POST" and form.validate_on_submit():
        with refusal_kept() as refusal:
            submit_response(found.invitation, given, current_language())
            return redirect(url_for("surveys.thanks", invitation_id=invitation_id))
        if isinstance(refusal.error, AnswersRefused):
            return _render_form(found, given, refusal.error.problems, 422)
        assert refusal.error is not None  # noqa: S101  # the block returns unless refused
        return _render_done(found, invitation_state(found.invitation) or "answered", refusal.error.message)
    return _render_form(found, given, {}, 422 if request.method == "POST" else 200)


def _render_done(found: queries.InvitationView, state: str, message: str | None = None) -> tuple[str, int]:
    title, title_language = pick_text(found.form.title, current_language())
    status = 200 if state == "thanks" or request.method == "GET" else 409
    return render_template(
        "surveys/take_done.html",
        found=found,
        state=state,
        message=message,
        title=title,
        title_language=title_language,
    ), status


@bp.route("/surveys/<int:invitation_id>/thanks")
@allow(AUTHENTICATED)
def thanks(invitation_id: int) -> tuple[str, int] | Response:
    found = _own(invitation_id)
    if found.invitation.answered_on is None:
        return redirect(url_for("surveys.take", invitation_id=invitation_id))
    return _render_done(found, "thanks")


# --- a run's surveys (admins) -----------------------------------------------------------------------


def _settings_form(run: CourseRun) -> RunSurveysForm:
    form = RunSurveysForm()
    language = current_language()
    forms = queries.forms_to_attach()
    none = SelectChoice("", _("No survey"))
    for select, kind in (
        (form.end_form_id, SurveyKind.END_OF_COURSE),
        (form.follow_up_form_id, SurveyKind.FOLLOW_UP),
    ):
        select.choices = [none] + [
            SelectChoice(f.id, texts.localised(f.title, language) or f.slug) for f in forms[kind]
        ]
    if request.method == "GET":
        current = services.current_settings(run.id)
        form.end_form_id.data = current.end_form_id
        form.follow_up_form_id.data = current.follow_up_form_id
        form.follow_up_months.data = current.follow_up_months
        form.open_days.data = current.open_days
        form.reminder_days.data = current.reminder_days
        form.required_for_certificate.data = current.required_for_certificate
    return form


@bp.route("/admin/course-runs/<int:run_id>/surveys", methods=["GET", "POST"])
@allow(Role.ADMIN)
def run_surveys(run_id: int) -> tuple[str, int] | Response:
    run = db.session.get(CourseRun, run_id) or abort(404)
    form = _settings_form(run)
    status = 200
    if form.validate_on_submit():
        with refusal_kept() as refusal:
            changed = services.attach_surveys(run, form.settings(), actor_id=current_user.id)
            flash(
                _("The surveys of this run were saved.") if changed else _("Nothing was changed."), "success"
            )
            return redirect(url_for("surveys.run_surveys", run_id=run_id))
        assert refusal.error is not None  # noqa: S101  # the block returns unless refused
        form.form_errors.append(refusal.error.message)
        status = refusal.error.status_code
    elif form.errors:
        status = 422
    return render_template("surveys/run_surveys.html", run=run, form=form), status
