"""A submitted or expired pre- and post-test keeps the indicator facts true (issue 22).

The submission writes the attempt with plain statements (lms.quizzes.services), which no ORM flush shows;
the facts hear of it through ``attempt_finished`` (lms.reports.facts). Through the pages, as a trainee.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import timedelta

from flask.testing import FlaskClient
from sqlalchemy import select

from lms.auth.models import Role, User
from lms.courses.models import Course
from lms.db import utcnow
from lms.enrolment.models import Enrolment
from lms.extensions import db
from lms.quizzes.models import AttemptStatus, Quiz, QuizAttempt, QuizRole
from lms.reports import facts
from lms.reports.models import IndicatorFact
from tests.test_learning import enrol
from tests.test_quiz_attempts import right_answers, submit


def started(client: FlaskClient, course: Course, role: QuizRole) -> QuizAttempt:
    quiz = db.session.scalar(select(Quiz).where(Quiz.course_id == course.id, Quiz.role == role))
    assert quiz is not None
    response = client.post(f"/courses/{course.slug}/quizzes/{quiz.slug}/start")
    assert response.status_code == 302
    db.session.expire_all()
    attempt = db.session.get(QuizAttempt, int(response.headers["Location"].rsplit("/", 1)[1]))
    assert attempt is not None
    return attempt


def fact_of(trainee: User) -> IndicatorFact:
    db.session.rollback()  # what the requests committed
    place = db.session.scalar(select(Enrolment).where(Enrolment.user_id == trainee.id))
    assert place is not None
    fact = db.session.get(IndicatorFact, (trainee.id, place.id))
    assert fact is not None
    return fact


def test_submitted_pre_and_post_tests_are_in_the_facts(
    login_as: Callable[[User], FlaskClient], make_user: Callable[..., User], demo_course: Course
) -> None:
    trainee = make_user(Role.TRAINEE)
    client = login_as(trainee)
    enrol(client, demo_course)
    submit(client, started(client, demo_course, QuizRole.PRE_TEST), {})  # nothing answered: 0 %
    assert fact_of(trainee).paired == 0  # a pre-test alone pairs nothing
    post = started(client, demo_course, QuizRole.POST_TEST)
    assert "(100.0%)" in submit(client, post, right_answers(post)).get_data(as_text=True)

    fact = fact_of(trainee)
    assert (fact.paired, fact.pre_percent, fact.post_percent) == (1, 0.0, 100.0)
    assert facts.differences(db.session.connection()) == set()


def test_a_pre_test_closed_at_its_time_limit_is_in_the_facts(
    login_as: Callable[[User], FlaskClient], make_user: Callable[..., User], demo_course: Course
) -> None:
    trainee = make_user(Role.TRAINEE)
    client = login_as(trainee)
    enrol(client, demo_course)
    pre = started(client, demo_course, QuizRole.PRE_TEST)
    assert submit(client, pre, right_answers(pre), action="save").status_code == 200
    post = started(client, demo_course, QuizRole.POST_TEST)
    submit(client, post, right_answers(post))
    db.session.rollback()
    attempt = db.session.get(QuizAttempt, pre.id)
    assert attempt is not None
    attempt.deadline_at = utcnow() - timedelta(hours=1)  # its time ran out while the trainee was away
    db.session.commit()
    assert fact_of(trainee).paired == 0

    client.get(f"/quiz-attempts/{pre.id}")  # the page closes it, graded on the answers saved in time

    fact = fact_of(trainee)
    assert db.session.get(QuizAttempt, pre.id).status == AttemptStatus.EXPIRED  # type: ignore[union-attr]
    assert (fact.paired, fact.pre_percent, fact.post_percent) == (1, 100.0, 100.0)
    assert facts.differences(db.session.connection()) == set()
