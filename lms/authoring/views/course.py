"""The course editor: the draft's outline (its modules, and moving modules and lessons in it), the
course details, deleting an item (with what it affects), the preview, publishing, discarding the draft
and the zip export."""

from __future__ import annotations

import io
from decimal import Decimal
from functools import partial
from typing import Any

from flask import abort, flash, redirect, render_template, request, send_file
from flask.typing import ResponseReturnValue
from flask_babel import gettext as _
from flask_login import current_user
from werkzeug.wrappers import Response

from lms.auth.access import allow
from lms.authoring import assets, course_folders, drafts, exporter, outline, quiz_edits
from lms.authoring.document import Document, from_document
from lms.authoring.forms import (
    ActionForm,
    AddItemForm,
    MetadataForm,
    MoveForm,
    PublishForm,
    RenameForm,
    RevisionForm,
    UploadForm,
)
from lms.authoring.models import CourseDraft
from lms.authoring.views.base import (
    EDITORS,
    Change,
    Edit,
    after_move_url,
    apply_edit,
    bp,
    draft_edit,
    editable,
    editor_url,
    flash_form_errors,
    flash_refusal,
    form_page,
)
from lms.courses.models import Course
from lms.unit_of_work import refusal_kept


def _editor_forms(revision: str) -> dict[str, Any]:
    """The editor page's buttons and small forms, each carrying the revision the page shows."""

    def form(cls: type[RevisionForm]) -> RevisionForm:
        return cls(formdata=None, revision=revision)

    return {
        "action": form(ActionForm),
        "move": form(MoveForm),
        "add_module": form(AddItemForm),
        "add_quiz": form(AddItemForm),
        "add_bank": form(AddItemForm),
        "rename": form(RenameForm),
        "publish_form": form(PublishForm),
        "upload_form": UploadForm(formdata=None),
    }


@bp.route("/courses/<int:course_id>")
@allow(*EDITORS)
def course(course_id: int) -> str:
    course = editable(course_id)
    draft = drafts.read_draft(course)
    return render_template(
        "authoring/course.html",
        course=course,
        draft=draft,
        doc=draft.document,
        changed=drafts.draft_has_changes(course, draft),
        assets=assets.course_assets(course.id),
        versions=drafts.versions(course.id),
        recent=drafts.edits_since(course.id, max(0, draft.revision - 10)),
        moved={"item": request.args.get("moved", ""), "direction": request.args.get("direction", "")},
        **_editor_forms(str(draft.revision)),
    )


def _metadata_form(draft: CourseDraft) -> MetadataForm:
    doc = draft.document
    return MetadataForm(
        formdata=None,
        revision=str(draft.revision),
        title=doc["title"],
        summary=doc["summary"],
        language=doc["language"],
        level=doc.get("level"),
        credits=Decimal(doc["credits"]) if doc.get("credits") else None,
        notional_hours=doc.get("notional_hours"),
        learning_outcomes="\n".join(doc.get("learning_outcomes") or []),
        delivery_mode=doc.get("delivery_mode"),
        lesson_completion=doc.get("lesson_completion"),
        certificate_validity_months=doc.get("certificate_validity_months"),
    )


def _metadata_values(form: MetadataForm) -> dict[str, Any]:
    return {
        "title": form.title.data.strip(),
        "summary": (form.summary.data or "").strip(),
        "language": form.language.data,
        "level": (form.level.data or "").strip() or None,
        "credits": exporter.credits_text(form.credits.data) if form.credits.data is not None else None,
        "notional_hours": form.notional_hours.data,
        "learning_outcomes": [
            line.strip() for line in (form.learning_outcomes.data or "").splitlines() if line.strip()
        ],
        "delivery_mode": form.delivery_mode.data,
        "lesson_completion": form.lesson_completion.data,
        "certificate_validity_months": form.certificate_validity_months.data,
    }


@bp.route("/courses/<int:course_id>/metadata", methods=["GET", "POST"])
@allow(*EDITORS)
def metadata(course_id: int) -> ResponseReturnValue:
    course = editable(course_id)
    form = MetadataForm() if request.method == "POST" else _metadata_form(drafts.read_draft(course))
    page = partial(render_template, "authoring/metadata.html", course=course)

    def edit() -> Edit:
        values = _metadata_values(form)
        change: Change = lambda d: outline.update_metadata(d, values)  # noqa: E731
        return Edit(
            _("course details edited"), change, editor_url(course), _("Course details saved in the draft.")
        )

    return form_page(course, form, page, edit, invalid_status=200, refused_status=200)


@bp.route("/courses/<int:course_id>/modules", methods=["POST"])
@allow(*EDITORS)
@draft_edit(AddItemForm)
def add_module(course: Course, form: AddItemForm) -> Edit:
    slug, title = (form.slug.data or "").strip(), (form.title.data or "").strip()
    change: Change = lambda d: outline.add_module(d, slug, title)  # noqa: E731
    return Edit(
        _("module '%(slug)s' added", slug=slug), change, editor_url(course, "modules"), _("Module added.")
    )


@bp.route("/courses/<int:course_id>/modules/<slug>/rename", methods=["POST"])
@allow(*EDITORS)
@draft_edit(RenameForm)
def rename_module(course: Course, form: RenameForm, slug: str) -> Edit:
    title = (form.title.data or "").strip()
    summary = _("module '%(slug)s' renamed", slug=slug)
    change: Change = lambda d: outline.rename_module(d, slug, title)  # noqa: E731
    return Edit(summary, change, editor_url(course, f"module-{slug}"), _("Module renamed."))


def _move(course: Course, form: MoveForm, kind: str, slug: str) -> Edit:
    """A module or a lesson one place up or down; back to the outline with its button focused."""
    direction = form.direction.data
    if kind == "module":
        summary = _("module '%(slug)s' moved %(direction)s", slug=slug, direction=direction)
        move, done = outline.move_module, _("Module moved.")
    else:
        summary = _("lesson '%(slug)s' moved %(direction)s", slug=slug, direction=direction)
        move, done = outline.move_lesson, _("Lesson moved.")
    back = after_move_url(course, f"{kind}-{slug}", direction)
    return Edit(summary, lambda d: move(d, slug, direction), back, done)


@bp.route("/courses/<int:course_id>/modules/<slug>/move", methods=["POST"])
@allow(*EDITORS)
@draft_edit(MoveForm)
def move_module(course: Course, form: MoveForm, slug: str) -> Edit:
    return _move(course, form, "module", slug)


@bp.route("/courses/<int:course_id>/lessons/<slug>/move", methods=["POST"])
@allow(*EDITORS)
@draft_edit(MoveForm)
def move_lesson(course: Course, form: MoveForm, slug: str) -> Edit:
    return _move(course, form, "lesson", slug)


def _deletion(doc: Document, kind: str, slug: str) -> tuple[list[str], list[str], str, Change]:
    """What deleting this item removes: its lessons, its quizzes, its title, and the change itself."""
    if kind == "lessons":
        _module, lesson = outline.find_lesson(doc, slug)
        return [slug], [], lesson["text"]["title"], lambda d: outline.delete_lesson(d, slug)
    if kind == "modules":
        module = outline.find_module(doc, slug)
        lessons = [lesson["slug"] for lesson in module["lessons"]]
        return lessons, [], module["title"], lambda d: outline.delete_module(d, slug)
    if kind == "quizzes":
        quiz = quiz_edits.find_quiz(doc, slug)
        return [], [slug], quiz["title"], lambda d: quiz_edits.delete_quiz(d, slug)
    if kind == "banks":
        bank = quiz_edits.find_bank(doc, slug)
        return [], [], bank["title"], lambda d: quiz_edits.delete_bank(d, slug)
    abort(404)


@bp.route("/courses/<int:course_id>/<kind>/<slug>/delete", methods=["GET", "POST"])
@allow(*EDITORS)
def delete(course_id: int, kind: str, slug: str) -> str | Response:
    """Confirm, saying which trainee records are affected; then remove from the draft (publish archives)."""
    course = editable(course_id)
    draft = drafts.read_draft(course)
    lessons, quizzes, title, change = _deletion(draft.document, kind, slug)
    if request.method == "POST":
        summary = _("%(kind)s '%(slug)s' deleted", kind=kind.rstrip("s"), slug=slug)
        done = _("Deleted from the draft. Publish to apply it.")
        return apply_edit(course, ActionForm(), Edit(summary, change, editor_url(course), done))
    return render_template(
        "authoring/confirm_delete.html",
        course=course,
        kind=kind,
        slug=slug,
        title=title,
        impact=drafts.deletion_impact(course, lessons, quizzes),
        lesson_count=len(lessons),
        form=ActionForm(formdata=None, revision=str(draft.revision)),
    )


@bp.route("/courses/<int:course_id>/preview")
@allow(*EDITORS)
def preview(course_id: int) -> str:
    course = editable(course_id)
    return render_template("authoring/preview.html", course=course, doc=drafts.read_draft(course).document)


@bp.route("/courses/<int:course_id>/publish", methods=["POST"])
@allow(*EDITORS)
def publish(course_id: int) -> ResponseReturnValue:
    course = editable(course_id)
    form, back = PublishForm(), editor_url(course, "publish")
    if not form.validate_on_submit():
        flash_form_errors(form)
        return redirect(back)
    with refusal_kept() as refused:
        version = drafts.publish(current_user, course, form.revision_number, form.note.data)
    if isinstance(error := refused.error, drafts.PublishRefused):
        page = render_template(
            "authoring/problems.html", message=error.message, problems=error.problems, course=course
        )
        return page, 422
    if error is not None:
        flash_refusal(error)
        return redirect(back)
    flash(_("Version %(version)s is published: trainees see it now.", version=version.version), "success")
    return redirect(editor_url(course, "versions"))


@bp.route("/courses/<int:course_id>/discard", methods=["POST"])
@allow(*EDITORS)
def discard(course_id: int) -> Response:
    course = editable(course_id)
    form = ActionForm()
    if not form.validate_on_submit():
        abort(400)
    with refusal_kept() as refused:
        drafts.discard_draft(current_user, course, form.revision_number)
    if refused.error is not None:
        flash_refusal(refused.error)
    else:
        flash(_("The draft is back to the published version."), "success")
    return redirect(editor_url(course))


@bp.route("/courses/<int:course_id>/export.zip")
@allow(*EDITORS)
def export(course_id: int) -> Response:
    course = editable(course_id)
    draft = request.args.get("draft") == "1"
    files = course_folders.export_files(course, draft=draft)
    spec_slug = from_document(drafts.read_draft(course).document).slug if draft else course.slug
    data = exporter.zip_bytes(files, spec_slug)
    name = f"{spec_slug}{'-draft' if draft else ''}.zip"
    return send_file(io.BytesIO(data), mimetype="application/zip", as_attachment=True, download_name=name)
