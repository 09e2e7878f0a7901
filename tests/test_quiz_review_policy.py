"""Issue 18, item 7: the review policy governs feedback too. Feedback names the answer ("No: referral is a
routine tool"), so a quiz that holds its correct answers back until it closes holds its feedback back too."""

from __future__ import annotations

from collections.abc import Callable
from datetime import timedelta
from pathlib import Path

import pytest
from flask.testing import FlaskClient
from sqlalchemy import select

from lms.auth.models import Role, User
from lms.content.loader import load_course
from lms.content.services import sync_course
from lms.courses.models import Course
from lms.db import utcnow
from lms.enrolment.runs import default_run, ensure_default_run
from lms.extensions import db
from lms.quizzes.models import Quiz, QuizAttempt
from lms.quizzes.review_policy import review_permissions
from tests.test_quiz_loader import write_course

QUIZ = """\
title: "Final check"
role: final
pass_mark: 60
attempts_allowed: 3
review: {{answers: immediately, feedback: immediately, correct_answers: {correct}}}
questions:
  - id: q-where
    type: single_choice
    prompt: "Where do border checks take place?"
    choices:
      - {{text: "Between crossing points", feedback: "That is surveillance; checks are at crossing points."}}
      - {{text: "At crossing points", correct: true, feedback: "Yes, at the crossing points."}}
  - id: q-sanction
    type: true_false
    prompt: "Referral to the second line is a sanction."
    answer: false
    feedback: {{correct: "Right: it is a routine tool.", incorrect: "No: referral is a routine tool."}}
  - id: q-year
    type: numeric
    prompt: "Refugee Convention year?"
    answer: 1951
    feedback: "The Convention was signed in Geneva in nineteen fifty-one."
"""
# Everything that gives an answer away on the review page.
REVEALING = (
    "Correct answer:",
    "That is surveillance",
    "Yes, at the crossing points",
    "routine tool",
    "nineteen fifty-one",
    "1951",
    'class="feedback"',
    'class="correct-answer"',
)


pytestmark = pytest.mark.usefixtures("fresh_user_per_request")


def _course(tmp_path: Path, correct_answers: str) -> Course:
    folder = write_course(tmp_path, QUIZ.format(correct=correct_answers), slug="review-course")
    spec, problems = load_course(folder, tmp_path)
    assert not problems and spec is not None, problems
    course = sync_course(spec).course
    ensure_default_run(course)
    db.session.commit()
    return course


def _enrolled(
    login_as: Callable[[User], FlaskClient], make_user: Callable[..., User], course: Course
) -> FlaskClient:
    client = login_as(make_user(Role.TRAINEE))
    run = default_run(course.id)
    assert run is not None
    assert client.post(f"/runs/{run.id}/enrol").status_code == 302
    return client


def _wrong_attempt(client: FlaskClient, course: Course, numeric: str = "1900") -> QuizAttempt:
    response = client.post(f"/courses/{course.slug}/quizzes/final/start")
    assert response.status_code == 302, response.get_data(as_text=True)
    attempt_id = int(response.headers["Location"].rsplit("/", 1)[1])
    db.session.expire_all()
    attempt = db.session.get(QuizAttempt, attempt_id)
    assert attempt is not None
    data: dict[str, str] = {}
    for item in attempt.questions:
        frozen = item.frozen
        if frozen["type"] == "single_choice":
            picks = range(len(frozen["view"]["choices"]))
            data[f"q{item.position}"] = str(next(i for i in picks if i not in frozen["solution"]["correct"]))
        else:
            data[f"q{item.position}"] = {"true_false": "true", "numeric": numeric}[frozen["type"]]
    response = client.post(f"/quiz-attempts/{attempt.id}", data={**data, "action": "submit"})
    assert response.status_code == 302
    return attempt


def test_feedback_waits_for_the_correct_answers_until_the_quiz_closes(
    tmp_path: Path, login_as: Callable[[User], FlaskClient], make_user: Callable[..., User]
) -> None:
    course = _course(tmp_path, "after_close")
    client = _enrolled(login_as, make_user, course)
    attempt = _wrong_attempt(client, course)

    html = client.get(f"/quiz-attempts/{attempt.id}/review").get_data(as_text=True)
    for secret in REVEALING:
        assert secret not in html, secret
    assert "Not correct" in html  # "answers: immediately": the trainee's own answers and verdicts
    assert "Correct answers and feedback are shown when the quiz closes for you." in html

    quiz = db.session.scalar(select(Quiz).where(Quiz.course_id == course.id))
    assert quiz is not None
    quiz.closes_at = utcnow() - timedelta(seconds=1)
    db.session.commit()
    html = client.get(f"/quiz-attempts/{attempt.id}/review").get_data(as_text=True)
    assert "Correct answer:" in html and "At crossing points" in html
    assert "That is surveillance; checks are at crossing points." in html  # the option picked
    assert "No: referral is a routine tool." in html
    assert "The Convention was signed in Geneva in nineteen fifty-one." in html
    assert "shown when the quiz closes" not in html


def test_the_last_attempt_closes_the_quiz_for_the_trainee(
    tmp_path: Path, login_as: Callable[[User], FlaskClient], make_user: Callable[..., User]
) -> None:
    course = _course(tmp_path, "after_close")
    client = _enrolled(login_as, make_user, course)
    first = _wrong_attempt(client, course)
    _wrong_attempt(client, course)
    assert "routine tool" not in client.get(f"/quiz-attempts/{first.id}/review").get_data(as_text=True)
    _wrong_attempt(client, course)  # the third of three: no attempt left
    html = client.get(f"/quiz-attempts/{first.id}/review").get_data(as_text=True)
    assert "No: referral is a routine tool." in html and "Correct answer:" in html


def test_a_quiz_that_shows_everything_at_once_shows_feedback_at_once(
    tmp_path: Path, login_as: Callable[[User], FlaskClient], make_user: Callable[..., User]
) -> None:
    course = _course(tmp_path, "immediately")
    client = _enrolled(login_as, make_user, course)
    attempt = _wrong_attempt(client, course)
    html = client.get(f"/quiz-attempts/{attempt.id}/review").get_data(as_text=True)
    assert "That is surveillance; checks are at crossing points." in html
    assert "No: referral is a routine tool." in html and "Correct answer:" in html


def test_feedback_is_never_shown_earlier_than_the_correct_answers() -> None:
    def allowed(feedback: str, correct: str, closed: bool) -> bool:
        policy = {"answers": "immediately", "feedback": feedback, "correct_answers": correct}
        return review_permissions(policy, closed)["feedback"]

    assert allowed("immediately", "immediately", closed=False)
    assert not allowed("immediately", "after_close", closed=False)
    assert allowed("immediately", "after_close", closed=True)
    assert not allowed("immediately", "never", closed=True)
    assert not allowed("never", "immediately", closed=True)
    assert not allowed("after_close", "immediately", closed=False)
    assert review_permissions({"answers": "immediately", "correct_answers": "after_close"}, False) == {
        "answers": True,
        "correct_answers": False,
        "feedback": False,
    }


BINARY = ("Referral to the second line is a sanction.", "Where do border checks take place?")


def _sections(html: str) -> dict[str, str]:
    """Each question's part of the review page, by its prompt."""
    prompts = (*BINARY, "Refugee Convention year?")
    return {prompt: part for part in html.split("<section")[1:] for prompt in prompts if prompt in part}


def test_a_verdict_that_names_the_answer_waits_for_the_correct_answers(
    tmp_path: Path, login_as: Callable[[User], FlaskClient], make_user: Callable[..., User]
) -> None:
    """True or false (or one of two choices): "Not correct" beside "True" says the answer is "False", so
    that verdict and the question's points wait with the correct answers; the trainee's own answer stays.
    (A score of nothing or of everything tells every verdict anyway: those are shown, as before.)"""
    course = _course(tmp_path, "after_close")
    client = _enrolled(login_as, make_user, course)
    attempt = _wrong_attempt(client, course, numeric="1951")  # 1 of 3: the score does not tell which

    sections = _sections(client.get(f"/quiz-attempts/{attempt.id}/review").get_data(as_text=True))
    for prompt in BINARY:
        assert 'class="verdict' not in sections[prompt] and " of 1" not in sections[prompt], prompt
        assert " checked" in sections[prompt]  # "answers: immediately": what the trainee chose
        assert "Whether this answer is right is shown with the correct answers." in sections[prompt]
    assert 'class="verdict verdict-right"' in sections["Refugee Convention year?"]  # gives nothing away

    quiz = db.session.scalar(select(Quiz).where(Quiz.course_id == course.id))
    assert quiz is not None
    quiz.closes_at = utcnow() - timedelta(seconds=1)
    db.session.commit()
    sections = _sections(client.get(f"/quiz-attempts/{attempt.id}/review").get_data(as_text=True))
    for prompt in BINARY:
        assert "Not correct" in sections[prompt] and " of 1" in sections[prompt], prompt
