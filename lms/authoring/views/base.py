"""The authoring blueprints and the route skeleton every change to a draft goes through.

A button that changes the draft (add, rename, move, delete...) is a POST whose view only says what the
change is, as an `Edit`; `draft_edit` does the rest for all of them: check the form, apply the change to
the draft (a stale form is refused with what changed meanwhile), flash, go back. A form with typed input
(course details, lesson, quiz settings, question) goes through `form_page` and `save_typed`, which show
the form again with what was typed when it is not valid or the draft refuses it. Nothing here commits:
the request's unit of work does, once, after the view (lms/unit_of_work.py).

Every route is for trainers and admins (`EDITORS`); `editable` checks the course's assignment.
"""

from __future__ import annotations

import functools
from collections.abc import Callable
from dataclasses import dataclass
from functools import partial
from typing import Any

from flask import Blueprint, abort, flash, redirect, request, url_for
from flask.typing import ResponseReturnValue
from flask_babel import gettext as _
from flask_login import current_user
from werkzeug.wrappers import Response

from lms.auth.models import Role
from lms.authoring import drafts
from lms.authoring.access import require_course_trainer
from lms.authoring.document import Document
from lms.authoring.forms import ActionForm, RevisionForm
from lms.courses.models import Course
from lms.errors import LmsError
from lms.extensions import db
from lms.unit_of_work import refusal_kept

bp = Blueprint("authoring", __name__, url_prefix="/authoring")
files_bp = Blueprint("authoring_files", __name__)  # files shown in lessons, outside /authoring
EDITORS = (Role.TRAINER, Role.ADMIN)
Change = Callable[[Document], None]  # one change to a draft's document


def editable(course_id: int) -> Course:
    """The course, when the signed-in person may edit it; otherwise the 404 or 403 page (never a flashed
    refusal, whatever the view does with refused forms)."""
    course = db.session.get(Course, course_id) or abort(404, _("No such course."))
    require_course_trainer(course.id)
    return course


def editor_url(course: Course, anchor: str = "") -> str:
    return url_for("authoring.course", course_id=course.id) + (f"#{anchor}" if anchor else "")


def after_move_url(course: Course, item: str, direction: str | None) -> str:
    """Back to the editor with the moved item's button focused (no fragment: it would cancel autofocus)."""
    return url_for("authoring.course", course_id=course.id, moved=item, direction=direction)


def flash_form_errors(form: RevisionForm) -> None:
    for errors in form.errors.values():
        for message in errors:
            flash(str(message), "error")


def flash_refusal(error: LmsError) -> None:
    """A refusal after a button: its message; for a stale form, also each change made meanwhile."""
    flash(error.message, "error")
    if isinstance(error, drafts.StaleDraft):
        for change in error.changes:
            flash(_("Changed meanwhile: %(change)s", change=change), "info")


@dataclass(frozen=True)
class Edit:
    """One change to the draft: its line in the draft's history, the change itself, where the editor goes
    afterwards (a callable when that depends on the outcome) and the message when it is saved."""

    summary: str
    change: Change
    back: str | Callable[[], str]
    done: str


def _edit_refused(course: Course, form: RevisionForm, edit: Edit) -> LmsError | None:
    """Change the draft once, refusing a form opened at an older revision; a refusal is rolled back."""
    with refusal_kept() as refused:
        drafts.edit_draft(current_user, course, form.revision_number, edit.summary, edit.change)
    return refused.error


def apply_edit(course: Course, form: RevisionForm, edit: Edit) -> Response:
    """The route skeleton of a button: check the form, change the draft, flash, go back."""
    if not form.validate_on_submit():
        flash_form_errors(form)
    elif (error := _edit_refused(course, form, edit)) is not None:
        flash_refusal(error)
    else:
        flash(edit.done, "success")
    return redirect(edit.back() if callable(edit.back) else edit.back)


def draft_edit(form_class: type[RevisionForm] = ActionForm) -> Callable[[Callable[..., Edit]], Any]:
    """Make a POST view from a function that says which edit a button asks for.

    The function gets the editable course, the submitted form (of `form_class`) and the route's other
    arguments, and returns an `Edit`; `apply_edit` does the rest. Put it under `@bp.route` and `@allow`.
    """

    def decorate(describe: Callable[..., Edit]) -> Callable[..., Response]:
        @functools.wraps(describe)
        def view(course_id: int, **arguments: Any) -> Response:
            course = editable(course_id)
            form = form_class()
            return apply_edit(course, form, describe(course, form, **arguments))

        return view

    return decorate


def save_typed(
    course: Course, form: RevisionForm, edit: Edit, page: Callable[..., str], refused_status: int = 422
) -> ResponseReturnValue:
    """Save a validated form with typed input: flash and go to `edit.back`; when the draft refuses it,
    `page` (the form's template, given `stale=` or `refusal=`) shows the form again with what was typed,
    409 for a stale form (saving again now is a deliberate choice, so the form takes the new revision)."""
    error = _edit_refused(course, form, edit)
    if error is None:
        flash(edit.done, "success")
        return redirect(edit.back() if callable(edit.back) else edit.back)
    if isinstance(error, drafts.StaleDraft):
        form.revision.data = str(error.revision)
        return page(stale=error), 409
    return page(refusal=error.message), refused_status


def form_page(
    course: Course,
    form: RevisionForm,
    page: Callable[..., str],
    edit_of: Callable[[], Edit],
    *,
    invalid_status: int = 422,
    refused_status: int = 422,
) -> ResponseReturnValue:
    """The route skeleton of a page with a form of typed input (course details, lesson, quiz settings).

    `form` holds the draft's values on a GET, which shows it; on a POST it is the posted form: shown again
    with what was typed when it is not valid, else saved as the edit `edit_of()` builds (`save_typed`).
    """
    if request.method != "POST":
        return page(form=form)
    if not form.validate_on_submit():
        return page(form=form), invalid_status
    return save_typed(course, form, edit_of(), partial(page, form=form), refused_status)
