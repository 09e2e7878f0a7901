"""Attempts: start (or resume), save, submit, expire, regrade. Services flush and raise LmsError.

A finished attempt (submitted or expired) sends ``attempt_finished`` and a regrade ``attempts_regraded``
(lms/quizzes/signals.py); the enrolment feature answers them with its completion check.

Every decision is made here, on the server: which questions an attempt holds, whether it may still take
answers, and what they are worth. The browser only ever sees frozen texts (see grading.py).
"""

from __future__ import annotations

import secrets
from collections.abc import Callable, Mapping, Sequence
from datetime import datetime, timedelta
from functools import cache
from random import Random
from typing import TYPE_CHECKING, Any, Protocol

from flask import current_app
from flask_babel import gettext as _
from sqlalchemy import Select, bindparam, func, inspect, select
from sqlalchemy.orm import make_transient_to_detached, selectinload
from sqlalchemy.orm.attributes import flag_modified, set_committed_value

from lms.audit.services import record_event
from lms.courses.models import Course
from lms.courses.published import PublishedCourse
from lms.db import begin_writing, utcnow
from lms.errors import Conflict, Forbidden, NotFound, ValidationFailed
from lms.extensions import db
from lms.quizzes import writes
from lms.quizzes.draw import draw_questions
from lms.quizzes.frozen import FrozenItem, frozen_items
from lms.quizzes.grading import percent, question_type, quiz_grade
from lms.quizzes.models import (
    AttemptQuestion,
    AttemptStatus,
    Question,
    Quiz,
    QuizAttempt,
    RegradeRecord,
)
from lms.quizzes.question_types import AnswerRejected, make_localiser
from lms.quizzes.signals import attempt_closing, attempt_finished, attempts_regraded

if TYPE_CHECKING:  # for the annotations only: quizzes sit below enrolment, which hands its row in
    from lms.enrolment.models import Enrolment

RawAnswers = Mapping[int, Mapping[str, Sequence[str]]]
DEFAULT_GRACE_SECONDS = 30


class NoAttemptsLeft(Forbidden):
    pass


class QuizClosed(Forbidden):
    pass


class AttemptFinished(Conflict):
    pass


class TimeUp(Conflict):
    pass


class AnswerNotInAttempt(ValidationFailed):
    pass


def grace() -> timedelta:
    return timedelta(seconds=int(current_app.config.get("QUIZ_GRACE_SECONDS", DEFAULT_GRACE_SECONDS)))


def attempt_tally(enrolment_id: int, quiz_id: int) -> tuple[int, int]:
    """How many attempts this enrolment has made at this quiz, and the last one's number: one index-only
    statement, whatever the number of attempts (starting an attempt used to load them all; issue 22)."""
    used, last, _running = _tally(enrolment_id, quiz_id)
    return used, last


def _tally(enrolment_id: int, quiz_id: int) -> tuple[int, int, int | None]:
    """The tally and the id of the attempt in progress (if any), in one statement of index reads."""
    row = db.session.execute(_attempt_tally(), {"enrolment_id": enrolment_id, "quiz_id": quiz_id}).one()
    return int(row[0]), int(row[1] or 0), row[2]


def running_attempt(enrolment_id: int, quiz_id: int) -> QuizAttempt | None:
    """The attempt in progress, if any (at most one: a start resumes it)."""
    return db.session.scalars(_running_attempt(), {"enrolment_id": enrolment_id, "quiz_id": quiz_id}).first()


# Built once (a statement object keeps its cache key): a cohort starts its quiz at the same moment.
@cache
def _attempt_tally() -> Select[tuple[int, int, int | None]]:
    this_quiz = (
        QuizAttempt.enrolment_id == bindparam("enrolment_id"),
        QuizAttempt.quiz_id == bindparam("quiz_id"),
    )
    running = (
        select(QuizAttempt.id)
        .where(*this_quiz, QuizAttempt.status == AttemptStatus.IN_PROGRESS)
        .order_by(QuizAttempt.number.desc())
        .limit(1)
        .scalar_subquery()
    )
    return select(func.count(), func.max(QuizAttempt.number), running).where(*this_quiz)


@cache
def _running_attempt() -> Select[tuple[QuizAttempt]]:
    return (
        select(QuizAttempt)
        .where(
            QuizAttempt.enrolment_id == bindparam("enrolment_id"),
            QuizAttempt.quiz_id == bindparam("quiz_id"),
            QuizAttempt.status == AttemptStatus.IN_PROGRESS,
        )
        .order_by(QuizAttempt.number.desc())
        .limit(1)
    )


def attempts_left(quiz: Quiz, used: int) -> int | None:
    return None if quiz.attempts_allowed is None else max(0, quiz.attempts_allowed - used)


class Timed(Protocol):
    """An attempt as a row or as plain values (lms.quizzes.pages.AttemptRow)."""

    @property
    def deadline_at(self) -> datetime | None: ...


class Graded(Protocol):
    @property
    def is_finished(self) -> bool: ...
    @property
    def percent(self) -> float | None: ...


def is_overdue(attempt: Timed, now: datetime) -> bool:
    return attempt.deadline_at is not None and now > attempt.deadline_at + grace()


def _check_enrolment(enrolment: Enrolment, quiz: Quiz) -> None:
    if not enrolment.is_active:
        raise Forbidden(_("This enrolment is no longer active."))
    if enrolment.run.course_id != quiz.course_id or not quiz.is_published:
        raise NotFound(_("This quiz is not part of your course."))


def _no_lock_to_take(*_rows: object) -> None:
    """Outside a page (tests, the CLI), the caller's transaction is already the writing one."""


def _touch_in_session(enrolment: Enrolment, now: datetime) -> None:
    """Outside a page: the place as the session has it, still active, records the activity."""
    if not enrolment.is_active:
        raise Forbidden(_("This enrolment is no longer active."))
    enrolment.last_activity_at = now


def start_attempt(
    enrolment: Enrolment,
    quiz: Quiz,
    *,
    now: datetime | None = None,
    rng: Random | None = None,
    before_writing: Callable[..., None] = _no_lock_to_take,
    touch_place: Callable[[Enrolment, datetime], None] = _touch_in_session,
    course_language: str | None = None,
    course: PublishedCourse | None = None,
) -> tuple[QuizAttempt, bool]:
    """The attempt in progress (resumed), or a new one; True when it is new.

    Everything is read, drawn and frozen first; ``before_writing(*rows)`` is called before the first write
    with the rows it depends on (the page passes ``lms.db.begin_writing``: SQLite's write lock is then held
    for the inserts only, issue 22), then ``touch_place(enrolment, now)``, which refuses a place no longer
    active and records its activity (the page passes the enrolment feature's one conditional UPDATE, so
    nothing is read again under the lock). The attempt and its questions are two plain INSERTs. Two starts
    from the same reads compute the same attempt number, and the second inserts nothing (``Conflict``).
    ``course_language``: the course's, when the caller read it (else it is read here); ``course``: its
    per-process snapshot, which keeps the quiz's candidate questions for the draw (issue 22)."""
    now = now or utcnow()
    _check_enrolment(enrolment, quiz)
    used, last_number, running_id = _tally(enrolment.id, quiz.id)
    running = running_attempt(enrolment.id, quiz.id) if running_id is not None else None
    if running is not None:
        if not is_overdue(running, now):
            return running, False
        before_writing(enrolment, running)
        _check_enrolment(enrolment, quiz)
        if not expire_if_overdue(running, now):
            return running, False
    if quiz.closes_at is not None and now >= quiz.closes_at:
        raise QuizClosed(_("This quiz closed on %(date)s.", date=quiz.closes_at.date().isoformat()))
    if quiz.attempts_allowed is not None and used >= quiz.attempts_allowed:
        raise NoAttemptsLeft(
            _("You have used all %(count)s attempts allowed for this quiz.", count=quiz.attempts_allowed)
        )
    if course is not None:
        course_language = course.language
    elif course_language is None:
        course_row = db.session.get(Course, quiz.course_id)
        assert course_row is not None  # noqa: S101  # the quiz's foreign key guarantees it
        course_language = course_row.language
    rng = rng or Random(secrets.randbits(64))  # noqa: S311  # shuffling for presentation, not secrecy
    language = enrolment.language or course_language
    questions = draw_questions(quiz, enrolment.id, rng, course)
    if not questions:
        raise NotFound(_("This quiz has no questions yet."))
    deadline = now + timedelta(minutes=quiz.time_limit_minutes) if quiz.time_limit_minutes else None
    if quiz.closes_at is not None and (deadline is None or quiz.closes_at < deadline):
        deadline = quiz.closes_at
    localise = make_localiser(language, course_language)
    items = []
    for position, question in enumerate(questions, start=1):
        frozen = question_type(question.type).freeze(question.spec, localise, rng, quiz.shuffle_choices)
        items.append(
            {
                "position": position,
                "question_id": question.id,
                "question_version": question.version,
                "frozen": frozen.as_dict(),
                "points": frozen.points,
            }
        )
    values = {
        "enrolment_id": enrolment.id,
        "quiz_id": quiz.id,
        "number": last_number + 1,
        "status": AttemptStatus.IN_PROGRESS,
        "language": language,
        "started_at": now,
        "deadline_at": deadline,
        "saved_at": None,
        "submitted_at": None,
        "score": None,
        "max_score": sum(item["points"] for item in items),
        "percent": None,
        "passed": None,
    }
    if running is None:
        before_writing()  # nothing to read again: touch_place checks the place in its own statement
    touch_place(enrolment, now)
    inserted = db.session.execute(writes.insert_attempt(), values).first()
    if inserted is None:
        # Another start for the same enrolment took this number first (unique constraint).
        raise Conflict(_("Another attempt was started at the same moment. Open the quiz again."))
    db.session.execute(writes.insert_items(), [{"attempt_id": inserted[0], **item} for item in items])
    # The new row in the session as if read (no statement): its questions load when asked for.
    attempt = QuizAttempt(id=inserted[0], **values)
    make_transient_to_detached(attempt)
    db.session.add(attempt)
    set_committed_value(attempt, "quiz", quiz)
    return attempt, True


def _require_open(attempt: QuizAttempt, now: datetime) -> None:
    if attempt.status != AttemptStatus.IN_PROGRESS:
        raise AttemptFinished(_("This attempt has already been submitted; nothing was changed."))
    if is_overdue(attempt, now):
        raise TimeUp(_("The time for this attempt is up; answers sent after the limit are not accepted."))


def _parsed_answers(items: Sequence[FrozenItem | AttemptQuestion], raw: RawAnswers) -> list[Any]:
    """Each item's answer from the form, in the items' order; refuses answers to questions not drawn."""
    if set(raw) - {item.position for item in items}:
        raise AnswerNotInAttempt(_("The answers sent include questions that are not in this attempt."))
    answers = []
    for item in items:
        try:
            answers.append(
                question_type(item.frozen["type"]).parse(item.frozen["view"], raw.get(item.position, {}))
            )
        except AnswerRejected:
            raise ValidationFailed(
                _("The answer to question %(number)s is not one of the options shown.", number=item.position)
            ) from None
    return answers


def _apply_answers(attempt: QuizAttempt, raw: RawAnswers) -> None:
    items = sorted(attempt.questions, key=lambda item: item.position)
    for item, answer in zip(items, _parsed_answers(items, raw), strict=True):
        item.answer = answer
        # Every row written with the same columns, an unchanged answer too: the flush then sends the
        # attempt's questions as one statement (executemany) instead of one per run of alike rows.
        flag_modified(item, "answer")


def save_answers(
    attempt: QuizAttempt,
    raw: RawAnswers,
    *,
    now: datetime | None = None,
    items: Sequence[FrozenItem] | None = None,
) -> None:
    """Keep the answers of an attempt in progress. With ``items`` (its frozen questions, read with it) the
    answers are written with plain statements: ``UPDATE ... WHERE status = 'in_progress'`` (a submission
    that came first leaves it unchanged: AttemptFinished) and one executemany (issue 22)."""
    now = now or utcnow()
    _require_open(attempt, now)
    if items is None:
        _apply_answers(attempt, raw)
        attempt.saved_at = now
        db.session.flush()
        return
    try:
        answers = _parsed_answers(items, raw)
    except ValidationFailed:
        _mark_saved(attempt, now)  # a taken attempt says so first (the refusal rolls this back)
        raise
    _mark_saved(attempt, now)
    rows = [{"item_id": item.id, "new_answer": answer} for item, answer in zip(items, answers, strict=True)]
    db.session.execute(writes.write_answers(), rows)


def _mark_saved(attempt: QuizAttempt, now: datetime) -> None:
    saved = db.session.execute(writes.save_attempt(), {"attempt_id": attempt.id, "now": now})
    if getattr(saved, "rowcount", 1) != 1:
        raise AttemptFinished(_("This attempt has already been submitted; nothing was changed."))
    set_committed_value(attempt, "saved_at", now)  # as written: nothing for a flush to send


def submit_attempt(
    attempt: QuizAttempt,
    raw: RawAnswers,
    *,
    now: datetime | None = None,
    items: Sequence[FrozenItem] | None = None,
) -> QuizAttempt:
    """Grade the answers from the frozen draw (``items``: read with the attempt, or here) and finish.

    The claim and the grade are one conditional ``UPDATE ... WHERE status = 'in_progress'``: of two
    simultaneous submissions exactly one changes the row (PostgreSQL re-checks the condition after the
    first commits; SQLite writers are serialised), and the answers go in one executemany (issue 22)."""
    now = now or utcnow()
    _require_open(attempt, now)
    sheet = list(items) if items is not None else frozen_items(attempt.id)
    try:
        answers = _parsed_answers(sheet, raw)
    except ValidationFailed:
        # A taken attempt says so first, as when the claim came before the answers: claim, then refuse
        # (the refusal rolls the claim back).
        claimed = db.session.execute(writes.claim(), {"attempt_id": attempt.id, "now": now})
        if getattr(claimed, "rowcount", 1) != 1:
            raise AttemptFinished(
                _("This attempt has already been submitted; nothing was changed.")
            ) from None
        raise
    if not _finish(attempt, sheet, answers, AttemptStatus.SUBMITTED, now):
        raise AttemptFinished(_("This attempt has already been submitted; nothing was changed."))
    return attempt


def _graded(
    items: Sequence[FrozenItem | AttemptQuestion], answers: Sequence[Any]
) -> list[tuple[float, float]]:
    """(fraction, score) of each item for these answers."""
    graded = []
    for item, answer in zip(items, answers, strict=True):
        fraction = question_type(item.frozen["type"]).grade(item.frozen, answer).fraction
        graded.append((round(fraction, 4), round(fraction * item.points, 4)))
    return graded


def _finish(
    attempt: QuizAttempt,
    items: Sequence[FrozenItem | AttemptQuestion],
    answers: Sequence[Any],
    status: AttemptStatus,
    submitted_at: datetime | None,
) -> bool:
    """Grade and close an attempt still in progress with two plain statements (no flush), then tell the
    later features (``attempt_finished``; the indicator facts of a pre- or post-test listen there, as no
    flush shows them this change). False when another request had closed it first: nothing is written."""
    graded = _graded(items, answers)
    max_score = sum(item.points for item in items)
    score = round(sum(item_score for _fraction, item_score in graded), 4)
    percent_ = percent(score, max_score)
    values = {
        "status": status,
        "submitted_at": submitted_at,
        "score": score,
        "max_score": max_score,
        "percent": percent_,
        "passed": percent_ >= attempt.quiz.pass_mark,
    }
    finished = db.session.execute(
        writes.finish_attempt(), {"attempt_id": attempt.id, **{f"new_{k}": v for k, v in values.items()}}
    )
    if getattr(finished, "rowcount", 1) != 1:
        return False
    rows = [
        {"item_id": item.id, "new_answer": answer, "new_fraction": fraction, "new_score": item_score}
        for item, answer, (fraction, item_score) in zip(items, answers, graded, strict=True)
    ]
    db.session.execute(writes.write_items(), rows)
    # The rows in the session say what was written, with no history (nothing for a flush to send).
    for name, value in values.items():
        set_committed_value(attempt, name, value)
    loaded: object = inspect(attempt).attrs.questions.loaded_value  # NO_VALUE when never loaded
    if isinstance(loaded, list):
        by_id = {row["item_id"]: row for row in rows}
        for question in loaded:
            row = by_id.get(question.id)
            if row is not None:
                for name in writes.ITEM_COLUMNS:
                    set_committed_value(question, name, row[f"new_{name}"])
    attempt_finished.send(attempt, enrolment_id=attempt.enrolment_id)
    return True


def answer_attempt(
    attempt: QuizAttempt, raw: RawAnswers, *, submit: bool, items: Sequence[FrozenItem] | None = None
) -> str | None:
    """Save or submit the answers a trainee sent; the refusal to show when the attempt was no longer open.

    Two refusals are not errors that undo the request: answers sent after the time limit close the
    attempt, graded on what was saved in time (that closing is kept: the attempt counts), and a second
    submission changes nothing. Both return their message; any other refusal raises.
    """
    now = utcnow()
    try:
        _require_open(attempt, now)
        if submit:
            submit_attempt(attempt, raw, now=now, items=items)
        else:
            save_answers(attempt, raw, now=now, items=items)
    except TimeUp as error:
        expire_if_overdue(attempt, now)
        return error.message
    except AttemptFinished as error:  # raised before anything was changed (the claim found it taken)
        return error.message
    return None


def close_overdue_on_read(attempt: QuizAttempt) -> bool:
    """A page (GET) that finds an attempt whose time ran out closes it: the one lazy write of these pages.

    Only when there is something to close: the reading transaction ends (lms.db.begin_writing, which
    sets g.write_intent, so the request commits after the view), the attempt, its answers and its
    enrolment (the rows the ``attempt_closing`` receivers return) are read again under the write lock,
    and the attempt is closed and graded. True when it was.
    """
    if attempt.status != AttemptStatus.IN_PROGRESS or not is_overdue(attempt, utcnow()):
        return False
    replies = attempt_closing.send(attempt, enrolment_id=attempt.enrolment_id)
    begin_writing(attempt, *attempt.questions, *(row for _receiver, rows in replies for row in rows or ()))
    return expire_if_overdue(attempt)


def expire_if_overdue(attempt: QuizAttempt, now: datetime | None = None) -> bool:
    """Close an attempt whose time ran out, graded on the answers saved in time. True when it did."""
    now = now or utcnow()
    if attempt.status != AttemptStatus.IN_PROGRESS or not is_overdue(attempt, now):
        return False
    items = sorted(attempt.questions, key=lambda item: item.position)
    return _finish(
        attempt, items, [item.answer for item in items], AttemptStatus.EXPIRED, attempt.deadline_at
    )


def grade_attempt(attempt: QuizAttempt) -> None:
    """Grade again in the session (a regrade: the flush writes it, and the facts follow the flush)."""
    items = list(attempt.questions)
    for item, (fraction, item_score) in zip(items, _graded(items, [i.answer for i in items]), strict=True):
        item.fraction = fraction
        item.score = item_score
    attempt.score = round(sum(item.score or 0.0 for item in items), 4)
    attempt.max_score = sum(item.points for item in items)
    attempt.percent = percent(attempt.score, attempt.max_score)
    attempt.passed = attempt.percent >= attempt.quiz.pass_mark


def regrade_question(question: Question, *, actor_id: int | None, now: datetime | None = None) -> list[int]:
    """Recompute every finished attempt that drew this question with its current grading key.

    The shown texts and order stay as frozen; only the key (and feedback) are replaced. Each attempt gets a
    RegradeRecord with its old and new score. Returns the enrolment ids whose results may have changed.
    """
    now = now or utcnow()
    course = db.session.get(Course, question.course_id)
    assert course is not None  # noqa: S101  # the question's foreign key guarantees it
    items = list(
        db.session.scalars(
            select(AttemptQuestion)
            .join(QuizAttempt, AttemptQuestion.attempt_id == QuizAttempt.id)
            .where(
                AttemptQuestion.question_id == question.id,
                QuizAttempt.status.in_((AttemptStatus.SUBMITTED, AttemptStatus.EXPIRED)),
            )
            .options(
                selectinload(AttemptQuestion.attempt).selectinload(QuizAttempt.questions),
                selectinload(AttemptQuestion.attempt).selectinload(QuizAttempt.quiz),
            )
        )
    )
    qtype = question_type(question.type)
    enrolment_ids: set[int] = set()
    changed = 0
    for item in items:
        attempt = item.attempt
        old_score, old_percent = attempt.score or 0.0, attempt.percent or 0.0
        note = ""
        if item.frozen.get("type") != question.type:
            note = "skipped: the question's type changed since this attempt"
        else:
            try:
                fresh = qtype.freeze(
                    question.spec,
                    make_localiser(attempt.language, course.language),
                    Random(0),  # noqa: S311  # the order is replayed, nothing is drawn
                    False,
                    order=item.frozen.get("order") or None,
                )
            except (ValueError, KeyError, IndexError):
                note = "skipped: the question's parts changed since this attempt"
            else:
                item.frozen = {**item.frozen, "solution": fresh.solution, "feedback": fresh.feedback}
                item.question_version = question.version
                grade_attempt(attempt)
        if attempt.score != old_score:
            changed += 1
        db.session.add(
            RegradeRecord(
                attempt_id=attempt.id,
                question_id=question.id,
                regraded_by_id=actor_id,
                regraded_at=now,
                old_score=old_score,
                new_score=attempt.score or 0.0,
                old_percent=old_percent,
                new_percent=attempt.percent or 0.0,
                note=note,
            )
        )
        enrolment_ids.add(attempt.enrolment_id)
    record_event(
        "quiz.question.regraded",
        "question",
        question.id,
        actor_id=actor_id,
        after={"attempts": len(items), "changed": changed, "version": question.version},
    )
    db.session.flush()
    attempts_regraded.send(question, enrolment_ids=sorted(enrolment_ids))
    return sorted(enrolment_ids)


def result_for(quiz: Quiz, attempts: Sequence[Graded]) -> dict[str, Any]:
    """The trainee's standing in a quiz under its grading method."""
    finished = [a for a in attempts if a.is_finished and a.percent is not None]
    grade = quiz_grade([a.percent or 0.0 for a in finished], quiz.grading_method)
    return {
        "grade": grade,
        "passed": grade is not None and grade >= quiz.pass_mark,
        "used": len(attempts),
        "left": attempts_left(quiz, len(attempts)),
    }
