"""Lessons completed and quiz attempts of places, read in one statement (lms.enrolment.completion
.places_standing, issue 22): the dashboard, the lesson page and the course page each needed both."""

from __future__ import annotations

from collections.abc import Callable

import pytest
from sqlalchemy import select

from lms.auth.models import Role, User
from lms.courses.models import Course
from lms.db import utcnow
from lms.enrolment import runs as enrolment_runs
from lms.enrolment import self_service
from lms.enrolment.completion import places_standing
from lms.enrolment.models import LessonCompletion
from lms.extensions import db
from lms.quizzes.models import AttemptStatus, Quiz, QuizAttempt
from tests.test_learning import ordered_lessons
from tests.test_performance_paths import recorded_statements

pytestmark = pytest.mark.usefixtures("app")


def attempt(place_id: int, quiz: Quiz, number: int, status: str, percent: float | None) -> QuizAttempt:
    now = utcnow()
    return QuizAttempt(
        enrolment_id=place_id, quiz_id=quiz.id, number=number, status=status, language="en",
        started_at=now, submitted_at=now if status != AttemptStatus.IN_PROGRESS else None,
        percent=percent,
    )  # fmt: skip


def test_each_place_gets_its_own_lessons_and_attempts_in_number_order(
    make_user: Callable[..., User], demo_course: Course
) -> None:
    run = enrolment_runs.ensure_default_run(demo_course)
    mine = self_service.self_enrol(make_user(Role.TRAINEE), run)
    theirs = self_service.self_enrol(make_user(Role.TRAINEE), run)
    idle = self_service.self_enrol(make_user(Role.TRAINEE), run)
    db.session.flush()
    lessons = ordered_lessons(demo_course)
    quiz = db.session.scalars(select(Quiz).where(Quiz.course_id == demo_course.id)).first()
    assert quiz is not None and len(lessons) >= 3
    db.session.add_all(
        [
            LessonCompletion(enrolment_id=mine.id, lesson_id=lessons[0].id),
            LessonCompletion(enrolment_id=mine.id, lesson_id=lessons[2].id),
            LessonCompletion(enrolment_id=theirs.id, lesson_id=lessons[1].id),
            # written out of order: the standing needs them by number
            attempt(mine.id, quiz, 3, AttemptStatus.IN_PROGRESS, None),
            attempt(mine.id, quiz, 1, AttemptStatus.SUBMITTED, 40.0),
            attempt(mine.id, quiz, 2, AttemptStatus.SUBMITTED, 75.5),
            attempt(theirs.id, quiz, 1, AttemptStatus.SUBMITTED, 90.0),
        ]
    )
    mine_id, theirs_id, idle_id, quiz_id = mine.id, theirs.id, idle.id, quiz.id
    lesson_ids = [lesson.id for lesson in lessons]
    db.session.commit()

    with recorded_statements() as statements:
        done = places_standing([mine_id, theirs_id, idle_id])
    assert len([s for s in statements if s != "BEGIN"]) == 1

    assert done.completed[mine_id] == {lesson_ids[0], lesson_ids[2]}
    assert done.completed[theirs_id] == {lesson_ids[1]}
    assert not done.completed[idle_id]
    assert done.attempts[(mine_id, quiz_id)] == [
        (1, AttemptStatus.SUBMITTED, 40.0),
        (2, AttemptStatus.SUBMITTED, 75.5),
        (3, AttemptStatus.IN_PROGRESS, None),
    ]
    assert done.attempts_of(theirs_id) == {quiz_id: [(1, AttemptStatus.SUBMITTED, 90.0)]}
    assert done.attempts_of(idle_id) == {}
    # One place (a lesson page) is read by its own statement (`=`): the same answer as in the list.
    alone = places_standing([mine_id])
    assert alone.completed == {mine_id: done.completed[mine_id]}
    assert alone.attempts_of(mine_id) == done.attempts_of(mine_id)
    assert not places_standing([theirs_id]).completed[mine_id]


def test_no_places_no_statement() -> None:
    with recorded_statements() as statements:
        done = places_standing([])
    assert statements == [] and not done.completed and not done.attempts
