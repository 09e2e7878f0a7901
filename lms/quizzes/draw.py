"""The questions an attempt holds: fixed questions as written, drawn ones from their banks preferring the
ones this enrolment has not seen (lms.quizzes.services.start_attempt freezes what this returns)."""

from __future__ import annotations

from collections.abc import Mapping
from functools import cache
from random import Random
from typing import Any, NamedTuple

from sqlalchemy import Row, Select, bindparam, select

from lms.courses.published import PublishedCourse
from lms.extensions import db
from lms.quizzes.models import AttemptQuestion, Question, Quiz, QuizAttempt, QuizSlot


class Candidate(NamedTuple):
    """A question a quiz may hold, with what freezing it needs (kept per course snapshot, never changed)."""

    id: int
    type: str
    spec: Mapping[str, Any]
    version: int


class QuizDraw(NamedTuple):
    """A published quiz's lines and the questions they may take: built once per course snapshot."""

    slots: tuple[Row[Any], ...]
    ordered: tuple[Row[Any], ...]  # candidates in id order
    questions: Mapping[int, Candidate]


def draw_questions(
    quiz: Quiz, enrolment_id: int, rng: Random, course: PublishedCourse | None = None
) -> list[Any]:
    """Fixed questions as written; draws prefer questions this enrolment has not seen in any attempt.

    With the course's snapshot (``course``) the quiz's lines and candidate questions, with their texts
    and keys decoded, are kept on it (they change only when the course is synced or published, which
    renews the snapshot): a start then reads only what this enrolment has seen (issue 22). Without it the
    lines and candidates come in one statement, as ids, banks and tags only, and the chosen questions
    alone are then read with their texts and keys. Rows with id, type, spec and version."""
    if course is not None:
        plan = _kept_draw(course, quiz.id)
        chosen = _choose(quiz, plan.slots, plan.ordered, enrolment_id, rng)
        return [plan.questions[question_id] for question_id in chosen]
    slots, ordered = _slots_in_order(db.session.execute(_slots_and_candidates(), {"quiz_id": quiz.id}))
    chosen = _choose(quiz, slots, ordered, enrolment_id, rng)
    loaded = (
        {row.id: row for row in db.session.execute(_chosen_questions(), {"ids": chosen})} if chosen else {}
    )
    return [loaded[question_id] for question_id in chosen]


def _kept_draw(course: PublishedCourse, quiz_id: int) -> QuizDraw:
    name = f"draw:{quiz_id}"
    cached = course.derived.get(name)
    if cached is not None:
        return cached
    rows = list(db.session.execute(_slots_and_candidate_questions(), {"quiz_id": quiz_id}))
    slots, ordered = _slots_in_order(rows)
    questions = {
        row.id: Candidate(row.id, row.type, row.spec, row.version) for row in rows if row.id is not None
    }
    plan = QuizDraw(slots, ordered, questions)
    course.derived[name] = plan  # two threads may both build it: the same value
    return plan


def _slots_in_order(rows: Any) -> tuple[tuple[Row[Any], ...], tuple[Row[Any], ...]]:
    slots: dict[int, Row[Any]] = {}
    candidates: dict[int, Row[Any]] = {}  # by question id
    for row in rows:
        slots.setdefault(row.slot_id, row)
        if row.id is not None:
            candidates.setdefault(row.id, row)
    return tuple(slots.values()), tuple(sorted(candidates.values(), key=lambda row: row.id))


def _choose(
    quiz: Quiz,
    slots: tuple[Row[Any], ...],
    ordered: tuple[Row[Any], ...],
    enrolment_id: int,
    rng: Random,
) -> list[int]:
    fixed_ids = [s.question_id for s in slots if s.question_id is not None]
    bank_ids = {s.bank_id for s in slots if s.question_id is None and s.bank_id is not None}
    present = {row.id for row in ordered}
    drawn = [row.id for row in ordered if row.q_bank_id in bank_ids]
    # Only a draw asks what was seen, and only about the questions it may draw: at most that many rows,
    # however many attempts the enrolment has made.
    seen = _seen(enrolment_id, drawn) if drawn else set()
    chosen: list[int] = []
    chosen_ids = set(fixed_ids)
    for slot in slots:
        if slot.question_id is not None:
            if slot.question_id in present:
                chosen.append(slot.question_id)
            continue
        pool = [
            row.id
            for row in ordered
            if row.q_bank_id == slot.bank_id
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
    return chosen


def _seen(enrolment_id: int, drawn: list[int]) -> set[int]:
    return set(
        db.session.scalars(
            _seen_questions(), {"enrolment_id": enrolment_id, "ids": drawn, "most": len(drawn)}
        )
    )


def _takes() -> Any:
    return (Question.id == QuizSlot.question_id) | (
        QuizSlot.question_id.is_(None) & (Question.bank_id == QuizSlot.bank_id)
    )


_SLOT_COLUMNS = (
    QuizSlot.id.label("slot_id"),
    QuizSlot.question_id,
    QuizSlot.bank_id,
    QuizSlot.tag,
    QuizSlot.draw_count,
    Question.id,
    Question.bank_id.label("q_bank_id"),
    Question.tags,
)


@cache
def _slots_and_candidates() -> Select[Any]:
    """Each line of the quiz (in order) with each active question it may take: its fixed question, or
    every question of its bank (the tag is checked in Python). A line with none comes once, with NULLs."""
    return (
        select(*_SLOT_COLUMNS)
        .outerjoin(Question, _takes() & Question.is_active.is_(True))
        .where(QuizSlot.quiz_id == bindparam("quiz_id"))
        .order_by(QuizSlot.position, QuizSlot.id, Question.id)
    )


@cache
def _slots_and_candidate_questions() -> Select[Any]:
    """The same with each candidate's type, spec and version: what a course snapshot keeps."""
    return (
        select(*_SLOT_COLUMNS, Question.type, Question.spec, Question.version)
        .outerjoin(Question, _takes() & Question.is_active.is_(True))
        .where(QuizSlot.quiz_id == bindparam("quiz_id"))
        .order_by(QuizSlot.position, QuizSlot.id, Question.id)
    )


@cache
def _chosen_questions() -> Select[Any]:
    return select(Question.id, Question.type, Question.spec, Question.version).where(
        Question.id.in_(bindparam("ids", expanding=True))
    )


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
        # As many as there are candidates: the scan of the enrolment's attempts stops once every one was
        # found (someone who has seen the whole bank). Without it the statement read every question of
        # every attempt the enrolment ever made: 15 ms at 2,400 attempts on L (issue 22).
        .limit(bindparam("most"))
    )
