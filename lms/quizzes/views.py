"""Quiz pages for trainees (overview, take, review) and trainers (attempts, distribution, items, regrade)."""

from __future__ import annotations

from datetime import datetime
from functools import cache
from typing import Any

from flask import Blueprint, abort, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_login import current_user
from sqlalchemy import Select, bindparam, select
from sqlalchemy.orm import selectinload
from sqlalchemy.orm.attributes import set_committed_value
from werkzeug.wrappers import Response

from lms.auth.access import AUTHENTICATED, allow
from lms.auth.models import Role
from lms.authoring.access import require_course_trainer, trainer_course_ids
from lms.db import begin_writing, reads_before_writing, utcnow
from lms.enrolment import enrol_first
from lms.enrolment.completion import touch_activity
from lms.enrolment.models import Enrolment
from lms.extensions import db
from lms.i18n import current_language
from lms.quizzes import pages, queries, review_policy, services
from lms.quizzes.forms import AttemptForm, RegradeForm, StartForm
from lms.quizzes.grading import is_answered, question_type
from lms.quizzes.models import AttemptQuestion, Question, Quiz, QuizAttempt
from lms.reports.quiz_report import quiz_report
from lms.unit_of_work import on_refusal

bp = Blueprint("quizzes", __name__)
TRAINERS = (Role.TRAINER, Role.ADMIN)


@cache
def _own_attempt_page_select() -> Select[Any]:
    place = QuizAttempt.enrolment_id == Enrolment.id
    return pages.attempt_page_select(Enrolment, place, Enrolment.status).where(
        Enrolment.user_id == bindparam("user_id")
    )


def _own_attempt_page(attempt_id: int) -> pages.AttemptPage:
    """The signed-in trainee's attempt with its quiz, course and frozen questions: one statement."""
    found = pages.attempt_page(_own_attempt_page_select(), attempt_id=attempt_id, user_id=current_user.id)
    return found or abort(404)


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


@bp.route("/courses/<slug>/quizzes/<quiz_slug>")
@allow(AUTHENTICATED)
def overview(slug: str, quiz_slug: str) -> str | Response:
    course, quiz = pages.published_quiz_page(slug, quiz_slug) or abort(404)
    enrolment = enrol_first.enrolment_or_course_page(
        course.id, slug, _l("Enrol in this course to take its quizzes.")
    )
    if isinstance(enrolment, Response):
        return enrolment
    attempts = _attempts_closing_overdue(enrolment.id, quiz.id)
    language = enrolment.language or course.language
    return render_template(
        "quizzes/overview.html",
        course=course,
        quiz=quiz,
        attempts=attempts,
        running=pages.running_row(attempts),
        result=services.result_for(quiz, attempts),
        review_url=_url_around_id("quizzes.review"),
        language=language,
        form=StartForm(),
    )


def _url_around_id(endpoint: str) -> tuple[str, str]:
    """``url_for(endpoint, attempt_id=...)`` before and after the id: built once for a table of attempts
    (the id is a plain integer in the path, so ``before + str(id) + after`` is what url_for builds)."""
    marker = "2147483647"
    before, _marker, after = url_for(endpoint, attempt_id=int(marker)).rpartition(marker)
    return before, after


def _attempts_closing_overdue(enrolment_id: int, quiz_id: int) -> list[pages.AttemptRow]:
    """The place's attempts at the quiz as plain rows; one in progress whose time ran out is closed first
    (rare: it is loaded as a row to be written, and the attempts read again)."""
    attempts = pages.attempt_rows(enrolment_id, quiz_id)
    running = pages.running_row(attempts)
    if running is None or not services.is_overdue(running, utcnow()):
        return attempts
    attempt = db.session.get(QuizAttempt, running.id)
    if attempt is None or not services.close_overdue_on_read(attempt):
        return attempts
    flash(_("The time for your last attempt ran out; it was graded on the answers saved in time."), "info")
    return pages.attempt_rows(enrolment_id, quiz_id)


@bp.route("/courses/<slug>/quizzes/<quiz_slug>/start", methods=["POST"])
@allow(AUTHENTICATED)
@on_refusal(lambda slug, quiz_slug: url_for("quizzes.overview", slug=slug, quiz_slug=quiz_slug))
@reads_before_writing  # reads, draws and freezes first; SQLite's write lock for the inserts only
def start(slug: str, quiz_slug: str) -> Response:
    course, quiz = pages.published_quiz_page(slug, quiz_slug) or abort(404)
    if not StartForm().validate_on_submit():
        abort(400)
    enrolment = enrol_first.enrolment_or_403(quiz.course_id)
    # A timed-out attempt closed on the way re-checks completion itself (attempt_finished).
    attempt, is_new = services.start_attempt(
        enrolment,
        quiz,
        before_writing=begin_writing,
        touch_place=touch_activity,  # the place checked and touched in one statement, under the lock
        course=course,  # its snapshot keeps the quiz's candidate questions (issue 22)
    )
    if not is_new:
        flash(_("Your attempt in progress was resumed with the answers you saved."), "info")
    return redirect(url_for("quizzes.take", attempt_id=attempt.id))


def _take_items(items: list[pages.AttemptItem]) -> list[dict[str, Any]]:
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
        for item in items
    ]


@bp.route("/quiz-attempts/<int:attempt_id>", methods=["GET", "POST"])
@allow(AUTHENTICATED)
@on_refusal(lambda attempt_id: url_for("quizzes.take", attempt_id=attempt_id))
@reads_before_writing  # a cohort submitting at once: SQLite's write lock for the write only (issue 22)
def take(attempt_id: int) -> str | Response:
    if request.method == "POST":
        return _send_answers(*_own_attempt_to_submit(attempt_id))
    page = _own_attempt_page(attempt_id)
    attempt = page.attempt
    if services.close_overdue_on_read(attempt):
        flash(_("The time for this attempt ran out; it was graded on the answers saved in time."), "info")
    if attempt.is_finished:
        return redirect(url_for("quizzes.review", attempt_id=attempt.id))
    return render_template(
        "quizzes/take.html",
        attempt=attempt,
        quiz=attempt.quiz,
        course=page.course,
        items=_take_items(page.items),
        language=attempt.language,
        form=AttemptForm(),
        now=utcnow(),
    )


def _send_answers(attempt: QuizAttempt, enrolment: Enrolment, items: list[services.FrozenItem]) -> Response:
    """The POST of the take page: save or submit. A refusal the service raises goes back to the page
    (@on_refusal of take); one it returns (too late, already submitted) is shown on the review.

    Read in a shared transaction, with the frozen questions (``items``). Under the write lock only the
    enrolment is read again, and only when a receiver reads it (a final assessment's completion check):
    a save and a submission each mark the attempt with a conditional UPDATE (still in progress), and
    every answer is written from the form in one executemany (issue 22)."""
    form = AttemptForm()
    if not form.validate_on_submit():
        abort(400)
    saving = form.action.data == "save"
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


def _review_items(
    attempt: QuizAttempt, questions: list[pages.AttemptItem], allowed: dict[str, bool]
) -> list[dict[str, Any]]:
    """What the review shows of each question: feedback and correct answers only where the quiz allows."""
    items = []
    # Right or wrong on true/false names the answer: that verdict waits with the correct answers, unless
    # the score (always shown) tells every verdict already: nothing right, or everything.
    hold_back = not allowed.get("correct_answers") and 0 < (attempt.score or 0) < (attempt.max_score or 0)
    for item in questions:
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
    page = _own_attempt_page(attempt_id)
    attempt, quiz = page.attempt, page.attempt.quiz
    closed = services.close_overdue_on_read(attempt)
    if not attempt.is_finished:
        return redirect(url_for("quizzes.take", attempt_id=attempt.id))
    allowed = review_permissions(quiz, _attempts_used(attempt), utcnow())
    return render_template(
        "quizzes/review.html",
        attempt=attempt,
        quiz=quiz,
        course=page.course,
        items=_review_items(attempt, page.items, allowed),
        allowed=allowed,
        place_status=_place_status(page, closed),
        language=attempt.language,
    )


def _attempts_used(attempt: QuizAttempt) -> int:
    """How many attempts were used is all the review needs of the others, and only under a limit (else
    no attempt is ever the last): one index-only statement (every attempt was loaded here, 39 ms for an
    account with 3,000 attempts on L; the practice quiz of the capacity scenario has no limit, issue 22)."""
    if attempt.quiz.attempts_allowed is None:
        return 0  # attempts_left() is None whatever the number
    used, _last = services.attempt_tally(attempt.enrolment_id, attempt.quiz_id)
    return used


def _place_status(page: pages.AttemptPage, closed: bool) -> str:
    """The place's status as read with the attempt; closing the attempt here may have completed it."""
    place = db.session.get(Enrolment, page.attempt.enrolment_id) if closed else None
    return place.status if place is not None else page.enrolment_status


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
