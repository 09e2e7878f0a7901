"""Quiz pages under the unit of work (issue 19 item 1): the one lazy write of a GET, and refusals that
still keep what they changed or change nothing."""

from __future__ import annotations

from datetime import timedelta

import pytest
from flask.testing import FlaskClient
from sqlalchemy import select

from lms.auth.models import User
from lms.courses.models import Course, Lesson, Module
from lms.db import utcnow
from lms.enrolment.models import Enrolment, EnrolmentStatus, LessonCompletion
from lms.extensions import db
from lms.quizzes.models import AttemptStatus, QuizAttempt
from tests.test_quiz_attempts import (  # noqa: F401  # fixtures
    enrolled,
    quiz_course,
    right_answers,
    start,
    submit,
    trainee,
)

pytestmark = pytest.mark.usefixtures("fresh_user_per_request")


def _read_every_lesson(course: Course, user: User) -> Enrolment:
    enrolment = db.session.scalar(select(Enrolment).where(Enrolment.user_id == user.id))
    assert enrolment is not None
    for lesson in db.session.scalars(select(Lesson).join(Module).where(Module.course_id == course.id)):
        db.session.add(LessonCompletion(enrolment_id=enrolment.id, lesson_id=lesson.id))
    db.session.commit()
    return enrolment


def _run_out_of_time(attempt_id: int) -> None:
    db.session.expire_all()
    attempt = db.session.get(QuizAttempt, attempt_id)
    assert attempt is not None
    attempt.deadline_at = utcnow() - timedelta(minutes=5)
    db.session.commit()


def test_opening_an_overdue_attempt_closes_it_for_good_and_completes_the_course(
    enrolled: FlaskClient,  # noqa: F811
    quiz_course: Course,  # noqa: F811
    trainee: User,  # noqa: F811
) -> None:
    """The GET's lazy close (close_overdue_on_read, with g.write_intent) is committed after the view, and
    the completion it triggers (attempt_finished -> the enrolment feature's subscriber) with it."""
    enrolment = _read_every_lesson(quiz_course, trainee)
    attempt = start(enrolled, quiz_course)
    assert submit(enrolled, attempt, right_answers(attempt), action="save").status_code == 200
    _run_out_of_time(attempt.id)
    response = enrolled.get(f"/quiz-attempts/{attempt.id}")
    assert response.status_code == 302
    assert response.headers["Location"].endswith(f"/quiz-attempts/{attempt.id}/review")
    page = enrolled.get(response.headers["Location"]).get_data(as_text=True)
    assert "The time for this attempt ran out; it was graded on the answers saved in time." in page
    db.session.rollback()  # the request shares this session: only what it committed is left
    closed = db.session.get(QuizAttempt, attempt.id)
    assert closed is not None and closed.status == AttemptStatus.EXPIRED and closed.percent == 100.0
    stored = db.session.get(Enrolment, enrolment.id)
    assert stored is not None and stored.status == EnrolmentStatus.COMPLETED


def test_the_quiz_overview_closes_an_overdue_attempt_and_says_so(
    enrolled: FlaskClient,  # noqa: F811
    quiz_course: Course,  # noqa: F811
) -> None:
    attempt = start(enrolled, quiz_course)
    _run_out_of_time(attempt.id)
    page = enrolled.get(f"/courses/{quiz_course.slug}/quizzes/final").get_data(as_text=True)
    assert "The time for your last attempt ran out; it was graded on the answers saved in time." in page
    db.session.rollback()  # the request shares this session: only what it committed is left
    closed = db.session.get(QuizAttempt, attempt.id)
    assert closed is not None and closed.status == AttemptStatus.EXPIRED


def test_a_late_submission_is_refused_but_the_closing_counts(
    enrolled: FlaskClient,  # noqa: F811
    quiz_course: Course,  # noqa: F811
    trainee: User,  # noqa: F811
) -> None:
    enrolment = _read_every_lesson(quiz_course, trainee)
    attempt = start(enrolled, quiz_course)
    submit(enrolled, attempt, right_answers(attempt), action="save")
    _run_out_of_time(attempt.id)
    response = enrolled.post(f"/quiz-attempts/{attempt.id}", data={"q1": "0", "action": "submit"})
    assert response.status_code == 302
    assert response.headers["Location"].endswith(f"/quiz-attempts/{attempt.id}/review")
    page = enrolled.get(response.headers["Location"]).get_data(as_text=True)
    assert "The time for this attempt is up" in page
    db.session.rollback()  # the request shares this session: only what it committed is left
    closed = db.session.get(QuizAttempt, attempt.id)
    assert closed is not None and closed.status == AttemptStatus.EXPIRED and closed.percent == 100.0
    stored = db.session.get(Enrolment, enrolment.id)
    assert stored is not None and stored.status == EnrolmentStatus.COMPLETED


def test_a_refused_answer_goes_back_to_the_attempt_and_changes_nothing(
    enrolled: FlaskClient,  # noqa: F811
    quiz_course: Course,  # noqa: F811
) -> None:
    attempt = start(enrolled, quiz_course)
    response = enrolled.post(f"/quiz-attempts/{attempt.id}", data={"q1": "7", "action": "submit"})
    assert response.status_code == 302
    assert response.headers["Location"].endswith(f"/quiz-attempts/{attempt.id}")
    page = enrolled.get(response.headers["Location"]).get_data(as_text=True)
    assert "The answer to question 1 is not one of the options shown." in page
    db.session.rollback()  # the request shares this session: only what it committed is left
    same = db.session.get(QuizAttempt, attempt.id)
    assert same is not None and same.status == AttemptStatus.IN_PROGRESS and same.submitted_at is None
