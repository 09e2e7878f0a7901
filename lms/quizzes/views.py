"""Quiz pages for trainees (overview, take, review) and trainers (attempts, distribution, items, regrade)."""

from __future__ import annotations

from datetime import datetime
from functools import cache
from typing import Any

from flask import Blueprint, abort, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import current_user
from sqlalchemy import Select, bindparam, select
from sqlalchemy.orm import joinedload, selectinload
from sqlalchemy.orm.attributes import set_committed_value
from werkzeug.wrappers import Response

from lms.auth.access import AUTHENTICATED, allow
from lms.auth.models import Role
from lms.authoring.access import require_course_trainer, trainer_course_ids
from lms.courses.models import Course
from lms.courses.queries import course_by_slug
from lms.db import begin_writing, reads_before_writing, utcnow
from lms.enrolment import enrol_first
from lms.enrolment.completion import touch_activity
from lms.enrolment.models import Enrolment
from lms.extensions import db
from lms.i18n import current_language
from lms.quizzes import queries, review_policy, services
from lms.quizzes.forms import AttemptForm, RegradeForm, StartForm
from lms.quizzes.grading import is_answered, question_type
from lms.quizzes.models import AttemptQuestion, AttemptStatus, Question, Quiz, QuizAttempt
from lms.reports.quiz_report import quiz_report
from lms.unit_of_work import on_refusal

bp = Blueprint("quizzes", __name__)
TRAINERS = (Role.TRAINER, Role.ADMIN)


def _course_quiz(slug: str, quiz_slug: str) -> tuple[Course, Quiz]:
    course = course_by_slug(slug, with_outline=False) or abort(404)
    quiz = queries.published_quiz(course.id, quiz_slug) or abort(404)
    return course, quiz


def _own_attempt(attempt_id: int) -> tuple[QuizAttempt, Enrolment]:
    row = db.session.execute(
        select(QuizAttempt, Enrolment)
        .join(Enrolment, QuizAttempt.enrolment_id == Enrolment.id)
        .where(QuizAttempt.id == attempt_id, Enrolment.user_id == current_user.id)
        .options(
            selectinload(QuizAttempt.questions), joinedload(QuizAttempt.quiz)
        )  # the quiz in the same row
    ).first()
    if row is None:
        abort(404)
    return row[0], row[1]


def _own_attempt_to_submit(attempt_id: int) -> tuple[QuizAttempt, Enrolment, list[services.FrozenItem]]:
    """The attempt, its place, its quiz and its frozen questions in one statement: a submission grades
    from these plain rows and writes with plain statements (issue 22)."""
    rows = db.session.execute(
        _attempt_to_submit(), {"attempt_id": attempt_id, "user_id": current_user.id}
    ).all()
    if not rows:
        abort(404)
    attempt, enrolment, quiz = rows[0][0], rows[0][1], rows[0][2]
    set_committed_value(attempt, "quiz", quiz)  # kept with the attempt (the session holds rows weakly)
    return attempt, enrolment, [services.FrozenItem(*row[3:]) for row in rows if row[3] is not None]


@cache
def _attempt_to_submit() -> Select[Any]:
    # The quiz as an entity of the row: attempt.quiz is then found in the session (the receivers read it).
    return (
        select(
            QuizAttempt,
            Enrolment,
            Quiz,
            AttemptQuestion.id,
            AttemptQuestion.position,
            AttemptQuestion.frozen,
            AttemptQuestion.points,
        )
        .join(Enrolment, QuizAttempt.enrolment_id == Enrolment.id)
        .join(Quiz, QuizAttempt.quiz_id == Quiz.id)
        .outerjoin(AttemptQuestion, AttemptQuestion.attempt_id == QuizAttempt.id)
        .where(QuizAttempt.id == bindparam("attempt_id"), Enrolment.user_id == bindparam("user_id"))
        .order_by(AttemptQuestion.position)
    )


def _course_url(quiz: Quiz) -> str:
    course = db.session.get(Course, quiz.course_id)
    return url_for("courses.course", slug=course.slug) if course else url_for("courses.dashboard")


@bp.route("/courses/<slug>/quizzes/<quiz_slug>")
@allow(AUTHENTICATED)
def overview(slug: str, quiz_slug: str) -> str | Response:
    course, quiz = _course_quiz(slug, quiz_slug)
    enrolment = enrol_first.enrolment_or_course_page(
        course.id, slug, _("Enrol in this course to take its quizzes.")
    )
    if isinstance(enrolment, Response):
        return enrolment
    attempts = services.attempts_of(enrolment.id, quiz.id)
    running = next((a for a in attempts if a.status == AttemptStatus.IN_PROGRESS), None)
    if running is not None and services.close_overdue_on_read(running):
        flash(
            _("The time for your last attempt ran out; it was graded on the answers saved in time."), "info"
        )
        running = None
    language = enrolment.language or course.language
    return render_template(
        "quizzes/overview.html",
        course=course,
        quiz=quiz,
        attempts=attempts,
        running=running,
        result=services.result_for(quiz, attempts),
        language=language,
        form=StartForm(),
    )


@bp.route("/courses/<slug>/quizzes/<quiz_slug>/start", methods=["POST"])
@allow(AUTHENTICATED)
@on_refusal(lambda slug, quiz_slug: url_for("quizzes.overview", slug=slug, quiz_slug=quiz_slug))
@reads_before_writing  # reads, draws and freezes first; SQLite's write lock for the inserts only
def start(slug: str, quiz_slug: str) -> Response:
    found = queries.published_quiz_with_language(slug, quiz_slug) or abort(404)
    quiz, course_language = found
    if not StartForm().validate_on_submit():
        abort(400)
    enrolment = enrol_first.enrolment_or_403(quiz.course_id)
    # A timed-out attempt closed on the way re-checks completion itself (attempt_finished).
    attempt, is_new = services.start_attempt(
        enrolment,
        quiz,
        before_writing=begin_writing,
        touch_place=touch_activity,  # the place checked and touched in one statement, under the lock
        course_language=course_language,
    )
    if not is_new:
        flash(_("Your attempt in progress was resumed with the answers you saved."), "info")
    return redirect(url_for("quizzes.take", attempt_id=attempt.id))


def _take_items(attempt: QuizAttempt) -> list[dict[str, Any]]:
    """Only the frozen view and the trainee's own answer: the grading key never reaches the template."""
    return [
        {
            "position": item.position,
            "name": f"q{item.position}",
            "template": question_type(item.frozen["type"]).template,
            "view": item.frozen["view"],
            "answer": item.answer,
            "answered": is_answered(item.answer),  # the question navigator's mark
            "points": item.points,
        }
        for item in attempt.questions
    ]


@bp.route("/quiz-attempts/<int:attempt_id>", methods=["GET", "POST"])
@allow(AUTHENTICATED)
@on_refusal(lambda attempt_id: url_for("quizzes.take", attempt_id=attempt_id))
@reads_before_writing  # a cohort submitting at once: SQLite's write lock for the write only (issue 22)
def take(attempt_id: int) -> str | Response:
    if request.method == "POST" and request.form.get("action") == "submit":
        return _send_answers(*_own_attempt_to_submit(attempt_id))
    attempt, enrolment = _own_attempt(attempt_id)
    if request.method == "POST":
        return _send_answers(attempt, enrolment, None)
    quiz = attempt.quiz
    if services.close_overdue_on_read(attempt):
        flash(_("The time for this attempt ran out; it was graded on the answers saved in time."), "info")
    if attempt.is_finished:
        return redirect(url_for("quizzes.review", attempt_id=attempt.id))
    return render_template(
        "quizzes/take.html",
        attempt=attempt,
        quiz=quiz,
        course=db.session.get(Course, quiz.course_id),
        items=_take_items(attempt),
        language=attempt.language,
        form=AttemptForm(),
        now=utcnow(),
    )


def _send_answers(
    attempt: QuizAttempt, enrolment: Enrolment, items: list[services.FrozenItem] | None
) -> Response:
    """The POST of the take page: save or submit. A refusal the service raises goes back to the page
    (@on_refusal of take); one it returns (too late, already submitted) is shown on the review.

    Read in a shared transaction. Saving reads the attempt and its enrolment again under the write
    lock; a submission (``items``: its frozen questions) needs only the enrolment again, and only when a
    receiver reads it (a final assessment's completion check): its claim is a conditional UPDATE, and
    every answer is written from the form."""
    form = AttemptForm()
    if not form.validate_on_submit():
        abort(400)
    saving = form.action.data == "save"
    if saving or items is None:
        begin_writing(attempt, enrolment)
    else:
        begin_writing(enrolment)
    refusal = services.answer_attempt(attempt, form.answers(request.form), submit=not saving, items=items)
    if refusal is not None:
        flash(refusal, "error")
        return redirect(url_for("quizzes.review", attempt_id=attempt.id))
    if saving:
        flash(_("Your answers are saved. You can come back and finish later."), "success")
        return redirect(url_for("quizzes.take", attempt_id=attempt.id))
    flash(_("Your attempt was submitted."), "success")
    return redirect(url_for("quizzes.review", attempt_id=attempt.id))


def review_permissions(quiz: Quiz, attempts_used: int, now: datetime) -> dict[str, bool]:
    left = services.attempts_left(quiz, attempts_used)
    closed = (quiz.closes_at is not None and now >= quiz.closes_at) or left == 0
    return review_policy.review_permissions(quiz.review or {}, closed)  # feedback waits for the answers


def _review_items(attempt: QuizAttempt, allowed: dict[str, bool]) -> list[dict[str, Any]]:
    """What the review shows of each question: feedback and correct answers only where the quiz allows."""
    items = []
    # Right or wrong on true/false names the answer: that verdict waits with the correct answers, unless
    # the score (always shown) tells every verdict already: nothing right, or everything.
    hold_back = not allowed.get("correct_answers") and 0 < (attempt.score or 0) < (attempt.max_score or 0)
    for item in attempt.questions:
        qtype = question_type(item.frozen["type"])
        grade = qtype.grade(item.frozen, item.answer) if allowed.get("feedback") else None
        hidden = hold_back and review_policy.verdict_names_the_answer(item.frozen)
        items.append(
            {
                "position": item.position,
                "name": f"q{item.position}",
                "template": qtype.template,
                "view": item.frozen["view"],
                "answer": item.answer,
                "points": item.points,
                "score": item.score,
                "fraction": item.fraction,
                "verdict": allowed.get("answers", False) and not hidden,
                "correct_answer": qtype.correct_answer(item.frozen)
                if allowed.get("correct_answers")
                else None,
                "feedback": grade.feedback if grade else [],
            }
        )
    return items


@bp.route("/quiz-attempts/<int:attempt_id>/review")
@allow(AUTHENTICATED)
def review(attempt_id: int) -> str | Response:
    attempt, enrolment = _own_attempt(attempt_id)
    services.close_overdue_on_read(attempt)
    if not attempt.is_finished:
        return redirect(url_for("quizzes.take", attempt_id=attempt.id))
    quiz = attempt.quiz
    # How many attempts were used is all the review needs of the others (one index-only statement; every
    # attempt was loaded here, 39 ms for an account with 3,000 attempts on L, issue 22).
    used, _last = services.attempt_tally(enrolment.id, quiz.id)
    allowed = review_permissions(quiz, used, utcnow())
    items = _review_items(attempt, allowed)
    course = db.session.get(Course, quiz.course_id)
    return render_template(
        "quizzes/review.html",
        attempt=attempt,
        quiz=quiz,
        course=course,
        items=items,
        allowed=allowed,
        enrolment=enrolment,
        language=attempt.language,
    )


# --- trainers --------------------------------------------------------------------------------------------


@bp.route("/trainer/quizzes")
@allow(*TRAINERS)
def trainer_quizzes() -> str:
    return render_template("quizzes/trainer_list.html", rows=queries.trainer_quiz_list(trainer_course_ids()))


@bp.route("/trainer/quizzes/<int:quiz_id>")
@allow(*TRAINERS)
def trainer_report(quiz_id: int) -> str:
    quiz = db.session.scalar(select(Quiz).where(Quiz.id == quiz_id).options(selectinload(Quiz.slots)))
    if quiz is None:
        abort(404)
    require_course_trainer(quiz.course_id)
    report = quiz_report(quiz)
    peak = max((count for _, count in report.distribution), default=0)
    return render_template(
        "quizzes/trainer_report.html",
        report=report,
        peak=peak,
        form=RegradeForm(),
        language=current_language(),
    )


@bp.route("/trainer/quizzes/<int:quiz_id>/questions/<int:question_id>/regrade", methods=["POST"])
@allow(*TRAINERS)
@on_refusal(lambda quiz_id, question_id: url_for("quizzes.trainer_report", quiz_id=quiz_id))
def regrade(quiz_id: int, question_id: int) -> Response:
    quiz = db.session.get(Quiz, quiz_id) or abort(404)
    require_course_trainer(quiz.course_id)
    question = db.session.get(Question, question_id) or abort(404)
    if question.course_id != quiz.course_id:
        abort(404)
    if not RegradeForm().validate_on_submit():
        abort(400)
    # The enrolments whose results changed re-check completion themselves (attempts_regraded).
    enrolment_ids = services.regrade_question(question, actor_id=current_user.id)
    flash(
        _(
            "Question %(key)s was regraded in %(count)s enrolment(s).",
            key=question.key,
            count=len(enrolment_ids),
        ),
        "success",
    )
    return redirect(url_for("quizzes.trainer_report", quiz_id=quiz_id))
