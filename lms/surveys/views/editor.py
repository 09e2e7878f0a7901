"""Survey forms in the browser (admins): list, create, texts, questions, order, retire, preview.

A form loaded from a file is shown read-only (the next sync would overwrite a browser edit); "Make a copy"
gives an editable form. Rules are in lms/surveys/editing.py; the request commits once (unit of work).
"""

from __future__ import annotations

from typing import Any

from flask import abort, flash, redirect, render_template, request, url_for
from flask_babel import force_locale
from flask_babel import gettext as _
from flask_login import current_user
from flask_wtf import FlaskForm
from werkzeug.wrappers import Response

from lms.auth.access import allow
from lms.auth.models import Role
from lms.config import LANGUAGES
from lms.content.markdown import render_markdown
from lms.i18n import current_language
from lms.surveys import editing
from lms.surveys.editor_forms import (
    MoveForm,
    PreviewLanguageForm,
    SurveyFormDetails,
    SurveyItemForm,
    texts_data,
    type_names,
)
from lms.surveys.file_format import CHOICE_TYPES, ITEM_TYPES
from lms.surveys.form_queries import form_rows
from lms.surveys.models import SurveyForm, SurveyItem
from lms.surveys.texts import RATING_ENDS, item_view, localised
from lms.surveys.views.base import bp
from lms.unit_of_work import on_refusal, refusals_into

BLANK_OPTION_ROWS = 3  # empty rows under a choice question's options, for new ones (no script needed)


def _form_or_404(form_id: int) -> SurveyForm:
    return editing.find_form(form_id) or abort(404)


def _item_or_404(form: SurveyForm, item_id: int) -> SurveyItem:
    return editing.find_item(form, item_id) or abort(404)


def _form_page(form_id: int, **_other: Any) -> str:
    return url_for("surveys.editor_form", form_id=form_id)


def _items(form: SurveyForm) -> tuple[list[SurveyItem], list[SurveyItem]]:
    ordered = sorted(form.items, key=lambda item: (item.position, item.id))
    return [i for i in ordered if not i.retired], [i for i in ordered if i.retired]


@bp.route("/admin/survey-forms")
@allow(Role.ADMIN)
def editor_forms() -> str:
    return render_template("surveys/editor_list.html", rows=form_rows(), language=current_language())


@bp.route("/admin/survey-forms/new", methods=["GET", "POST"])
@allow(Role.ADMIN)
def editor_new() -> Response | tuple[str, int]:
    details = SurveyFormDetails()
    if details.validate_on_submit():
        with refusals_into(details):
            made = editing.create_form(details.slug.data or "", details.texts(), actor_id=current_user.id)
            flash(_("The survey form %(slug)s is created. Now add its questions.", slug=made.slug), "success")
            return redirect(url_for("surveys.editor_form", form_id=made.id))
    status = 422 if details.errors or details.form_errors else 200
    return render_template("surveys/editor_new.html", details=details), status


def _details_of(form: SurveyForm) -> SurveyFormDetails:
    data = {
        "slug": form.slug,
        "kind": form.kind,
        **texts_data("title", form.title),
        **texts_data("intro", form.intro),
    }
    details = SurveyFormDetails(data=data) if request.method == "GET" else SurveyFormDetails()
    del details.slug  # chosen once, at creation
    return details


@bp.route("/admin/survey-forms/<int:form_id>", methods=["GET", "POST"])
@allow(Role.ADMIN)
def editor_form(form_id: int) -> Response | tuple[str, int]:
    form = _form_or_404(form_id)
    details = _details_of(form)
    if details.validate_on_submit():
        with refusals_into(details):
            editing.update_form(form, details.texts(), actor_id=current_user.id)
            flash(_("The survey form is saved."), "success")
            return redirect(url_for("surveys.editor_form", form_id=form.id))
    asked, retired = _items(form)
    page = render_template(
        "surveys/editor_form.html", form=form, details=details, asked=asked, retired=retired,
        read_only=editing.is_file_backed(form), action_form=FlaskForm(), type_names=type_names(),
        language=current_language(), languages=LANGUAGES,
    )  # fmt: skip
    return page, 422 if details.errors or details.form_errors else 200


@bp.route("/admin/survey-forms/<int:form_id>/copy", methods=["POST"])
@allow(Role.ADMIN)
@on_refusal(_form_page)
def editor_copy(form_id: int) -> Response:
    form = _form_or_404(form_id)
    if not FlaskForm().validate_on_submit():
        abort(400)
    copy = editing.copy_form(form, actor_id=current_user.id)
    flash(_("This is an editable copy of %(slug)s.", slug=form.slug), "success")
    return redirect(url_for("surveys.editor_form", form_id=copy.id))


def _item_form(item_type: str, item: SurveyItem | None) -> SurveyItemForm:
    if request.method == "POST" or item is None:
        item_form = SurveyItemForm()
    else:
        ends = {o["key"]: o.get("label", {}) for o in item.options} if item.type == "rating" else {}
        data = {"key": item.key, "required": item.required, "indicator": item.indicator or "",
                **texts_data("prompt", item.prompt), **texts_data("low", ends.get(RATING_ENDS[0], {})),
                **texts_data("high", ends.get(RATING_ENDS[1], {}))}  # fmt: skip
        item_form = SurveyItemForm(data=data)
        for option in item.options if item_type in CHOICE_TYPES else ():
            label = texts_data("label", option.get("label", {}))
            item_form.options.append_entry(
                {"key": option["key"], "positive": option.get("positive", False), **label}
            )
    if item is not None:
        del item_form.key  # stable: never changed
    return item_form


def _pad_option_rows(item_form: SurveyItemForm, item_type: str) -> None:
    if item_type in CHOICE_TYPES:
        filled = sum(1 for row in item_form.options if (row.key.data or "").strip())
        wanted = min(item_form.options.max_entries or 0, max(4, filled + BLANK_OPTION_ROWS))
        while len(item_form.options) < wanted:
            item_form.options.append_entry()


def _item_page(
    form: SurveyForm, item_type: str, item_form: SurveyItemForm, item: SurveyItem | None
) -> tuple[str, int]:
    _pad_option_rows(item_form, item_type)
    page = render_template(
        "surveys/editor_item.html", form=form, item=item, item_type=item_type, item_form=item_form,
        type_name=type_names()[item_type], read_only=editing.is_file_backed(form),
        choice=item_type in CHOICE_TYPES,
    )  # fmt: skip
    return page, 422 if item_form.errors or item_form.form_errors else 200


@bp.route("/admin/survey-forms/<int:form_id>/questions/new/<item_type>", methods=["GET", "POST"])
@allow(Role.ADMIN)
def editor_new_item(form_id: int, item_type: str) -> Response | tuple[str, int]:
    form = _form_or_404(form_id)
    if item_type not in ITEM_TYPES:
        abort(404)
    item_form = _item_form(item_type, None)
    if item_form.validate_on_submit():
        with refusals_into(item_form):
            key = item_form.key.data or ""
            editing.add_item(form, key, item_type, item_form.item_data(), actor_id=current_user.id)
            flash(_("The question %(key)s is added.", key=key), "success")
            return redirect(url_for("surveys.editor_form", form_id=form.id))
    return _item_page(form, item_type, item_form, None)


@bp.route("/admin/survey-forms/<int:form_id>/questions/<int:item_id>", methods=["GET", "POST"])
@allow(Role.ADMIN)
def editor_item(form_id: int, item_id: int) -> Response | tuple[str, int]:
    form = _form_or_404(form_id)
    item = _item_or_404(form, item_id)
    item_form = _item_form(item.type, item)
    if item_form.validate_on_submit():
        with refusals_into(item_form):
            editing.update_item(form, item, item_form.item_data(), actor_id=current_user.id)
            flash(_("The question %(key)s is saved.", key=item.key), "success")
            return redirect(url_for("surveys.editor_form", form_id=form.id))
    return _item_page(form, item.type, item_form, item)


@bp.route("/admin/survey-forms/<int:form_id>/questions/<int:item_id>/move", methods=["POST"])
@allow(Role.ADMIN)
@on_refusal(_form_page)
def editor_move(form_id: int, item_id: int) -> Response:
    form = _form_or_404(form_id)
    item = _item_or_404(form, item_id)
    move = MoveForm()
    if not move.validate_on_submit():
        abort(400)
    editing.move_item(form, item, move.direction.data or "", actor_id=current_user.id)
    return redirect(url_for("surveys.editor_form", form_id=form.id, _anchor=f"item-{item.id}"))


@bp.route("/admin/survey-forms/<int:form_id>/questions/<int:item_id>/retire", methods=["POST"])
@allow(Role.ADMIN)
@on_refusal(_form_page)
def editor_retire(form_id: int, item_id: int) -> Response:
    return _set_retired(form_id, item_id, True)


@bp.route("/admin/survey-forms/<int:form_id>/questions/<int:item_id>/restore", methods=["POST"])
@allow(Role.ADMIN)
@on_refusal(_form_page)
def editor_restore(form_id: int, item_id: int) -> Response:
    return _set_retired(form_id, item_id, False)


def _set_retired(form_id: int, item_id: int, retired: bool) -> Response:
    form = _form_or_404(form_id)
    item = _item_or_404(form, item_id)
    if not FlaskForm().validate_on_submit():
        abort(400)
    editing.set_retired(form, item, retired, actor_id=current_user.id)
    if retired:
        flash(
            _("The question %(key)s is retired: it is asked no more, its answers stay.", key=item.key),
            "success",
        )
    else:
        flash(_("The question %(key)s is asked again, at the end of the form.", key=item.key), "success")
    return redirect(url_for("surveys.editor_form", form_id=form.id))


@bp.route("/admin/survey-forms/<int:form_id>/preview")
@allow(Role.ADMIN)
def editor_preview(form_id: int) -> str:
    form = _form_or_404(form_id)
    chooser = PreviewLanguageForm(request.args)
    language = chooser.lang.data if request.args.get("lang") and chooser.validate() else current_language()
    chooser.lang.data = language
    asked, _retired = _items(form)
    with force_locale(language):  # the scale's points in the language shown, not the page's
        views = [item_view(i.key, i.type, i.required, i.prompt, i.options, language) for i in asked]
        optional = _("(optional)")
    intro = localised(form.intro, language)
    return render_template(
        "surveys/editor_preview.html", form=form, chooser=chooser, language=language, items=views,
        title=localised(form.title, language), intro_html=render_markdown(intro) if intro else "",
        optional=optional,
    )  # fmt: skip
