"""The question bank editor: adding a bank and its page (its questions are edited in question.py)."""

from __future__ import annotations

from flask import render_template
from flask_babel import gettext as _

from lms.auth.access import allow
from lms.authoring import drafts, quiz_edits
from lms.authoring.forms import ActionForm, AddItemForm
from lms.authoring.views.base import EDITORS, Edit, bp, draft_edit, editable, editor_url
from lms.courses.models import Course
from lms.quizzes.grading import REGISTRY


@bp.route("/courses/<int:course_id>/banks", methods=["POST"])
@allow(*EDITORS)
@draft_edit(AddItemForm)
def add_bank(course: Course, form: AddItemForm) -> Edit:
    slug, title = (form.slug.data or "").strip(), (form.title.data or "").strip()
    summary = _("bank '%(slug)s' added", slug=slug)
    change = lambda d: quiz_edits.add_bank(d, slug, title)  # noqa: E731
    return Edit(summary, change, editor_url(course, "banks"), _("Question bank added."))


@bp.route("/courses/<int:course_id>/banks/<slug>")
@allow(*EDITORS)
def bank(course_id: int, slug: str) -> str:
    course = editable(course_id)
    draft = drafts.read_draft(course)
    return render_template(
        "authoring/bank.html",
        course=course,
        bank=quiz_edits.find_bank(draft.document, slug),
        types=REGISTRY,
        action=ActionForm(formdata=None, revision=str(draft.revision)),
    )
