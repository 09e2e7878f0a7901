"""The quiz editor: adding a quiz, its settings, its entries (questions of its own, draws from a bank,
a bank's question picked by key; removed and moved), and the preview as a trainee."""

from __future__ import annotations

import secrets
from functools import partial
from typing import Any

from flask import abort, render_template, request, url_for
from flask.typing import ResponseReturnValue
from flask_babel import gettext as _
from werkzeug.wrappers import Response
from wtforms import SelectChoice

from lms.auth.access import allow
from lms.authoring import drafts, quiz_edits
from lms.authoring.document import Document
from lms.authoring.forms import (
    ActionForm,
    AddItemForm,
    BankQuestionForm,
    DrawForm,
    MoveForm,
    PreviewAnswersForm,
    QuizForm,
)
from lms.authoring.preview import PreviewItem, freeze_preview, grade_preview
from lms.authoring.views.base import (
    EDITORS,
    Change,
    Edit,
    apply_edit,
    bp,
    draft_edit,
    editable,
    editor_url,
    form_page,
)
from lms.courses.models import Course
from lms.quizzes.forms import AttemptForm
from lms.quizzes.grading import REGISTRY, question_type


def _quiz_url(course: Course, slug: str, **arguments: Any) -> str:
    return url_for("authoring.quiz", course_id=course.id, slug=slug, **arguments)


@bp.route("/courses/<int:course_id>/quizzes", methods=["POST"])
@allow(*EDITORS)
@draft_edit(AddItemForm)
def add_quiz(course: Course, form: AddItemForm) -> Edit:
    slug, title = (form.slug.data or "").strip(), (form.title.data or "").strip()

    def back() -> str:  # the quiz's page once it is there (added now, or its slug was taken)
        if any(q["slug"] == slug for q in drafts.read_draft(course).document["quizzes"]):
            return _quiz_url(course, slug)
        return editor_url(course, "quizzes")

    return Edit(
        _("quiz '%(slug)s' added", slug=slug),
        lambda d: quiz_edits.add_quiz(d, slug, title),
        back,
        _("Quiz added: now add its questions."),
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


def _quiz_form(quiz: dict[str, Any], revision: str) -> QuizForm:
    review = quiz.get("review") or {}
    return QuizForm(
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


def _quiz_values(form: QuizForm) -> dict[str, Any]:
    return {
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


@bp.route("/courses/<int:course_id>/quizzes/<slug>", methods=["GET", "POST"])
@allow(*EDITORS)
def quiz(course_id: int, slug: str) -> ResponseReturnValue:
    course = editable(course_id)
    draft = drafts.read_draft(course)
    quiz = quiz_edits.find_quiz(draft.document, slug)
    revision = str(draft.revision)
    form = QuizForm() if request.method == "POST" else _quiz_form(quiz, revision)
    context = _quiz_context(course, draft.document, quiz, revision)

    def edit() -> Edit:
        values = _quiz_values(form)
        summary = _("quiz '%(slug)s' settings edited", slug=slug)
        change: Change = lambda d: quiz_edits.update_quiz(d, slug, values)  # noqa: E731
        return Edit(summary, change, _quiz_url(course, slug), _("Quiz settings saved in the draft."))

    return form_page(course, form, partial(render_template, "authoring/quiz.html", **context), edit)


@bp.route("/courses/<int:course_id>/quizzes/<slug>/draw", methods=["POST"])
@allow(*EDITORS)
@draft_edit(DrawForm)
def add_draw(course: Course, form: DrawForm, slug: str) -> Edit:
    banks = drafts.read_draft(course).document["banks"]
    form.bank.choices = [SelectChoice(b["slug"], b["title"]) for b in banks]
    bank, tag, count = form.bank.data, (form.tag.data or "").strip(), form.count.data or 1
    summary = _("quiz '%(slug)s': draw added", slug=slug)
    change = lambda d: quiz_edits.add_draw(d, slug, bank, tag, count)  # noqa: E731
    return Edit(summary, change, _quiz_url(course, slug), _("Draw added."))


@bp.route("/courses/<int:course_id>/quizzes/<slug>/bank-question", methods=["POST"])
@allow(*EDITORS)
@draft_edit(BankQuestionForm)
def add_bank_question(course: Course, form: BankQuestionForm, slug: str) -> Edit:
    doc = drafts.read_draft(course).document
    form.key.choices = [SelectChoice(q["key"], q["key"]) for b in doc["banks"] for q in b["questions"]]
    key = form.key.data
    summary = _("quiz '%(slug)s': question %(key)s added", slug=slug, key=key)
    change = lambda d: quiz_edits.add_bank_question_to_quiz(d, slug, key)  # noqa: E731
    return Edit(summary, change, _quiz_url(course, slug), _("Question added."))


@bp.route("/courses/<int:course_id>/quizzes/<slug>/entries/<int:index>/<operation>", methods=["POST"])
@allow(*EDITORS)
def quiz_entry(course_id: int, slug: str, index: int, operation: str) -> Response:
    course = editable(course_id)
    if operation == "remove":
        summary = _("quiz '%(slug)s': entry removed", slug=slug)
        change = lambda d: quiz_edits.remove_slot(d, slug, index)  # noqa: E731
        return apply_edit(
            course, ActionForm(), Edit(summary, change, _quiz_url(course, slug), _("Removed from the quiz."))
        )
    if operation == "move":
        form = MoveForm()
        direction = form.direction.data
        moved = max(0, index - 1 if direction == "up" else index + 1)  # where the entry now is
        back = _quiz_url(course, slug, moved=moved, direction=direction)
        summary = _("quiz '%(slug)s': entry moved", slug=slug)
        change = lambda d: quiz_edits.move_slot(d, slug, index, direction)  # noqa: E731
        return apply_edit(course, form, Edit(summary, change, back, _("Moved.")))
    abort(404)


def _shown(item: PreviewItem, graded: bool) -> dict[str, Any]:
    """One previewed question as the template shows it; the correct answer only once graded."""
    kind = question_type(item.frozen.type)
    return {
        "position": item.position,
        "name": item.name,
        "template": kind.template,
        "view": item.frozen.view,
        "answer": item.answer,
        "points": item.frozen.points,
        "score": item.score,
        "fraction": item.fraction,
        "feedback": item.feedback,
        "rejected": item.rejected,
        "correct_answer": kind.correct_answer(item.frozen.as_dict()) if graded else None,
    }


def _drawn(
    doc: Document, quiz: dict[str, Any], form: PreviewAnswersForm
) -> tuple[int, list[PreviewItem], dict[str, Any] | None]:
    """The preview's seed and questions; with the trainee's answers graded when the page sent them back
    (the seed it carried draws the same questions again)."""
    if request.method == "POST" and form.validate_on_submit():
        seed = int(form.seed.data)
        items = freeze_preview(doc, quiz["slug"], seed, str(doc["language"]))
        raw = AttemptForm(formdata=None).answers(request.form)
        raw.pop(-1, None)
        score, percent_scored = grade_preview(items, raw)
        return (
            seed,
            items,
            {"score": score, "percent": percent_scored, "passed": percent_scored >= quiz["pass_mark"]},
        )
    seed = secrets.randbelow(10**9)
    form.seed.data = str(seed)
    return seed, freeze_preview(doc, quiz["slug"], seed, str(doc["language"])), None


@bp.route("/courses/<int:course_id>/quizzes/<slug>/preview", methods=["GET", "POST"])
@allow(*EDITORS)
def preview_quiz(course_id: int, slug: str) -> str:
    """Preview as trainee: drawn and graded exactly like an attempt, and nothing is recorded."""
    course = editable(course_id)
    doc = drafts.read_draft(course).document
    quiz = quiz_edits.find_quiz(doc, slug)
    form = PreviewAnswersForm()
    seed, items, graded = _drawn(doc, quiz, form)
    return render_template(
        "authoring/preview_quiz.html",
        course=course,
        quiz=quiz,
        items=[_shown(item, graded is not None) for item in items],
        form=form,
        graded=graded,
        seed=seed,
        total=sum(i.frozen.points for i in items),
    )
