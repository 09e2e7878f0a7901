"""The questions an attempt holds: fixed questions as written, drawn ones from their banks preferring the
ones this enrolment has not seen (lms.quizzes.services.start_attempt freezes what this returns)."""

from __future__ import annotations

from functools import cache
from random import Random
from typing import Any

from sqlalchemy import Row, Select, bindparam, select

from lms.extensions import db
from lms.quizzes.models import AttemptQuestion, Question, Quiz, QuizAttempt, QuizSlot


def draw_questions(quiz: Quiz, enrolment_id: int, rng: Random) -> list[Row[Any]]:
    """Fixed questions as written; draws prefer questions this enrolment has not seen in any attempt.

    The quiz's lines and the questions they may take come in one statement, as ids, banks and tags
    only; the chosen questions alone are then read with their texts and keys (a bank's texts and keys
    are most of its size: 19 questions, 69 kB on the bench's). Plain rows (id, type, spec, version)."""
    slots: dict[int, Row[Any]] = {}
    candidates: dict[int, Row[Any]] = {}  # by question id, in id order (the statement's)
    for row in db.session.execute(_slots_and_candidates(), {"quiz_id": quiz.id}):
        slots.setdefault(row.slot_id, row)
        if row.id is not None:
            candidates.setdefault(row.id, row)
    fixed_ids = [s.question_id for s in slots.values() if s.question_id is not None]
    bank_ids = {s.bank_id for s in slots.values() if s.question_id is None and s.bank_id is not None}
    ordered = sorted(candidates.values(), key=lambda row: row.id)
    present = set(candidates)
    drawn = [row.id for row in ordered if row.q_bank_id in bank_ids]
    # Only a draw asks what was seen, and only about the questions it may draw: at most that many rows,
    # however many attempts the enrolment has made.
    seen = (
        set(
            db.session.scalars(
                _seen_questions(), {"enrolment_id": enrolment_id, "ids": drawn, "most": len(drawn)}
            )
        )
        if drawn
        else set()
    )
    chosen: list[int] = []
    chosen_ids = set(fixed_ids)
    for slot in slots.values():
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
    loaded = (
        {row.id: row for row in db.session.execute(_chosen_questions(), {"ids": chosen})} if chosen else {}
    )
    return [loaded[question_id] for question_id in chosen]


@cache
def _slots_and_candidates() -> Select[Any]:
    """Each line of the quiz (in order) with each active question it may take: its fixed question, or
    every question of its bank (the tag is checked in Python). A line with none comes once, with NULLs."""
    takes = (Question.id == QuizSlot.question_id) | (
        QuizSlot.question_id.is_(None) & (Question.bank_id == QuizSlot.bank_id)
    )
    return (
        select(
            QuizSlot.id.label("slot_id"),
            QuizSlot.question_id,
            QuizSlot.bank_id,
            QuizSlot.tag,
            QuizSlot.draw_count,
            Question.id,
            Question.bank_id.label("q_bank_id"),
            Question.tags,
        )
        .outerjoin(Question, takes & Question.is_active.is_(True))
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
