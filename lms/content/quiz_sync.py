"""Create or update a course's question banks, questions and quizzes from their specs, idempotently.

Questions are matched by their stable `id` within the course; a changed question gets a new version (attempts
keep what they froze). Anything gone from the files is deactivated, never deleted, so past attempts keep their
questions and trainers can still report on them.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import select
from sqlalchemy.orm import selectinload

from lms.content.quiz_loader import BankSpec, QuestionSpec, QuizSpec
from lms.courses.models import Course
from lms.db import utcnow
from lms.extensions import db
from lms.quizzes.models import Question, QuestionBank, Quiz, QuizSlot


def sync_assessments(course: Course, banks: list[BankSpec], quizzes: list[QuizSpec]) -> None:
    db.session.flush()  # the course needs its id
    existing_banks = {
        b.slug: b for b in db.session.scalars(select(QuestionBank).where(QuestionBank.course_id == course.id))
    }
    existing_questions = {
        q.key: q for q in db.session.scalars(select(Question).where(Question.course_id == course.id))
    }
    seen_banks: set[str] = set()
    seen_questions: set[str] = set()
    for bank_spec in banks:
        bank = existing_banks.get(bank_spec.slug)
        if bank is None:
            bank = QuestionBank(course_id=course.id, slug=bank_spec.slug, title=bank_spec.title)
            db.session.add(bank)
            db.session.flush()
            existing_banks[bank.slug] = bank
        bank.title = bank_spec.title
        bank.is_active = True
        seen_banks.add(bank.slug)
        for question_spec in bank_spec.questions:
            _apply_question(course, existing_questions, question_spec, bank.id)
            seen_questions.add(question_spec.key)
    for quiz_spec in quizzes:
        for question_spec in quiz_spec.questions:
            _apply_question(course, existing_questions, question_spec, None)
            seen_questions.add(question_spec.key)
    for slug, bank in existing_banks.items():
        if slug not in seen_banks:
            bank.is_active = False
    for key, question in existing_questions.items():
        if key not in seen_questions:
            question.is_active = False
    db.session.flush()

    existing_quizzes = {
        q.slug: q
        for q in db.session.scalars(
            select(Quiz).where(Quiz.course_id == course.id).options(selectinload(Quiz.slots))
        )
    }
    seen_quizzes: set[str] = set()
    for position, spec in enumerate(quizzes):
        quiz = existing_quizzes.get(spec.slug)
        if quiz is None:
            quiz = Quiz(course_id=course.id, slug=spec.slug, title=spec.title)
            db.session.add(quiz)
        _apply_quiz(quiz, spec, position, existing_banks, existing_questions)
        seen_quizzes.add(spec.slug)
    for slug, quiz in existing_quizzes.items():
        if slug not in seen_quizzes:
            quiz.is_published = False
    db.session.flush()


def _apply_question(
    course: Course, existing: dict[str, Question], spec: QuestionSpec, bank_id: int | None
) -> None:
    question = existing.get(spec.key)
    if question is None:
        question = Question(course_id=course.id, key=spec.key, version=1)
        db.session.add(question)
        existing[spec.key] = question
    elif question.spec != spec.spec or question.type != spec.type:
        question.version = (question.version or 1) + 1
        question.updated_at = utcnow()
    question.bank_id = bank_id
    question.type = spec.type
    question.tags = list(spec.tags)
    question.points = spec.points
    question.spec = spec.spec
    question.is_active = True
    db.session.flush()


def _apply_quiz(
    quiz: Quiz,
    spec: QuizSpec,
    position: int,
    banks: dict[str, QuestionBank],
    questions: dict[str, Question],
) -> None:
    quiz.title = spec.title
    quiz.description = spec.description
    quiz.translations = dict(spec.translations)
    quiz.role = spec.role
    quiz.position = position
    quiz.pass_mark = spec.pass_mark
    quiz.attempts_allowed = spec.attempts_allowed
    quiz.time_limit_minutes = spec.time_limit_minutes
    quiz.grading_method = spec.grading_method
    quiz.shuffle_questions = spec.shuffle_questions
    quiz.shuffle_choices = spec.shuffle_choices
    quiz.review = dict(spec.review)
    quiz.closes_at = datetime.fromisoformat(spec.closes_at) if spec.closes_at else None
    quiz.is_published = True
    # Slots are only the recipe for new attempts (attempts froze their questions), so they are rebuilt.
    quiz.slots.clear()
    for slot_position, slot in enumerate(spec.slots):
        quiz.slots.append(
            QuizSlot(
                position=slot_position,
                question_id=questions[slot.question].id if slot.question else None,
                bank_id=banks[slot.bank].id if slot.bank else None,
                tag=slot.tag,
                draw_count=1 if slot.question else slot.draw,
            )
        )
