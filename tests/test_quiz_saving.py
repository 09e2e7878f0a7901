"""A save with plain statements (issue 22): it reads the attempt and its frozen questions as the
submission does, marks the attempt only while it is still in progress, and writes every answer in one
statement. Refusals change nothing; a save past the time limit closes the attempt on what was saved in
time. And the review that closes an overdue final assessment shows the completion it brought."""

from __future__ import annotations

import re

import pytest
from flask.testing import FlaskClient
from sqlalchemy import update

from lms.auth.models import User
from lms.courses.models import Course
from lms.enrolment.models import Enrolment, EnrolmentStatus
from lms.extensions import db
from lms.quizzes import services
from lms.quizzes.frozen import frozen_items
from lms.quizzes.grading import is_answered
from lms.quizzes.models import AttemptStatus, QuizAttempt
from tests.test_quiz_attempts import (  # noqa: F401  # fixtures
    enrolled,
    quiz_course,
    right_answers,
    start,
    submit,
    trainee,
)
from tests.test_quiz_unit_of_work import _read_every_lesson, _run_out_of_time

pytestmark = pytest.mark.usefixtures("fresh_user_per_request")


def _stored(attempt_id: int) -> QuizAttempt:
    db.session.rollback()  # the request shares this session: only what it committed is left
    db.session.expire_all()
    attempt = db.session.get(QuizAttempt, attempt_id)
    assert attempt is not None
    return attempt


def test_a_save_keeps_every_answer_and_when_it_was_saved(
    enrolled: FlaskClient,  # noqa: F811
    quiz_course: Course,  # noqa: F811
) -> None:
    attempt = start(enrolled, quiz_course)
    page = submit(enrolled, attempt, {"q1": "1", "q3": "1951"}, action="save").get_data(as_text=True)
    assert "Your answers are saved" in page and "Answers last saved at" in page
    assert re.search(r'name="q1" value="1" checked', page) and 'value="1951"' in page
    saved = _stored(attempt.id)
    assert saved.status == AttemptStatus.IN_PROGRESS and saved.saved_at is not None
    answers = {item.position: item.answer for item in saved.questions}
    assert answers[1] == 1 and answers[3] is not None
    assert not [p for p, answer in answers.items() if p not in (1, 3) and is_answered(answer)]
    # A second save replaces the answers: one left out is cleared, as the form sends every question.
    submit(enrolled, saved, {"q3": "1951"}, action="save")
    again = {item.position: item.answer for item in _stored(attempt.id).questions}
    assert not is_answered(again[1]) and is_answered(again[3])


def test_a_refused_save_changes_nothing(
    enrolled: FlaskClient,  # noqa: F811
    quiz_course: Course,  # noqa: F811
) -> None:
    attempt = start(enrolled, quiz_course)
    response = enrolled.post(f"/quiz-attempts/{attempt.id}", data={"q1": "7", "action": "save"})
    assert response.headers["Location"].endswith(f"/quiz-attempts/{attempt.id}")
    page = enrolled.get(response.headers["Location"]).get_data(as_text=True)
    assert "The answer to question 1 is not one of the options shown." in page
    same = _stored(attempt.id)
    assert same.saved_at is None and all(item.answer is None for item in same.questions)


def test_a_save_past_the_time_limit_closes_the_attempt_on_what_was_saved_in_time(
    enrolled: FlaskClient,  # noqa: F811
    quiz_course: Course,  # noqa: F811
) -> None:
    attempt = start(enrolled, quiz_course)
    submit(enrolled, attempt, {"q1": "1"}, action="save")
    _run_out_of_time(attempt.id)
    page = submit(enrolled, attempt, right_answers(attempt), action="save").get_data(as_text=True)
    assert "The time for this attempt is up" in page
    closed = _stored(attempt.id)
    assert closed.status == AttemptStatus.EXPIRED and closed.percent == 20.0  # the answer saved in time


def test_a_save_read_before_a_submission_changes_nothing(
    enrolled: FlaskClient,  # noqa: F811
    quiz_course: Course,  # noqa: F811
) -> None:
    """The save reads in a shared transaction: a submission may finish the attempt before its write. Its
    conditional UPDATE then finds nothing to change, and it says so before judging the answers."""
    attempt = start(enrolled, quiz_course)
    items = frozen_items(attempt.id)
    assert attempt.status == AttemptStatus.IN_PROGRESS  # as the save read it
    db.session.execute(
        update(QuizAttempt).where(QuizAttempt.id == attempt.id).values(status=AttemptStatus.SUBMITTED)
    )
    for answers in ({1: {"": ["1"]}}, {1: {"": ["7"]}}):  # a valid answer, and one not offered
        with pytest.raises(services.AttemptFinished):
            services.save_answers(attempt, answers, items=items)
    assert all(item.answer is None for item in _stored(attempt.id).questions)


def test_the_review_that_closes_an_overdue_final_shows_the_completion(
    enrolled: FlaskClient,  # noqa: F811
    quiz_course: Course,  # noqa: F811
    trainee: User,  # noqa: F811
) -> None:
    enrolment = _read_every_lesson(quiz_course, trainee)
    attempt = start(enrolled, quiz_course)
    submit(enrolled, attempt, right_answers(attempt), action="save")
    _run_out_of_time(attempt.id)
    page = enrolled.get(f"/quiz-attempts/{attempt.id}/review")
    assert page.status_code == 200
    assert "You have completed this course." in page.get_data(as_text=True)
    db.session.rollback()
    stored = db.session.get(Enrolment, enrolment.id)
    assert stored is not None and stored.status == EnrolmentStatus.COMPLETED
