"""The lesson editor: adding a lesson to a module, its text (with a preview of the Markdown before
saving), and the lesson as trainees will see it (moving it is in course.py, with the outline)."""

from __future__ import annotations

from functools import partial
from typing import Any

from flask import render_template, request, url_for
from flask.typing import ResponseReturnValue
from flask_babel import gettext as _

from lms.auth.access import allow
from lms.authoring import assets, drafts, outline
from lms.authoring.forms import AddItemForm, LessonForm
from lms.authoring.models import CourseDraft
from lms.authoring.views.base import (
    EDITORS,
    Edit,
    bp,
    draft_edit,
    editable,
    editor_url,
    form_page,
)
from lms.content.markdown import render_markdown
from lms.courses.models import Course


def _lesson_exists(course: Course, slug: str) -> bool:
    doc = drafts.read_draft(course).document
    return any(lesson["slug"] == slug for m in doc["modules"] for lesson in m["lessons"])


@bp.route("/courses/<int:course_id>/modules/<slug>/lessons", methods=["POST"])
@allow(*EDITORS)
@draft_edit(AddItemForm)
def add_lesson(course: Course, form: AddItemForm, slug: str) -> Edit:
    lesson_slug, title = (form.slug.data or "").strip(), (form.title.data or "").strip()

    def back() -> str:  # the lesson's page once it is there (added now, or its slug was taken)
        if not form.errors and _lesson_exists(course, lesson_slug):
            return url_for("authoring.lesson", course_id=course.id, slug=lesson_slug)
        return editor_url(course, f"module-{slug}")

    return Edit(
        _("lesson '%(slug)s' added", slug=lesson_slug),
        lambda d: outline.add_lesson(d, slug, lesson_slug, title),
        back,
        _("Lesson added: now write its text."),
    )


def _lesson_form(draft: CourseDraft, lesson: dict[str, Any]) -> LessonForm:
    text = lesson["text"]
    return LessonForm(
        formdata=None,
        revision=str(draft.revision),
        title=text["title"],
        minutes=text.get("minutes"),
        body_md=text.get("body_md", ""),
        video_url=text.get("video_url") or "",
        transcript=text.get("transcript_md", ""),
    )


def _lesson_values(form: LessonForm) -> dict[str, Any]:
    return {
        "title": form.title.data.strip(),
        "minutes": form.minutes.data,
        "body_md": (form.body_md.data or "").replace("\r\n", "\n").strip(),
        "video_url": (form.video_url.data or "").strip() or None,
        "transcript_md": (form.transcript.data or "").replace("\r\n", "\n").strip(),
    }


def _previewed(form: LessonForm) -> dict[str, str]:
    """The typed text as it will look, without saving it (the "Preview" button)."""
    form.validate_on_submit()
    transcript = form.transcript.data
    return {
        "preview_html": render_markdown(form.body_md.data or ""),
        "transcript_html": render_markdown(transcript or "") if transcript else "",
    }


def _lesson_page(course: Course, module: dict[str, Any], lesson: dict[str, Any], **context: Any) -> str:
    files = assets.course_assets(course.id)
    return render_template(
        "authoring/lesson.html", course=course, module=module, lesson=lesson, assets=files, **context
    )


@bp.route("/courses/<int:course_id>/lessons/<slug>", methods=["GET", "POST"])
@allow(*EDITORS)
def lesson(course_id: int, slug: str) -> ResponseReturnValue:
    course = editable(course_id)
    draft = drafts.read_draft(course)
    module, lesson = outline.find_lesson(draft.document, slug)
    page = partial(_lesson_page, course, module, lesson)
    form = LessonForm() if request.method == "POST" else _lesson_form(draft, lesson)
    if form.action.data == "preview":
        return page(form=form, **_previewed(form))

    def edit() -> Edit:
        values = _lesson_values(form)
        return Edit(
            _("lesson '%(slug)s' edited", slug=slug),
            lambda d: outline.update_lesson(d, slug, values),
            url_for("authoring.lesson", course_id=course.id, slug=slug),
            _("Lesson saved in the draft."),
        )

    return form_page(course, form, page, edit)


@bp.route("/courses/<int:course_id>/preview/lessons/<slug>")
@allow(*EDITORS)
def preview_lesson(course_id: int, slug: str) -> str:
    course = editable(course_id)
    doc = drafts.read_draft(course).document
    _module, lesson = outline.find_lesson(doc, slug)
    text = lesson["text"]
    return render_template(
        "authoring/preview_lesson.html",
        course=course,
        doc=doc,
        lesson=lesson,
        body_html=render_markdown(text.get("body_md", "")),
        transcript_html=render_markdown(text["transcript_md"]) if text.get("transcript_md") else "",
    )
