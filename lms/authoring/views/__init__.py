"""Course authoring in the browser. Every route: trainers and admins; the service checks the assignment."""

from __future__ import annotations

import io
import secrets
from collections.abc import Callable
from decimal import Decimal
from typing import Any, NoReturn

from flask import Blueprint, abort, flash, redirect, render_template, request, send_file, url_for
from flask_babel import gettext as _
from flask_login import current_user
from werkzeug.wrappers import Response
from wtforms import SelectChoice

from lms.auth.access import AUTHENTICATED, allow
from lms.auth.models import Role, User
from lms.authoring import exporter, services
from lms.authoring.document import Document, from_document
from lms.authoring.forms import (
    ActionForm,
    AddItemForm,
    AssignForm,
    BankQuestionForm,
    DrawForm,
    ImportForm,
    LessonForm,
    MetadataForm,
    MoveForm,
    NewCourseForm,
    PreviewAnswersForm,
    PublishForm,
    QuestionForm,
    QuizForm,
    RenameForm,
    RevisionForm,
    UnassignForm,
    UploadForm,
)
from lms.authoring.preview import freeze_preview, grade_preview
from lms.authoring.question_fields import (
    QuestionFields,
    fields_from_spec,
    spec_from_fields,
    spec_from_yaml,
    yaml_only,
)
from lms.content.markdown import render_markdown
from lms.courses.models import Course
from lms.errors import LmsError
from lms.extensions import db
from lms.quizzes.forms import AttemptForm
from lms.quizzes.grading import REGISTRY, question_type
from lms.request_input import database_id

bp = Blueprint("authoring", __name__, url_prefix="/authoring")
EDITORS = (Role.TRAINER, Role.ADMIN)
WHERE = ("quiz", "bank")


def _abort(error: LmsError) -> NoReturn:
    abort(error.status_code, error.message)


def _course(course_id: int) -> Course:
    try:
        return services.editable_course(current_user, course_id)
    except LmsError as error:
        _abort(error)


def _editor_url(course: Course, anchor: str = "") -> str:
    return url_for("authoring.course", course_id=course.id) + (f"#{anchor}" if anchor else "")


def _after_move_url(course: Course, item: str, direction: str | None) -> str:
    """Back to the editor with the moved item's button focused (no fragment: it would cancel autofocus)."""
    return url_for("authoring.course", course_id=course.id, moved=item, direction=direction)


def _flash_stale(error: services.StaleDraft) -> None:
    flash(error.message, "error")
    for change in error.changes:
        flash(_("Changed meanwhile: %(change)s", change=change), "info")


def _apply(
    course: Course, form: RevisionForm, summary: str, change: Callable[[Document], None], back: str, done: str
) -> Response:
    """Parse -> edit the draft -> commit once -> redirect; a refusal rolls everything back."""
    if not form.validate_on_submit():
        for errors in form.errors.values():
            for message in errors:
                flash(str(message), "error")
        return redirect(back)
    try:
        services.edit_draft(current_user, course, form.revision_number, summary, change)
    except services.StaleDraft as error:
        db.session.rollback()
        _flash_stale(error)
        return redirect(back)
    except LmsError as error:
        db.session.rollback()
        flash(error.message, "error")
        return redirect(back)
    db.session.commit()
    flash(done, "success")
    return redirect(back)


def _save_form(
    course: Course, form: RevisionForm, summary: str, change: Callable[[Document], None]
) -> dict[str, Any] | None:
    """For forms with typed input: None when saved; otherwise what to show beside the kept input."""
    try:
        services.edit_draft(current_user, course, form.revision_number, summary, change)
    except services.StaleDraft as error:
        db.session.rollback()
        form.revision.data = str(error.revision)  # saving again now is a deliberate choice
        return {"stale": error}
    except LmsError as error:
        db.session.rollback()
        return {"refusal": error.message}
    db.session.commit()
    return None


# --- overview, new course, import, assignments ----------------------------------------------------------


@bp.route("/")
@allow(*EDITORS)
def index() -> str:
    return render_template(
        "authoring/index.html",
        courses=services.editable_courses(current_user),
        trainers=services.trainers_by_course(),
        new_form=NewCourseForm(),
        import_form=ImportForm(),
    )


@bp.route("/courses/new", methods=["POST"])
@allow(*EDITORS)
def new_course() -> Response:
    form = NewCourseForm()
    if not form.validate_on_submit():
        for name, errors in form.errors.items():
            for message in errors:
                flash(f"{form[name].label.text}: {message}", "error")
        return redirect(url_for("authoring.index"))
    try:
        course = services.create_course(
            current_user, form.slug.data, form.title.data.strip(), form.language.data
        )
    except LmsError as error:
        db.session.rollback()
        flash(error.message, "error")
        return redirect(url_for("authoring.index"))
    db.session.commit()
    flash(_("Course created as a draft. Add a module and a lesson, then publish it."), "success")
    return redirect(_editor_url(course))


@bp.route("/import", methods=["POST"])
@allow(*EDITORS)
def import_zip() -> Response | tuple[str, int]:
    form = ImportForm()
    if not form.validate_on_submit():
        flash(_("Choose a zip file."), "error")
        return redirect(url_for("authoring.index"))
    try:
        course = services.import_zip(current_user, form.archive.data.read())
    except services.PublishRefused as error:
        db.session.rollback()
        return render_template("authoring/problems.html", message=error.message, problems=error.problems), 422
    except LmsError as error:
        db.session.rollback()
        flash(error.message, "error")
        return redirect(url_for("authoring.index"))
    db.session.commit()
    flash(_("The zip was imported into the draft. Review it, then publish."), "success")
    return redirect(_editor_url(course))


@bp.route("/assignments", methods=["GET", "POST"])
@allow(Role.ADMIN)
def assignments() -> str | Response:
    form = AssignForm()
    courses = db.session.scalars(db.select(Course).order_by(Course.title)).all()
    form.course.choices = [SelectChoice(c.id, c.title) for c in courses]
    form.trainer.choices = [
        SelectChoice(u.id, f"{u.full_name} <{u.email}>") for u in services.trainer_candidates()
    ]
    if form.validate_on_submit():
        course = db.session.get(Course, form.course.data) or abort(404)
        trainer = db.session.get(User, form.trainer.data) or abort(404)
        try:
            services.assign_trainer(current_user, course, trainer)
        except LmsError as error:
            db.session.rollback()
            flash(error.message, "error")
            return redirect(url_for("authoring.assignments"))
        db.session.commit()
        flash(_("%(name)s may now edit %(course)s.", name=trainer.full_name, course=course.title), "success")
        return redirect(url_for("authoring.assignments"))
    return render_template(
        "authoring/assignments.html",
        form=form,
        courses=courses,
        trainers=services.trainers_by_course(),
        remove_form=UnassignForm(),
    )


@bp.route("/assignments/remove", methods=["POST"])
@allow(Role.ADMIN)
def unassign() -> Response:
    form = UnassignForm()
    course_id, trainer_id = database_id(form.course.data), database_id(form.trainer.data)
    if not form.validate_on_submit() or course_id is None or trainer_id is None:
        abort(400)
    course = db.session.get(Course, course_id) or abort(404)
    trainer = db.session.get(User, trainer_id) or abort(404)
    try:
        services.unassign_trainer(current_user, course, trainer)
    except LmsError as error:
        db.session.rollback()
        flash(error.message, "error")
        return redirect(url_for("authoring.assignments"))
    db.session.commit()
    flash(_("%(name)s no longer edits %(course)s.", name=trainer.full_name, course=course.title), "success")
    return redirect(url_for("authoring.assignments"))


# --- the course editor ----------------------------------------------------------------------------------


@bp.route("/courses/<int:course_id>")
@allow(*EDITORS)
def course(course_id: int) -> str:
    course = _course(course_id)
    draft = services.get_draft(course)
    db.session.commit()  # a first visit creates the draft
    revision = str(draft.revision)

    def form(cls: type[RevisionForm], **data: Any) -> RevisionForm:
        return cls(formdata=None, revision=revision, **data)

    return render_template(
        "authoring/course.html",
        course=course,
        draft=draft,
        doc=draft.document,
        changed=services.draft_has_changes(course, draft),
        action=form(ActionForm),
        move=form(MoveForm),
        add_module=form(AddItemForm),
        add_quiz=form(AddItemForm),
        add_bank=form(AddItemForm),
        rename=form(RenameForm),
        publish_form=form(PublishForm),
        upload_form=UploadForm(formdata=None),
        assets=services.course_assets(course.id),
        versions=services.versions(course.id),
        recent=services.edits_since(course.id, max(0, draft.revision - 10)),
        moved={"item": request.args.get("moved", ""), "direction": request.args.get("direction", "")},
    )


@bp.route("/courses/<int:course_id>/metadata", methods=["GET", "POST"])
@allow(*EDITORS)
def metadata(course_id: int) -> str | Response | tuple[str, int]:
    course = _course(course_id)
    draft = services.get_draft(course)
    doc = draft.document
    if request.method == "GET":
        form = MetadataForm(
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
        db.session.commit()
        return render_template("authoring/metadata.html", course=course, form=form)
    form = MetadataForm()
    outcome: dict[str, Any] | None = {}
    if form.validate_on_submit():
        values = {
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
        outcome = _save_form(
            course, form, _("course details edited"), lambda d: services.update_metadata(d, values)
        )
        if outcome is None:
            flash(_("Course details saved in the draft."), "success")
            return redirect(_editor_url(course))
    return render_template(
        "authoring/metadata.html", course=course, form=form, **(outcome or {})
    ), 409 if outcome and "stale" in outcome else 200


@bp.route("/courses/<int:course_id>/modules", methods=["POST"])
@allow(*EDITORS)
def add_module(course_id: int) -> Response:
    course = _course(course_id)
    form = AddItemForm()
    slug, title = (form.slug.data or "").strip(), (form.title.data or "").strip()
    return _apply(
        course,
        form,
        _("module '%(slug)s' added", slug=slug),
        lambda d: services.add_module(d, slug, title),
        _editor_url(course, "modules"),
        _("Module added."),
    )


@bp.route("/courses/<int:course_id>/modules/<slug>/rename", methods=["POST"])
@allow(*EDITORS)
def rename_module(course_id: int, slug: str) -> Response:
    course = _course(course_id)
    form = RenameForm()
    title = (form.title.data or "").strip()
    return _apply(
        course,
        form,
        _("module '%(slug)s' renamed", slug=slug),
        lambda d: services.rename_module(d, slug, title),
        _editor_url(course, f"module-{slug}"),
        _("Module renamed."),
    )


@bp.route("/courses/<int:course_id>/modules/<slug>/move", methods=["POST"])
@allow(*EDITORS)
def move_module(course_id: int, slug: str) -> Response:
    course = _course(course_id)
    form = MoveForm()
    direction = form.direction.data
    return _apply(
        course,
        form,
        _("module '%(slug)s' moved %(direction)s", slug=slug, direction=direction),
        lambda d: services.move_module(d, slug, direction),
        _after_move_url(course, f"module-{slug}", direction),
        _("Module moved."),
    )


@bp.route("/courses/<int:course_id>/modules/<slug>/lessons", methods=["POST"])
@allow(*EDITORS)
def add_lesson(course_id: int, slug: str) -> Response:
    course = _course(course_id)
    form = AddItemForm()
    lesson_slug, title = (form.slug.data or "").strip(), (form.title.data or "").strip()
    response = _apply(
        course,
        form,
        _("lesson '%(slug)s' added", slug=lesson_slug),
        lambda d: services.add_lesson(d, slug, lesson_slug, title),
        _editor_url(course, f"module-{slug}"),
        _("Lesson added: now write its text."),
    )
    if response.status_code == 302 and form.errors == {} and _lesson_exists(course, lesson_slug):
        return redirect(url_for("authoring.lesson", course_id=course.id, slug=lesson_slug))
    return response


def _lesson_exists(course: Course, slug: str) -> bool:
    doc = services.get_draft(course).document
    return any(lesson["slug"] == slug for m in doc["modules"] for lesson in m["lessons"])


@bp.route("/courses/<int:course_id>/lessons/<slug>", methods=["GET", "POST"])
@allow(*EDITORS)
def lesson(course_id: int, slug: str) -> str | Response | tuple[str, int]:
    course = _course(course_id)
    draft = services.get_draft(course)
    try:
        module, lesson = services.find_lesson(draft.document, slug)
    except LmsError as error:
        _abort(error)
    if request.method == "GET":
        text = lesson["text"]
        form = LessonForm(
            formdata=None,
            revision=str(draft.revision),
            title=text["title"],
            minutes=text.get("minutes"),
            body_md=text.get("body_md", ""),
            video_url=text.get("video_url") or "",
            transcript=text.get("transcript_md", ""),
        )
        db.session.commit()
        return render_template(
            "authoring/lesson.html",
            course=course,
            form=form,
            module=module,
            lesson=lesson,
            assets=services.course_assets(course.id),
        )
    form = LessonForm()
    context: dict[str, Any] = {}
    status = 200
    if request.form.get("action") == "preview":
        form.validate_on_submit()
        context["preview_html"] = render_markdown(form.body_md.data or "")
        context["transcript_html"] = (
            render_markdown(form.transcript.data or "") if form.transcript.data else ""
        )
    elif form.validate_on_submit():
        values = {
            "title": form.title.data.strip(),
            "minutes": form.minutes.data,
            "body_md": (form.body_md.data or "").replace("\r\n", "\n").strip(),
            "video_url": (form.video_url.data or "").strip() or None,
            "transcript_md": (form.transcript.data or "").replace("\r\n", "\n").strip(),
        }
        outcome = _save_form(
            course,
            form,
            _("lesson '%(slug)s' edited", slug=slug),
            lambda d: services.update_lesson(d, slug, values),
        )
        if outcome is None:
            flash(_("Lesson saved in the draft."), "success")
            return redirect(url_for("authoring.lesson", course_id=course.id, slug=slug))
        context.update(outcome)
        status = 409 if "stale" in outcome else 422
    else:
        status = 422
    return render_template(
        "authoring/lesson.html",
        course=course,
        form=form,
        module=module,
        lesson=lesson,
        assets=services.course_assets(course.id),
        **context,
    ), status


@bp.route("/courses/<int:course_id>/lessons/<slug>/move", methods=["POST"])
@allow(*EDITORS)
def move_lesson(course_id: int, slug: str) -> Response:
    course = _course(course_id)
    form = MoveForm()
    direction = form.direction.data
    return _apply(
        course,
        form,
        _("lesson '%(slug)s' moved %(direction)s", slug=slug, direction=direction),
        lambda d: services.move_lesson(d, slug, direction),
        _after_move_url(course, f"lesson-{slug}", direction),
        _("Lesson moved."),
    )


@bp.route("/courses/<int:course_id>/<kind>/<slug>/delete", methods=["GET", "POST"])
@allow(*EDITORS)
def delete(course_id: int, kind: str, slug: str) -> str | Response:
    """Confirm, saying which trainee records are affected; then remove from the draft (publish archives)."""
    course = _course(course_id)
    draft = services.get_draft(course)
    doc = draft.document
    quizzes: list[str] = []
    try:
        if kind == "lessons":
            _module, item = services.find_lesson(doc, slug)
            lessons, quizzes, title = [slug], [], item["text"]["title"]
            change: Callable[[Document], None] = lambda d: services.delete_lesson(d, slug)  # noqa: E731
        elif kind == "modules":
            item = services.find_module(doc, slug)
            lessons, quizzes, title = [ls["slug"] for ls in item["lessons"]], [], item["title"]
            change = lambda d: services.delete_module(d, slug)  # noqa: E731
        elif kind == "quizzes":
            item = services.find_quiz(doc, slug)
            lessons, quizzes, title = [], [slug], item["title"]
            change = lambda d: services.delete_quiz(d, slug)  # noqa: E731
        elif kind == "banks":
            item = services.find_bank(doc, slug)
            lessons, quizzes, title = [], [], item["title"]
            change = lambda d: services.delete_bank(d, slug)  # noqa: E731
        else:
            abort(404)
    except LmsError as error:
        _abort(error)
    if request.method == "POST":
        return _apply(
            course,
            ActionForm(),
            _("%(kind)s '%(slug)s' deleted", kind=kind.rstrip("s"), slug=slug),
            change,
            _editor_url(course),
            _("Deleted from the draft. Publish to apply it."),
        )
    impact = services.deletion_impact(course, lessons, quizzes)
    db.session.commit()
    return render_template(
        "authoring/confirm_delete.html",
        course=course,
        kind=kind,
        slug=slug,
        title=title,
        impact=impact,
        lesson_count=len(lessons),
        form=ActionForm(formdata=None, revision=str(draft.revision)),
    )


# --- preview of the draft as trainees will see it --------------------------------------------------------


@bp.route("/courses/<int:course_id>/preview")
@allow(*EDITORS)
def preview(course_id: int) -> str:
    course = _course(course_id)
    doc = services.get_draft(course).document
    db.session.commit()
    return render_template("authoring/preview.html", course=course, doc=doc)


@bp.route("/courses/<int:course_id>/preview/lessons/<slug>")
@allow(*EDITORS)
def preview_lesson(course_id: int, slug: str) -> str:
    course = _course(course_id)
    doc = services.get_draft(course).document
    try:
        _module, lesson = services.find_lesson(doc, slug)
    except LmsError as error:
        _abort(error)
    db.session.commit()
    text = lesson["text"]
    return render_template(
        "authoring/preview_lesson.html",
        course=course,
        doc=doc,
        lesson=lesson,
        body_html=render_markdown(text.get("body_md", "")),
        transcript_html=render_markdown(text["transcript_md"]) if text.get("transcript_md") else "",
    )


# --- quizzes, banks, questions -------------------------------------------------------------------------


@bp.route("/courses/<int:course_id>/quizzes", methods=["POST"])
@allow(*EDITORS)
def add_quiz(course_id: int) -> Response:
    course = _course(course_id)
    form = AddItemForm()
    slug, title = (form.slug.data or "").strip(), (form.title.data or "").strip()
    response = _apply(
        course,
        form,
        _("quiz '%(slug)s' added", slug=slug),
        lambda d: services.add_quiz(d, slug, title),
        _editor_url(course, "quizzes"),
        _("Quiz added: now add its questions."),
    )
    if any(q["slug"] == slug for q in services.get_draft(course).document["quizzes"]):
        return redirect(url_for("authoring.quiz", course_id=course.id, slug=slug))
    return response


@bp.route("/courses/<int:course_id>/banks", methods=["POST"])
@allow(*EDITORS)
def add_bank(course_id: int) -> Response:
    course = _course(course_id)
    form = AddItemForm()
    slug, title = (form.slug.data or "").strip(), (form.title.data or "").strip()
    return _apply(
        course,
        form,
        _("bank '%(slug)s' added", slug=slug),
        lambda d: services.add_bank(d, slug, title),
        _editor_url(course, "banks"),
        _("Question bank added."),
    )


def _quiz_context(course: Course, doc: Document, quiz: dict[str, Any], revision: str) -> dict[str, Any]:
    draw = DrawForm(formdata=None, revision=revision)
    draw.bank.choices = [SelectChoice(b["slug"], b["title"]) for b in doc["banks"]]
    pick = BankQuestionForm(formdata=None, revision=revision)
    pick.key.choices = [
        SelectChoice(q["key"], f"{b['slug']}: {q['key']}") for b in doc["banks"] for q in b["questions"]
    ]
    inline = {q["key"]: q for q in quiz["questions"]}
    return {
        "course": course,
        "quiz": quiz,
        "inline": inline,
        "draw_form": draw,
        "pick_form": pick,
        "action": ActionForm(formdata=None, revision=revision),
        "move": MoveForm(formdata=None, revision=revision),
        "types": REGISTRY,
    }


@bp.route("/courses/<int:course_id>/quizzes/<slug>", methods=["GET", "POST"])
@allow(*EDITORS)
def quiz(course_id: int, slug: str) -> str | Response | tuple[str, int]:
    course = _course(course_id)
    draft = services.get_draft(course)
    try:
        quiz = services.find_quiz(draft.document, slug)
    except LmsError as error:
        _abort(error)
    revision = str(draft.revision)
    context = _quiz_context(course, draft.document, quiz, revision)
    if request.method == "GET":
        review = quiz.get("review") or {}
        form = QuizForm(
            formdata=None,
            revision=revision,
            title=quiz["title"],
            description=quiz.get("description", ""),
            role=quiz["role"],
            pass_mark=quiz["pass_mark"],
            attempts_allowed=quiz.get("attempts_allowed"),
            time_limit_minutes=quiz.get("time_limit_minutes"),
            grading_method=quiz["grading_method"],
            shuffle_questions=quiz["shuffle_questions"],
            shuffle_choices=quiz["shuffle_choices"],
            review_answers=review.get("answers"),
            review_correct_answers=review.get("correct_answers"),
            review_feedback=review.get("feedback"),
        )
        db.session.commit()
        return render_template("authoring/quiz.html", form=form, **context)
    form = QuizForm()
    if form.validate_on_submit():
        values = {
            "title": form.title.data.strip(),
            "description": (form.description.data or "").strip(),
            "role": form.role.data,
            "pass_mark": form.pass_mark.data,
            "attempts_allowed": form.attempts_allowed.data,
            "time_limit_minutes": form.time_limit_minutes.data,
            "grading_method": form.grading_method.data,
            "shuffle_questions": bool(form.shuffle_questions.data),
            "shuffle_choices": bool(form.shuffle_choices.data),
            "review": {
                "answers": form.review_answers.data,
                "correct_answers": form.review_correct_answers.data,
                "feedback": form.review_feedback.data,
            },
        }
        outcome = _save_form(
            course,
            form,
            _("quiz '%(slug)s' settings edited", slug=slug),
            lambda d: services.update_quiz(d, slug, values),
        )
        if outcome is None:
            flash(_("Quiz settings saved in the draft."), "success")
            return redirect(url_for("authoring.quiz", course_id=course.id, slug=slug))
        context.update(outcome)
        return render_template(
            "authoring/quiz.html", form=form, **context
        ), 409 if "stale" in outcome else 422
    return render_template("authoring/quiz.html", form=form, **context), 422


@bp.route("/courses/<int:course_id>/quizzes/<slug>/draw", methods=["POST"])
@allow(*EDITORS)
def add_draw(course_id: int, slug: str) -> Response:
    course = _course(course_id)
    form = DrawForm()
    form.bank.choices = [
        SelectChoice(b["slug"], b["title"]) for b in services.get_draft(course).document["banks"]
    ]
    bank, tag, count = form.bank.data, (form.tag.data or "").strip(), form.count.data or 1
    return _apply(
        course,
        form,
        _("quiz '%(slug)s': draw added", slug=slug),
        lambda d: services.add_draw(d, slug, bank, tag, count),
        url_for("authoring.quiz", course_id=course.id, slug=slug),
        _("Draw added."),
    )


@bp.route("/courses/<int:course_id>/quizzes/<slug>/bank-question", methods=["POST"])
@allow(*EDITORS)
def add_bank_question(course_id: int, slug: str) -> Response:
    course = _course(course_id)
    form = BankQuestionForm()
    doc = services.get_draft(course).document
    form.key.choices = [SelectChoice(q["key"], q["key"]) for b in doc["banks"] for q in b["questions"]]
    key = form.key.data
    return _apply(
        course,
        form,
        _("quiz '%(slug)s': question %(key)s added", slug=slug, key=key),
        lambda d: services.add_bank_question_to_quiz(d, slug, key),
        url_for("authoring.quiz", course_id=course.id, slug=slug),
        _("Question added."),
    )


@bp.route("/courses/<int:course_id>/quizzes/<slug>/entries/<int:index>/<operation>", methods=["POST"])
@allow(*EDITORS)
def quiz_entry(course_id: int, slug: str, index: int, operation: str) -> Response:
    course = _course(course_id)
    back = url_for("authoring.quiz", course_id=course.id, slug=slug)
    if operation == "remove":
        return _apply(
            course,
            ActionForm(),
            _("quiz '%(slug)s': entry removed", slug=slug),
            lambda d: services.remove_slot(d, slug, index),
            back,
            _("Removed from the quiz."),
        )
    if operation == "move":
        form = MoveForm()
        direction = form.direction.data
        moved = max(0, index - 1 if direction == "up" else index + 1)  # where the entry now is
        return _apply(
            course,
            form,
            _("quiz '%(slug)s': entry moved", slug=slug),
            lambda d: services.move_slot(d, slug, index, direction),
            url_for("authoring.quiz", course_id=course.id, slug=slug, moved=moved, direction=direction),
            _("Moved."),
        )
    abort(404)


@bp.route("/courses/<int:course_id>/banks/<slug>")
@allow(*EDITORS)
def bank(course_id: int, slug: str) -> str:
    course = _course(course_id)
    draft = services.get_draft(course)
    try:
        bank = services.find_bank(draft.document, slug)
    except LmsError as error:
        _abort(error)
    db.session.commit()
    return render_template(
        "authoring/bank.html",
        course=course,
        bank=bank,
        types=REGISTRY,
        action=ActionForm(formdata=None, revision=str(draft.revision)),
    )


def _container(doc: Document, where: str, slug: str) -> dict[str, Any]:
    if where not in WHERE:
        abort(404)
    try:
        return services.find_quiz(doc, slug) if where == "quiz" else services.find_bank(doc, slug)
    except LmsError as error:
        _abort(error)


def _back(course: Course, where: str, slug: str) -> str:
    endpoint = "authoring.quiz" if where == "quiz" else "authoring.bank"
    return url_for(endpoint, course_id=course.id, slug=slug)


@bp.route("/courses/<int:course_id>/<where>/<slug>/questions/new", methods=["GET", "POST"])
@allow(*EDITORS)
def new_question(course_id: int, where: str, slug: str) -> str | Response | tuple[str, int]:
    return _question_page(course_id, where, slug, None)


@bp.route("/courses/<int:course_id>/<where>/<slug>/questions/<key>", methods=["GET", "POST"])
@allow(*EDITORS)
def question(course_id: int, where: str, slug: str, key: str) -> str | Response | tuple[str, int]:
    return _question_page(course_id, where, slug, key)


def _question_page(
    course_id: int, where: str, slug: str, key: str | None
) -> str | Response | tuple[str, int]:
    course = _course(course_id)
    draft = services.get_draft(course)
    container = _container(draft.document, where, slug)
    existing = next((q for q in container["questions"] if q["key"] == key), None) if key else None
    if key and existing is None:
        abort(404)
    context: dict[str, Any] = {
        "course": course,
        "where": where,
        "slug": slug,
        "key": key,
        "container": container,
    }
    if request.method == "GET":
        if existing is not None:
            spec = existing["spec"]
            mode = "yaml" if yaml_only(spec) or request.args.get("mode") == "yaml" else "fields"
            fields = fields_from_spec(spec)
        else:
            qtype = request.args.get("type", "single_choice")
            fields = QuestionFields(type=qtype if qtype in REGISTRY else "single_choice")
            mode = "yaml" if request.args.get("mode") == "yaml" else "fields"
            spec = {"id": "", "type": fields.type, "prompt": ""}
        form = QuestionForm(
            formdata=None,
            revision=str(draft.revision),
            mode=mode,
            source=exporter.dump_yaml(spec),
            **vars(fields),
        )
        db.session.commit()
        return render_template("authoring/question.html", form=form, **context)
    form = QuestionForm()
    if not form.validate_on_submit():
        return render_template("authoring/question.html", form=form, **context), 422
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
    if problems:
        for name, messages in problems.by_field.items():
            target = getattr(form, name, None) if name != "source" else form.source
            if target is not None and hasattr(target, "errors"):
                target.errors = [*list(target.errors), *messages]
        context["problems"] = problems.messages()
        return render_template("authoring/question.html", form=form, **context), 422
    summary = _("%(where)s '%(slug)s': question %(key)s saved", where=where, slug=slug, key=spec["id"])
    outcome = _save_form(course, form, summary, lambda d: services.save_question(d, where, slug, key, spec))
    if outcome is None:
        flash(_("Question saved in the draft."), "success")
        return redirect(_back(course, where, slug))
    context.update(outcome)
    return render_template(
        "authoring/question.html", form=form, **context
    ), 409 if "stale" in outcome else 422


@bp.route("/courses/<int:course_id>/<where>/<slug>/questions/<key>/delete", methods=["POST"])
@allow(*EDITORS)
def delete_question(course_id: int, where: str, slug: str, key: str) -> Response:
    course = _course(course_id)
    if where not in WHERE:
        abort(404)
    return _apply(
        course,
        ActionForm(),
        _("%(where)s '%(slug)s': question %(key)s deleted", where=where, slug=slug, key=key),
        lambda d: services.delete_question(d, where, slug, key),
        _back(course, where, slug),
        _("Question deleted from the draft."),
    )


@bp.route("/courses/<int:course_id>/quizzes/<slug>/preview", methods=["GET", "POST"])
@allow(*EDITORS)
def preview_quiz(course_id: int, slug: str) -> str | Response:
    """Preview as trainee: drawn and graded exactly like an attempt, and nothing is recorded."""
    course = _course(course_id)
    doc = services.get_draft(course).document
    try:
        quiz = services.find_quiz(doc, slug)
    except LmsError as error:
        _abort(error)
    db.session.commit()
    form = PreviewAnswersForm()
    graded = None
    if request.method == "POST" and form.validate_on_submit():
        seed = int(form.seed.data)
        items = freeze_preview(doc, slug, seed, str(doc["language"]))
        raw = AttemptForm(formdata=None).answers(request.form)
        raw.pop(-1, None)
        score, percent_scored = grade_preview(items, raw)
        graded = {"score": score, "percent": percent_scored, "passed": percent_scored >= quiz["pass_mark"]}
    else:
        seed = secrets.randbelow(10**9)
        form.seed.data = str(seed)
        items = freeze_preview(doc, slug, seed, str(doc["language"]))
    views = [
        {
            "position": item.position,
            "name": item.name,
            "template": question_type(item.frozen.type).template,
            "view": item.frozen.view,
            "answer": item.answer,
            "points": item.frozen.points,
            "score": item.score,
            "fraction": item.fraction,
            "feedback": item.feedback,
            "rejected": item.rejected,
            "correct_answer": question_type(item.frozen.type).correct_answer(item.frozen.as_dict())
            if graded
            else None,
        }
        for item in items
    ]
    return render_template(
        "authoring/preview_quiz.html",
        course=course,
        quiz=quiz,
        items=views,
        form=form,
        graded=graded,
        seed=seed,
        total=sum(i.frozen.points for i in items),
    )


# --- assets ---------------------------------------------------------------------------------------------


@bp.route("/courses/<int:course_id>/assets", methods=["POST"])
@allow(*EDITORS)
def upload_asset(course_id: int) -> Response:
    course = _course(course_id)
    form = UploadForm()
    back = request.form.get("back") or ""
    target = back if back.startswith("/authoring/") else _editor_url(course, "files")
    if not form.validate_on_submit():
        flash(_("Choose a file to upload."), "error")
        return redirect(target)
    upload = form.file.data
    try:
        asset = services.store_asset(current_user, course, upload.filename or "file", upload.read())
    except LmsError as error:
        db.session.rollback()
        flash(error.message, "error")
        return redirect(target)
    db.session.commit()
    address = url_for("authoring_files.asset", slug=course.slug, name=asset.name)
    flash(_("Uploaded. Use it in a lesson as ![description](%(address)s)", address=address), "success")
    return redirect(target)


@bp.route("/courses/<int:course_id>/assets/<name>/delete", methods=["POST"])
@allow(*EDITORS)
def delete_asset(course_id: int, name: str) -> Response:
    course = _course(course_id)
    if not ActionForm().validate_on_submit():
        abort(400)
    try:
        services.delete_asset(course, name)
    except LmsError as error:
        _abort(error)
    db.session.commit()
    flash(_("File deleted."), "success")
    return redirect(_editor_url(course, "files"))


# --- publish, discard, export ---------------------------------------------------------------------------


@bp.route("/courses/<int:course_id>/publish", methods=["POST"])
@allow(*EDITORS)
def publish(course_id: int) -> str | Response | tuple[str, int]:
    course = _course(course_id)
    form = PublishForm()
    if not form.validate_on_submit():
        for errors in form.errors.values():
            for message in errors:
                flash(str(message), "error")
        return redirect(_editor_url(course, "publish"))
    try:
        version = services.publish(current_user, course, form.revision_number, form.note.data)
    except services.StaleDraft as error:
        db.session.rollback()
        _flash_stale(error)
        return redirect(_editor_url(course, "publish"))
    except services.PublishRefused as error:
        db.session.rollback()
        return render_template(
            "authoring/problems.html", message=error.message, problems=error.problems, course=course
        ), 422
    except LmsError as error:
        db.session.rollback()
        flash(error.message, "error")
        return redirect(_editor_url(course, "publish"))
    db.session.commit()
    flash(_("Version %(version)s is published: trainees see it now.", version=version.version), "success")
    return redirect(_editor_url(course, "versions"))


@bp.route("/courses/<int:course_id>/discard", methods=["POST"])
@allow(*EDITORS)
def discard(course_id: int) -> Response:
    course = _course(course_id)
    form = ActionForm()
    if not form.validate_on_submit():
        abort(400)
    try:
        services.discard_draft(current_user, course, form.revision_number)
    except services.StaleDraft as error:
        db.session.rollback()
        _flash_stale(error)
        return redirect(_editor_url(course))
    except LmsError as error:
        db.session.rollback()
        flash(error.message, "error")
        return redirect(_editor_url(course))
    db.session.commit()
    flash(_("The draft is back to the published version."), "success")
    return redirect(_editor_url(course))


@bp.route("/courses/<int:course_id>/export.zip")
@allow(*EDITORS)
def export(course_id: int) -> Response:
    course = _course(course_id)
    draft = request.args.get("draft") == "1"
    files = services.export_files(course, draft=draft)
    db.session.commit()
    spec_slug = from_document(services.get_draft(course).document).slug if draft else course.slug
    data = exporter.zip_bytes(files, spec_slug)
    name = f"{spec_slug}{'-draft' if draft else ''}.zip"
    return send_file(io.BytesIO(data), mimetype="application/zip", as_attachment=True, download_name=name)


# --- files shown in lessons -----------------------------------------------------------------------------

files_bp = Blueprint("authoring_files", __name__)


@files_bp.route("/courses/<slug>/files/<name>")
@allow(AUTHENTICATED)
def asset(slug: str, name: str) -> Response:
    """Uploaded images and PDFs: only for people who may see the course (never a static folder)."""
    try:
        found, path = services.viewable_asset(current_user, slug, name)
    except LmsError as error:
        _abort(error)
    # Read whole (at most a few MB): no file handle outlives the request.
    response = send_file(
        io.BytesIO(path.read_bytes()),
        mimetype=found.content_type,
        download_name=found.name,
        as_attachment=request.args.get("download") == "1",
    )
    response.headers["X-Content-Type-Options"] = "nosniff"
    response.headers["Content-Security-Policy"] = "default-src 'none'; sandbox"
    response.headers["Cache-Control"] = "private, max-age=300"
    return response
