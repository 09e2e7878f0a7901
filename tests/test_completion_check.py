"""The completion check a new lesson completion runs (lms.enrolment.completion.update_completion) asks only
what can change its answer (issue 22): the lessons and completions in one statement, the final
assessment's standing only once every other part of the rule is met, nothing for a place not enrolled.
The decisions stay the same: these tests complete courses in both orders (the lessons last, the final
assessment last)."""

from __future__ import annotations

from collections.abc import Callable

import pytest
from flask.testing import FlaskClient
from sqlalchemy import select

from lms.auth.models import Role, User
from lms.courses.models import Course, Lesson, Module
from lms.enrolment.models import Enrolment, EnrolmentStatus
from lms.enrolment.progress import CompletionRule, compute_progress
from lms.extensions import db
from tests.test_certificate_jobs import quiz_course
from tests.test_learning import enrol, ordered_lessons
from tests.test_performance_paths import recorded_statements
from tests.test_quiz_attempts import right_answers, start, submit

__all__ = ["quiz_course"]  # the fixture: one lesson and a final quiz


def test_met_but_assessment_is_every_part_of_the_rule_but_the_assessment() -> None:
    assert not compute_progress([1, 2], {1}).met_but_assessment
    assert compute_progress([1, 2], {1, 2}).met_but_assessment
    # lessons turned off: only attendance (or the assessment) can hold completion back
    workshop = CompletionRule(lessons_required=False, attendance_required_percent=80, planned_minutes=100)
    assert not compute_progress([1, 2], set(), rule=workshop).met_but_assessment
    attended = CompletionRule(
        lessons_required=False, attendance_required_percent=80, attended_minutes=80, planned_minutes=100
    )
    assert compute_progress([1, 2], set(), rule=attended).met_but_assessment
    # when it is False, no assessment result can complete the course
    for passed in (False, True):
        short = compute_progress([1, 2], {1}, assessment_required=True, assessment_passed=passed)
        assert not short.met_but_assessment and not short.complete


def _place(user: User) -> Enrolment:
    db.session.expire_all()
    place = db.session.scalar(select(Enrolment).where(Enrolment.user_id == user.id))
    assert place is not None
    return place


def test_the_final_assessment_passed_first_then_the_last_lesson_completes_the_course(
    login_as: Callable[[User], FlaskClient], make_user: Callable[..., User], quiz_course: Course
) -> None:
    trainee = make_user(Role.TRAINEE)
    client = login_as(trainee)
    enrol(client, quiz_course)
    attempt = start(client, quiz_course)
    assert "Passed." in submit(client, attempt, right_answers(attempt)).get_data(as_text=True)
    assert _place(trainee).status == EnrolmentStatus.ENROLLED  # the lesson is still to read
    lesson = db.session.scalar(select(Lesson).join(Module).where(Module.course_id == quiz_course.id))
    assert lesson is not None
    assert client.post(f"/courses/{quiz_course.slug}/lessons/{lesson.id}/complete").status_code == 302
    place = _place(trainee)
    assert place.status == EnrolmentStatus.COMPLETED and place.completed_at is not None


@pytest.mark.usefixtures("fresh_user_per_request")
def test_a_new_completion_reads_the_final_assessment_only_when_the_lessons_are_done(
    login_as: Callable[[User], FlaskClient], make_user: Callable[..., User], demo_course: Course
) -> None:
    trainee = make_user(Role.TRAINEE)
    client = login_as(trainee)
    enrol(client, demo_course)
    paths = [
        f"/courses/{demo_course.slug}/lessons/{lesson.id}/complete" for lesson in ordered_lessons(demo_course)
    ]
    counts = []
    for path in paths:
        db.session.commit()  # each request starts without a transaction, as in a worker
        with recorded_statements() as statements:
            assert client.post(path).status_code == 302
        counts.append(len(statements))
        reads_quiz = any("FROM quiz " in sql or "JOIN quiz " in sql for sql in statements)
        assert reads_quiz == (path == paths[-1]), (path, statements)
    # every completion but the last one costs the same, whatever the number of lessons done before it
    # (user, course key, place; touch, insert; the place again under the lock, lessons with completions)
    # (the first one builds the course's snapshot)
    assert len(set(counts[1:-1])) == 1 and counts[1] <= 9
    # the course has a final assessment not yet passed: the last lesson does not complete it
    assert _place(trainee).status == EnrolmentStatus.ENROLLED


@pytest.mark.usefixtures("fresh_user_per_request")
def test_a_completed_place_s_new_completion_checks_nothing(
    login_as: Callable[[User], FlaskClient], make_user: Callable[..., User], demo_course: Course
) -> None:
    trainee = make_user(Role.TRAINEE)
    client = login_as(trainee)
    enrol(client, demo_course)
    first, second = (
        f"/courses/{demo_course.slug}/lessons/{lesson.id}/complete"
        for lesson in ordered_lessons(demo_course)[:2]
    )
    assert client.post(first).status_code == 302
    place = _place(trainee)
    place.status = EnrolmentStatus.COMPLETED  # completed (say, under an older rule) with a lesson unread
    db.session.commit()
    with recorded_statements() as statements:
        assert client.post(second).status_code == 302
    assert any(sql.startswith("INSERT INTO lesson_completion") for sql in statements)
    assert not [sql for sql in statements if " module" in sql or " quiz" in sql]  # no lessons, no assessment
    assert _place(trainee).status == EnrolmentStatus.COMPLETED
