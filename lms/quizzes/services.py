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
from typing import TYPE_CHECKING, Any

from flask import current_app
from flask_babel import gettext as _
from sqlalchemy import Select, bindparam, func, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import selectinload
from sqlalchemy.orm.attributes import flag_modified

from lms.audit.services import record_event
from lms.courses.models import Course
from lms.db import begin_writing, utcnow
from lms.errors import Conflict, Forbidden, NotFound, ValidationFailed
from lms.extensions import db
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


def attempts_of(enrolment_id: int, quiz_id: int) -> list[QuizAttempt]:
    return list(
        db.session.scalars(
            select(QuizAttempt)
            .where(QuizAttempt.enrolment_id == enrolment_id, QuizAttempt.quiz_id == quiz_id)
            .order_by(QuizAttempt.number)
        )
    )


def attempt_tally(enrolment_id: int, quiz_id: int) -> tuple[int, int]:
    """How many attempts this enrolment has made at this quiz, and the last one's number: one index-only
    statement, whatever the number of attempts (starting an attempt used to load them all; issue 22)."""
    row = db.session.execute(_attempt_tally(), {"enrolment_id": enrolment_id, "quiz_id": quiz_id}).one()
    return int(row[0]), int(row[1] or 0)


def running_attempt(enrolment_id: int, quiz_id: int) -> QuizAttempt | None:
    """The attempt in progress, if any (at most one: a start resumes it)."""
    return db.session.scalars(_running_attempt(), {"enrolment_id": enrolment_id, "quiz_id": quiz_id}).first()


# Built once (a statement object keeps its cache key): a cohort starts its quiz at the same moment.
@cache
def _attempt_tally() -> Select[tuple[int, int]]:
    return select(func.count(), func.max(QuizAttempt.number)).where(
        QuizAttempt.enrolment_id == bindparam("enrolment_id"), QuizAttempt.quiz_id == bindparam("quiz_id")
    )


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


def is_overdue(attempt: QuizAttempt, now: datetime) -> bool:
    return attempt.deadline_at is not None and now > attempt.deadline_at + grace()


def _check_enrolment(enrolment: Enrolment, quiz: Quiz) -> None:
    if not enrolment.is_active:
        raise Forbidden(_("This enrolment is no longer active."))
    if enrolment.run.course_id != quiz.course_id or not quiz.is_published:
        raise NotFound(_("This quiz is not part of your course."))


def _no_lock_to_take(*_rows: object) -> None:
    """Outside a page (tests, the CLI), the caller's transaction is already the writing one."""


def start_attempt(
    enrolment: Enrolment,
    quiz: Quiz,
    *,
    now: datetime | None = None,
    rng: Random | None = None,
    before_writing: Callable[..., None] = _no_lock_to_take,
) -> tuple[QuizAttempt, bool]:
    """The attempt in progress (resumed), or a new one; True when it is new.

    Everything is read, drawn and frozen first; ``before_writing(*rows)`` is called before the first write
    with the rows it depends on (the page passes ``lms.db.begin_writing``: SQLite's write lock is then held
    for the inserts only, issue 22). Two starts from the same reads compute the same attempt number, and
    the unique constraint refuses the second (``Conflict``)."""
    now = now or utcnow()
    _check_enrolment(enrolment, quiz)
    used, last_number = attempt_tally(enrolment.id, quiz.id)
    running = running_attempt(enrolment.id, quiz.id) if used else None
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
    course = db.session.get(Course, quiz.course_id)
    assert course is not None  # noqa: S101  # the quiz's foreign key guarantees it
    rng = rng or Random(secrets.randbits(64))  # noqa: S311  # shuffling for presentation, not secrecy
    language = enrolment.language or course.language
    questions = draw_questions(quiz, enrolment.id, rng)
    if not questions:
        raise NotFound(_("This quiz has no questions yet."))
    deadline = now + timedelta(minutes=quiz.time_limit_minutes) if quiz.time_limit_minutes else None
    if quiz.closes_at is not None and (deadline is None or quiz.closes_at < deadline):
        deadline = quiz.closes_at
    attempt = QuizAttempt(
        enrolment_id=enrolment.id,
        quiz_id=quiz.id,
        number=last_number + 1,
        status=AttemptStatus.IN_PROGRESS,
        language=language,
        started_at=now,
        deadline_at=deadline,
    )
    localise = make_localiser(language, course.language)
    for position, question in enumerate(questions, start=1):
        frozen = question_type(question.type).freeze(question.spec, localise, rng, quiz.shuffle_choices)
        attempt.questions.append(
            AttemptQuestion(
                position=position,
                question_id=question.id,
                question_version=question.version,
                frozen=frozen.as_dict(),
                points=frozen.points,
            )
        )
    attempt.max_score = sum(q.points for q in attempt.questions)
    if running is None:
        before_writing(enrolment)
        _check_enrolment(enrolment, quiz)  # read again under the lock: still an active place
    try:
        with db.session.begin_nested():
            db.session.add(attempt)
            db.session.flush()
    except IntegrityError:
        # Another start for the same enrolment took this number first (unique constraint).
        raise Conflict(_("Another attempt was started at the same moment. Open the quiz again.")) from None
    enrolment.last_activity_at = now
    db.session.flush()
    return attempt, True


def draw_questions(quiz: Quiz, enrolment_id: int, rng: Random) -> list[Question]:
    """Fixed questions as written; draws prefer questions this enrolment has not seen in any attempt.

    The draw looks at the candidates' ids, banks and tags only; the chosen questions alone are then
    loaded whole (a bank's texts and keys are most of its size: 19 questions, 69 kB on the bench's)."""
    slots = list(quiz.slots)
    fixed_ids = [s.question_id for s in slots if s.question_id is not None]
    bank_ids = {s.bank_id for s in slots if s.question_id is None and s.bank_id is not None}
    candidates = db.session.execute(
        select(Question.id, Question.bank_id, Question.tags)
        .where(Question.is_active.is_(True), Question.id.in_(fixed_ids) | Question.bank_id.in_(bank_ids))
        .order_by(Question.id)
    ).all()
    present = {row.id for row in candidates}
    drawn = [row.id for row in candidates if row.bank_id in bank_ids]
    # Only a draw asks what was seen, and only about the questions it may draw: at most that many rows,
    # however many attempts the enrolment has made.
    seen = (
        set(db.session.scalars(_seen_questions(), {"enrolment_id": enrolment_id, "ids": drawn}))
        if drawn
        else set()
    )
    chosen: list[int] = []
    chosen_ids = set(fixed_ids)
    for slot in slots:
        if slot.question_id is not None:
            if slot.question_id in present:
                chosen.append(slot.question_id)
            continue
        pool = [
            row.id
            for row in candidates
            if row.bank_id == slot.bank_id
            and row.id not in chosen_ids
            and (slot.tag is None or slot.tag in (row.tags or ()))
        ]
        unseen = [q for q in pool if q not in seen]
        again = [q for q in pool if q in seen]
        rng.shuffle(unseen)
        rng.shuffle(again)
        for question_id in (unseen + again)[: slot.draw_count]:
            chosen.append(question_id)
            chosen_ids.add(question_id)
    if quiz.shuffle_questions:
        rng.shuffle(chosen)
    loaded = (
        {q.id: q for q in db.session.scalars(select(Question).where(Question.id.in_(chosen)))}
        if chosen
        else {}
    )
    return [loaded[question_id] for question_id in chosen]


@cache
def _seen_questions() -> Select[tuple[int]]:
    return (
        select(AttemptQuestion.question_id)
        .join(QuizAttempt, AttemptQuestion.attempt_id == QuizAttempt.id)
        .where(
            QuizAttempt.enrolment_id == bindparam("enrolment_id"),
            AttemptQuestion.question_id.in_(bindparam("ids", expanding=True)),
        )
        .distinct()
    )


def _require_open(attempt: QuizAttempt, now: datetime) -> None:
    if attempt.status != AttemptStatus.IN_PROGRESS:
        raise AttemptFinished(_("This attempt has already been submitted; nothing was changed."))
    if is_overdue(attempt, now):
        raise TimeUp(_("The time for this attempt is up; answers sent after the limit are not accepted."))


def _apply_answers(attempt: QuizAttempt, raw: RawAnswers) -> None:
    by_position = {q.position: q for q in attempt.questions}
    foreign = sorted(set(raw) - set(by_position))
    if foreign:
        raise AnswerNotInAttempt(_("The answers sent include questions that are not in this attempt."))
    for position, item in by_position.items():
        try:
            item.answer = question_type(item.frozen["type"]).parse(item.frozen["view"], raw.get(position, {}))
        except AnswerRejected:
            raise ValidationFailed(
                _("The answer to question %(number)s is not one of the options shown.", number=position)
            ) from None
        # Every row written with the same columns, an unchanged answer too: the flush then sends the
        # attempt's questions as one statement (executemany) instead of one per run of alike rows.
        flag_modified(item, "answer")


def save_answers(attempt: QuizAttempt, raw: RawAnswers, *, now: datetime | None = None) -> None:
    now = now or utcnow()
    _require_open(attempt, now)
    _apply_answers(attempt, raw)
    attempt.saved_at = now
    db.session.flush()


def submit_attempt(attempt: QuizAttempt, raw: RawAnswers, *, now: datetime | None = None) -> QuizAttempt:
    now = now or utcnow()
    _require_open(attempt, now)
    # Claim the attempt with a conditional UPDATE: of two simultaneous submissions exactly one changes the row
    # (PostgreSQL re-checks the condition after the first commits; SQLite writers are serialised).
    claimed = db.session.execute(
        update(QuizAttempt)
        .where(QuizAttempt.id == attempt.id, QuizAttempt.status == AttemptStatus.IN_PROGRESS)
        .values(status=AttemptStatus.SUBMITTED, submitted_at=now)
        .execution_options(synchronize_session=False)
    )
    if getattr(claimed, "rowcount", 1) != 1:
        raise AttemptFinished(_("This attempt has already been submitted; nothing was changed."))
    attempt.status = AttemptStatus.SUBMITTED
    attempt.submitted_at = now
    _apply_answers(attempt, raw)
    grade_attempt(attempt)
    db.session.flush()
    attempt_finished.send(attempt, enrolment_id=attempt.enrolment_id)
    return attempt


def answer_attempt(attempt: QuizAttempt, raw: RawAnswers, *, submit: bool) -> str | None:
    """Save or submit the answers a trainee sent; the refusal to show when the attempt was no longer open.

    Two refusals are not errors that undo the request: answers sent after the time limit close the
    attempt, graded on what was saved in time (that closing is kept: the attempt counts), and a second
    submission changes nothing. Both return their message; any other refusal raises.
    """
    now = utcnow()
    try:
        _require_open(attempt, now)
        if submit:
            submit_attempt(attempt, raw, now=now)
        else:
            save_answers(attempt, raw, now=now)
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
    attempt.status = AttemptStatus.EXPIRED
    attempt.submitted_at = attempt.deadline_at
    grade_attempt(attempt)
    db.session.flush()
    attempt_finished.send(attempt, enrolment_id=attempt.enrolment_id)
    return True


def grade_attempt(attempt: QuizAttempt) -> None:
    total = 0.0
    for item in attempt.questions:
        result = question_type(item.frozen["type"]).grade(item.frozen, item.answer)
        item.fraction = round(result.fraction, 4)
        item.score = round(result.fraction * item.points, 4)
        total += item.score
    attempt.score = round(total, 4)
    attempt.max_score = sum(item.points for item in attempt.questions)
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


def result_for(quiz: Quiz, attempts: Sequence[QuizAttempt]) -> dict[str, Any]:
    """The trainee's standing in a quiz under its grading method."""
    finished = [a for a in attempts if a.is_finished and a.percent is not None]
    grade = quiz_grade([a.percent or 0.0 for a in finished], quiz.grading_method)
    return {
        "grade": grade,
        "passed": grade is not None and grade >= quiz.pass_mark,
        "used": len(attempts),
        "left": attempts_left(quiz, len(attempts)),
    }
