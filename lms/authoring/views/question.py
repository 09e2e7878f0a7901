"""The question editor, for a quiz's own questions and a bank's alike (`where` is "quiz" or "bank"):
a question is edited in fields or, for what the fields cannot say, as YAML."""

from __future__ import annotations

from functools import partial
from typing import Any

from flask import abort, render_template, request, url_for
from flask.typing import ResponseReturnValue
from flask_babel import gettext as _

from lms.auth.access import allow
from lms.authoring import drafts, exporter, quiz_edits
from lms.authoring.document import Document
from lms.authoring.forms import ActionForm, QuestionForm
from lms.authoring.models import CourseDraft
from lms.authoring.question_fields import (
    FieldProblems,
    QuestionFields,
    fields_from_spec,
    spec_from_fields,
    spec_from_yaml,
    yaml_only,
)
from lms.authoring.views.base import EDITORS, Change, Edit, bp, draft_edit, editable, save_typed
from lms.courses.models import Course
from lms.quizzes.grading import REGISTRY

WHERE = ("quiz", "bank")


def _container(doc: Document, where: str, slug: str) -> dict[str, Any]:
    if where not in WHERE:
        abort(404)
    return quiz_edits.find_quiz(doc, slug) if where == "quiz" else quiz_edits.find_bank(doc, slug)


def _back(course: Course, where: str, slug: str) -> str:
    endpoint = "authoring.quiz" if where == "quiz" else "authoring.bank"
    return url_for(endpoint, course_id=course.id, slug=slug)


def _question_form(draft: CourseDraft, existing: dict[str, Any] | None) -> QuestionForm:
    """The form as it opens: the question's fields (or its YAML), or a new question of the asked type."""
    if existing is not None:
        spec = existing["spec"]
        mode = "yaml" if yaml_only(spec) or request.args.get("mode") == "yaml" else "fields"
        fields = fields_from_spec(spec)
    else:
        qtype = request.args.get("type", "single_choice")
        fields = QuestionFields(type=qtype if qtype in REGISTRY else "single_choice")
        mode = "yaml" if request.args.get("mode") == "yaml" else "fields"
        spec = {"id": "", "type": fields.type, "prompt": ""}
    source = exporter.dump_yaml(spec)
    return QuestionForm(formdata=None, revision=str(draft.revision), mode=mode, source=source, **vars(fields))


def _typed_spec(form: QuestionForm) -> tuple[dict[str, Any], FieldProblems]:
    """The question as typed, and what is wrong with it, each problem on the field it belongs to."""
    if form.mode.data == "yaml":
        spec, problems = spec_from_yaml(form.source.data or "")
    else:
        values = {
            name: getattr(form, name).data for name in vars(QuestionFields()) if name != "case_sensitive"
        }
        fields = QuestionFields(
            **{name: str(value or "") for name, value in values.items()},
            case_sensitive=bool(form.case_sensitive.data),
        )
        spec, problems = spec_from_fields(fields)
    for name, messages in problems.by_field.items():
        target = getattr(form, name, None) if name != "source" else form.source
        if target is not None and hasattr(target, "errors"):
            target.errors = [*list(target.errors), *messages]
    return spec, problems


def _question_edit(course: Course, where: str, slug: str, key: str | None, spec: dict[str, Any]) -> Edit:
    summary = _("%(where)s '%(slug)s': question %(key)s saved", where=where, slug=slug, key=spec["id"])
    change: Change = lambda d: quiz_edits.save_question(d, where, slug, key, spec)  # noqa: E731
    return Edit(summary, change, _back(course, where, slug), _("Question saved in the draft."))


def _question_page(course_id: int, where: str, slug: str, key: str | None) -> ResponseReturnValue:
    course = editable(course_id)
    draft = drafts.read_draft(course)
    container = _container(draft.document, where, slug)
    existing = next((q for q in container["questions"] if q["key"] == key), None) if key else None
    if key and existing is None:
        abort(404)
    context = {"course": course, "where": where, "slug": slug, "key": key, "container": container}
    page = partial(render_template, "authoring/question.html", **context)
    if request.method != "POST":
        return page(form=_question_form(draft, existing))
    form = QuestionForm()
    if not form.validate_on_submit():
        return page(form=form), 422
    spec, problems = _typed_spec(form)
    if problems:
        return page(form=form, problems=problems.messages()), 422
    return save_typed(course, form, _question_edit(course, where, slug, key, spec), partial(page, form=form))


@bp.route("/courses/<int:course_id>/<where>/<slug>/questions/new", methods=["GET", "POST"])
@allow(*EDITORS)
def new_question(course_id: int, where: str, slug: str) -> ResponseReturnValue:
    return _question_page(course_id, where, slug, None)


@bp.route("/courses/<int:course_id>/<where>/<slug>/questions/<key>", methods=["GET", "POST"])
@allow(*EDITORS)
def question(course_id: int, where: str, slug: str, key: str) -> ResponseReturnValue:
    return _question_page(course_id, where, slug, key)


@bp.route("/courses/<int:course_id>/<where>/<slug>/questions/<key>/delete", methods=["POST"])
@allow(*EDITORS)
@draft_edit()
def delete_question(course: Course, form: ActionForm, where: str, slug: str, key: str) -> Edit:
    if where not in WHERE:
        abort(404)
    summary = _("%(where)s '%(slug)s': question %(key)s deleted", where=where, slug=slug, key=key)
    change = lambda d: quiz_edits.delete_question(d, where, slug, key)  # noqa: E731
    return Edit(summary, change, _back(course, where, slug), _("Question deleted from the draft."))
