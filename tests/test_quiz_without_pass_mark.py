"""A quiz with a pass mark of 0 (the IBM course's pre- and post-test: a starting point, not a hurdle)
shows the trainee's score without a verdict: 0 % is not "Passed.", and the outline says the test was done.
A quiz with a pass mark keeps its verdict (tests/test_quiz_attempts.py)."""

from __future__ import annotations

from collections.abc import Callable

from flask.testing import FlaskClient
from sqlalchemy import select

from lms.auth.models import Role, User
from lms.courses.models import Course
from lms.extensions import db
from lms.quizzes.models import Quiz, QuizRole
from tests.test_learning import enrol
from tests.test_quiz_attempts import submit
from tests.test_quiz_submission_facts import started


def test_a_test_without_pass_mark_shows_the_score_without_a_verdict(
    login_as: Callable[[User], FlaskClient], make_user: Callable[..., User], demo_course: Course
) -> None:
    client = login_as(make_user(Role.TRAINEE))
    enrol(client, demo_course)
    attempt = started(client, demo_course, QuizRole.PRE_TEST)
    quiz_slug = attempt.quiz.slug
    review = submit(client, attempt, {}).get_data(as_text=True)  # nothing answered: 0 %
    assert 'class="alert alert-info attempt-score"' in review and "(0.0%)." in review
    assert "Passed." not in review and "Not passed" not in review

    overview = client.get(f"/courses/{demo_course.slug}/quizzes/{quiz_slug}").get_data(as_text=True)
    assert "Your result: 0.0%." in overview and "Passed with" not in overview
    assert "<dt>Pass mark</dt><dd>None</dd>" in overview
    assert "· passed" not in overview

    course_page = client.get(f"/courses/{demo_course.slug}").get_data(as_text=True)
    outline = course_page.split('class="lesson-list quiz-list"', 1)[1].split("</ol>", 1)[0]
    assert '<span class="badge badge-done">Done</span>' in outline and ">Passed<" not in outline


def test_the_trainers_report_has_no_passed_column_without_a_pass_mark(
    login_as: Callable[[User], FlaskClient],
    make_trainer: Callable[..., User],
    demo_course: Course,
) -> None:
    client = login_as(make_trainer(demo_course))
    rows = db.session.scalars(select(Quiz).where(Quiz.course_id == demo_course.id))
    quizzes = {quiz.role: quiz.id for quiz in rows}
    pre_test = client.get(f"/trainer/quizzes/{quizzes[QuizRole.PRE_TEST]}").get_data(as_text=True)
    final = client.get(f"/trainer/quizzes/{quizzes[QuizRole.FINAL]}").get_data(as_text=True)
    assert '<th scope="col">Passed</th>' not in pre_test and 'colspan="5"' in pre_test
    assert '<th scope="col">Passed</th>' in final and 'colspan="6"' in final
