"""Attempts through the Flask client: every refusal, resume, completion, regrade and the trainer report."""

from __future__ import annotations

import re
from collections.abc import Callable
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
from flask.testing import FlaskClient
from sqlalchemy import event, func, select

from lms.audit.models import AuditRecord
from lms.auth.models import Role, User
from lms.content.loader import load_course
from lms.content.services import sync_course
from lms.courses.models import Course, Lesson, Module
from lms.db import utcnow
from lms.enrolment.models import Enrolment, EnrolmentStatus, LessonCompletion
from lms.enrolment.runs import default_run, ensure_default_run
from lms.extensions import db
from lms.quizzes.models import AttemptQuestion, AttemptStatus, Question, Quiz, QuizAttempt, RegradeRecord
from tests.test_quiz_loader import write_course

QUIZ = """\
title: {en: "Final check", ru: "Итоговая проверка"}
role: final
pass_mark: 60
attempts_allowed: 2
time_limit_minutes: 10
grading_method: highest
review: {answers: immediately, feedback: immediately, correct_answers: after_close}
questions:
  - id: q-where
    type: single_choice
    prompt: {en: "Where do border checks take place?", ru: "Где проводятся пограничные проверки?"}
    choices:
      - {text: "Between crossing points", feedback: "That is surveillance."}
      - {text: "At crossing points", correct: true}
      - {text: "Only inland"}
  - id: q-sanction
    type: true_false
    prompt: "Referral to the second line is a sanction."
    answer: false
    feedback: {correct: "Right: it is a routine tool.", incorrect: "No: referral is a routine tool."}
  - id: q-year
    type: numeric
    prompt: "Refugee Convention year?"
    answer: 1951
  - id: q-term
    type: short_text
    prompt: "Name the coordinating person (two words)."
    accept: ["focal point"]
  - id: q-order
    type: ordering
    prompt: "Order the cycle."
    items: ["Direction", "Collection", "Analysis"]
"""
SECRET_TEXTS = ("That is surveillance.", "routine tool", "1951", "focal point", "correct")


pytestmark = pytest.mark.usefixtures("fresh_user_per_request")


@pytest.fixture
def quiz_course(tmp_path: Path) -> Course:
    folder = write_course(tmp_path, QUIZ, slug="quiz-course")
    spec, problems = load_course(folder, tmp_path)
    assert not problems, problems
    assert spec is not None
    course = sync_course(spec).course
    ensure_default_run(course)
    db.session.commit()
    return course


@pytest.fixture
def trainee(make_user: Callable[..., User]) -> User:
    return make_user(Role.TRAINEE)


@pytest.fixture
def enrolled(login_as: Callable[[User], FlaskClient], trainee: User, quiz_course: Course) -> FlaskClient:
    client = login_as(trainee)
    run = default_run(quiz_course.id)
    assert run is not None
    assert client.post(f"/runs/{run.id}/enrol").status_code == 302
    return client


def final_quiz(course: Course) -> Quiz:
    quiz = db.session.scalar(select(Quiz).where(Quiz.course_id == course.id, Quiz.role == "final"))
    assert quiz is not None
    return quiz


def start(client: FlaskClient, course: Course) -> QuizAttempt:
    response = client.post(f"/courses/{course.slug}/quizzes/final/start")
    assert response.status_code == 302, response.get_data(as_text=True)
    attempt_id = int(response.headers["Location"].rsplit("/", 1)[1])
    db.session.expire_all()
    attempt = db.session.get(QuizAttempt, attempt_id)
    assert attempt is not None
    return attempt


def right_answers(attempt: QuizAttempt) -> dict[str, Any]:
    """Read the key from the database, as only a test may."""
    data: dict[str, Any] = {}
    for item in attempt.questions:
        name, solution, view = f"q{item.position}", item.frozen["solution"], item.frozen["view"]
        kind = item.frozen["type"]
        if kind in ("single_choice", "multiple_response"):
            data[name] = [str(i) for i in solution["correct"]]
        elif kind == "true_false":
            data[name] = "true" if solution["answer"] else "false"
        elif kind == "numeric":
            data[name] = solution["answer"]
        elif kind == "short_text":
            data[name] = solution["accept"][0]
        elif kind in ("ordering",):
            for part, position in enumerate(solution["positions"]):
                data[f"{name}-{part}"] = str(position)
        elif kind == "matching":
            for part, option in enumerate(solution["pairs"]):
                data[f"{name}-{part}"] = str(option)
        elif kind == "cloze":
            for part, accepted in enumerate(solution["blanks"]):
                data[f"{name}-{part}"] = accepted[0]
        assert view is not None
    return data


def submit(client: FlaskClient, attempt: QuizAttempt, data: dict[str, Any], action: str = "submit") -> Any:
    return client.post(f"/quiz-attempts/{attempt.id}", data={**data, "action": action}, follow_redirects=True)


def attempt_count() -> int:
    return db.session.scalar(select(func.count(QuizAttempt.id))) or 0


def test_quiz_page_in_progress_reveals_no_answer(enrolled: FlaskClient, quiz_course: Course) -> None:
    attempt = start(enrolled, quiz_course)
    html = enrolled.get(f"/quiz-attempts/{attempt.id}").get_data(as_text=True)
    assert "Where do border checks take place?" in html
    assert "At crossing points" in html
    for secret in SECRET_TEXTS:
        assert secret not in html, secret
    # Choice values are positions in the shown order, nothing more.
    assert set(re.findall(r'name="q1" value="([^"]*)"', html)) == {"0", "1", "2"}
    assert "data-" not in html.split('<form method="post" action="/quiz-attempts')[1]


def test_pass_and_fail_and_course_completion(
    enrolled: FlaskClient, quiz_course: Course, trainee: User
) -> None:
    enrolment = db.session.scalar(select(Enrolment).where(Enrolment.user_id == trainee.id))
    assert enrolment is not None
    lesson = db.session.scalar(select(Lesson).join(Module).where(Module.course_id == quiz_course.id))
    assert lesson is not None
    enrolled.post(f"/courses/{quiz_course.slug}/lessons/{lesson.id}/complete")
    db.session.refresh(enrolment)
    assert enrolment.status == EnrolmentStatus.ENROLLED  # lessons done, final not passed
    page = enrolled.get(f"/courses/{quiz_course.slug}").get_data(as_text=True)
    assert "Final assessment: not passed yet" in page

    first = start(enrolled, quiz_course)
    response = submit(enrolled, first, {"q1": "0"})
    html = response.get_data(as_text=True)
    assert "Not passed" in html and "Not correct" in html  # the answers are shown now...
    assert "Correct answer:" not in html  # correct answers only after the quiz closes for this trainee
    assert "That is surveillance." not in html  # ...and the feedback with them: it names the answer
    db.session.refresh(enrolment)
    assert enrolment.status == EnrolmentStatus.ENROLLED

    second = start(enrolled, quiz_course)
    assert second.number == 2
    html = submit(enrolled, second, right_answers(second)).get_data(as_text=True)
    assert "Passed." in html and "100.0%" in html
    assert "Correct answer:" in html  # no attempt left: the quiz is closed for this trainee
    db.session.refresh(enrolment)
    assert enrolment.status == EnrolmentStatus.COMPLETED
    assert "Final assessment: passed" in enrolled.get(f"/courses/{quiz_course.slug}").get_data(as_text=True)
    assert "Final assessment: passed" in enrolled.get("/dashboard").get_data(as_text=True)


def test_second_submission_is_refused_and_recorded_once(enrolled: FlaskClient, quiz_course: Course) -> None:
    attempt = start(enrolled, quiz_course)
    submit(enrolled, attempt, right_answers(attempt))
    html = submit(enrolled, attempt, {"q1": "0"}).get_data(as_text=True)
    assert "This attempt has already been submitted; nothing was changed." in html
    db.session.expire_all()
    again = db.session.get(QuizAttempt, attempt.id)
    assert again is not None and again.percent == 100.0
    assert attempt_count() == 1


def test_answers_for_questions_not_in_the_attempt_are_refused(
    enrolled: FlaskClient, quiz_course: Course
) -> None:
    attempt = start(enrolled, quiz_course)
    html = submit(enrolled, attempt, {"q1": "1", "q99": "0"}).get_data(as_text=True)
    assert "The answers sent include questions that are not in this attempt." in html
    html = submit(enrolled, attempt, {"q1": "7"}).get_data(as_text=True)
    assert "The answer to question 1 is not one of the options shown." in html
    db.session.expire_all()
    same = db.session.get(QuizAttempt, attempt.id)
    assert same is not None and same.status == AttemptStatus.IN_PROGRESS
    assert all(item.answer is None for item in same.questions)


def test_submission_after_the_time_limit_is_refused(enrolled: FlaskClient, quiz_course: Course) -> None:
    attempt = start(enrolled, quiz_course)
    submit(enrolled, attempt, {"q1": "1"}, action="save")
    # Inside the grace period the submission still counts.
    db.session.expire_all()
    attempt = db.session.get(QuizAttempt, attempt.id)
    assert attempt is not None
    attempt.deadline_at = utcnow() - timedelta(seconds=10)
    db.session.commit()
    second = start(enrolled, quiz_course)
    assert second.id == attempt.id  # still running within the grace
    # Past the grace: refused, and graded on what was saved in time.
    attempt.deadline_at = utcnow() - timedelta(minutes=5)
    db.session.commit()
    html = submit(enrolled, attempt, right_answers(attempt)).get_data(as_text=True)
    assert "The time for this attempt is up" in html
    db.session.expire_all()
    closed = db.session.get(QuizAttempt, attempt.id)
    assert closed is not None
    assert closed.status == AttemptStatus.EXPIRED
    assert closed.percent == 20.0  # only the saved answer to q1 counts
    assert attempt_count() == 1


def test_attempts_beyond_the_allowed_number_are_refused(enrolled: FlaskClient, quiz_course: Course) -> None:
    for _ in range(2):
        submit(enrolled, start(enrolled, quiz_course), {})
    response = enrolled.post(f"/courses/{quiz_course.slug}/quizzes/final/start", follow_redirects=True)
    assert "You have used all 2 attempts allowed for this quiz." in response.get_data(as_text=True)
    assert attempt_count() == 2


def test_an_attempt_in_progress_resumes_with_saved_answers(
    enrolled: FlaskClient, quiz_course: Course
) -> None:
    attempt = start(enrolled, quiz_course)
    html = submit(enrolled, attempt, {"q1": "1", "q3": "1951", "q4": "focal point"}, action="save").get_data(
        as_text=True
    )
    assert "Your answers are saved" in html
    resumed = start(enrolled, quiz_course)  # as after closing the tab
    assert resumed.id == attempt.id
    html = enrolled.get(f"/quiz-attempts/{attempt.id}").get_data(as_text=True)
    assert re.search(r'name="q1" value="1" checked', html)
    assert 'value="1951"' in html and 'value="focal point"' in html
    assert attempt_count() == 1


def test_other_trainees_cannot_see_or_answer_an_attempt(
    app: Any, enrolled: FlaskClient, quiz_course: Course, make_user: Callable[..., User]
) -> None:
    attempt = start(enrolled, quiz_course)
    other = app.test_client()
    from tests.conftest import login

    login(other, make_user(Role.TRAINEE))
    assert other.get(f"/quiz-attempts/{attempt.id}").status_code == 404
    assert other.post(f"/quiz-attempts/{attempt.id}", data={"action": "submit"}).status_code == 404


def test_the_attempt_is_frozen_and_a_russian_enrolment_sees_russian(
    login_as: Callable[[User], FlaskClient], trainee: User, quiz_course: Course
) -> None:
    client = login_as(trainee)
    run = default_run(quiz_course.id)
    assert run is not None
    client.post(f"/runs/{run.id}/enrol", data={"language": "ru"})
    enrolment = db.session.scalar(select(Enrolment).where(Enrolment.user_id == trainee.id))
    assert enrolment is not None
    enrolment.language = "ru"  # the test course has no Russian lessons; the quiz has Russian texts
    db.session.commit()
    attempt = start(client, quiz_course)
    assert attempt.questions[0].frozen["view"]["prompt"] == "Где проводятся пограничные проверки?"
    question = db.session.scalar(select(Question).where(Question.key == "q-where"))
    assert question is not None
    question.spec = {**question.spec, "prompt": "Changed later"}
    db.session.commit()
    html = client.get(f"/quiz-attempts/{attempt.id}").get_data(as_text=True)
    assert "Где проводятся пограничные проверки?" in html and "Changed later" not in html


def test_regrade_records_old_and_new_scores(
    enrolled: FlaskClient, quiz_course: Course, app: Any, make_trainer: Callable[..., User]
) -> None:
    attempt = start(enrolled, quiz_course)
    submit(enrolled, attempt, {"q1": "0"})  # "Between crossing points": wrong under the written key
    db.session.expire_all()
    assert (db.session.get(QuizAttempt, attempt.id) or attempt).percent == 0.0
    question = db.session.scalar(select(Question).where(Question.key == "q-where"))
    assert question is not None
    # The author "fixes" the key: now the first choice is the right one (and the file is re-synced).
    choices = [dict(c, correct=(i == 0)) for i, c in enumerate(question.spec["choices"])]
    question.spec = {**question.spec, "choices": choices}
    question.version += 1
    db.session.commit()

    trainer_client = app.test_client()
    from tests.conftest import login

    login(trainer_client, make_trainer(quiz_course))
    quiz = final_quiz(quiz_course)
    response = trainer_client.post(
        f"/trainer/quizzes/{quiz.id}/questions/{question.id}/regrade", follow_redirects=True
    )
    assert "was regraded in 1 enrolment(s)" in response.get_data(as_text=True)
    db.session.expire_all()
    regraded = db.session.get(QuizAttempt, attempt.id)
    assert regraded is not None and regraded.percent == 20.0
    record = db.session.scalar(select(RegradeRecord))
    assert record is not None
    assert (record.old_percent, record.new_percent, record.attempt_id) == (0.0, 20.0, attempt.id)
    report = trainer_client.get(f"/trainer/quizzes/{quiz.id}").get_data(as_text=True)
    assert "Regrades" in report and "20.0%" in report


def test_trainer_report_shows_distribution_and_items_in_fixed_queries(
    app: Any, quiz_course: Course, make_user: Callable[..., User], make_trainer: Callable[..., User]
) -> None:
    from tests.conftest import login

    quiz = final_quiz(quiz_course)
    trainer = app.test_client()
    login(trainer, make_trainer(quiz_course))

    def take(answers: Callable[[QuizAttempt], dict[str, Any]]) -> None:
        client = app.test_client()
        login(client, make_user(Role.TRAINEE))
        run = default_run(quiz_course.id)
        assert run is not None
        client.post(f"/runs/{run.id}/enrol")
        attempt = start(client, quiz_course)
        submit(client, attempt, answers(attempt))

    def measure() -> tuple[int, str]:
        statements: list[str] = []

        def record(*args: object) -> None:
            statements.append(str(args[2]))

        event.listen(db.engine, "before_cursor_execute", record)
        try:
            response = trainer.get(f"/trainer/quizzes/{quiz.id}")
        finally:
            event.remove(db.engine, "before_cursor_execute", record)
        assert response.status_code == 200
        return len(statements), response.get_data(as_text=True)

    take(right_answers)
    with_one, _ = measure()
    take(lambda a: {"q1": "1", "q2": "false"})
    take(lambda a: {})
    with_three, html = measure()
    assert with_three == with_one
    assert "Score distribution" in html and "Item analysis" in html
    assert "q-where" in html and "Facility" in html
    # One attempt at 100%, one at 40%, one at 0%.
    rows = dict(re.findall(r"<tr><td>(\d+)–\d+</td><td>(\d+)</td>", html))
    assert rows["0"] == "1" and rows["40"] == "1" and rows["90"] == "1"
    assert db.session.scalar(select(func.count(AttemptQuestion.id))) == 15


def test_trainer_pages_are_for_trainers_and_admins(
    app: Any, quiz_course: Course, make_user: Callable[..., User], make_trainer: Callable[..., User]
) -> None:
    from tests.conftest import login

    quiz = final_quiz(quiz_course)
    for role, status in (
        (Role.TRAINEE, 403),
        (Role.FOCAL_POINT, 403),
        (Role.TRAINER, 200),
        (Role.ADMIN, 200),
    ):
        client = app.test_client()
        login(client, make_trainer(quiz_course) if role == Role.TRAINER else make_user(role))
        assert client.get(f"/trainer/quizzes/{quiz.id}").status_code == status, role
        assert client.get("/trainer/quizzes").status_code == status, role


def test_the_trainer_of_another_course_can_neither_read_nor_regrade_its_quiz(
    enrolled: FlaskClient, quiz_course: Course, app: Any, make_trainer: Callable[..., User]
) -> None:
    """Issue 18: any trainer could read a quiz's attempts (emails, scores) and regrade it."""
    from tests.conftest import login

    attempt = start(enrolled, quiz_course)
    submit(enrolled, attempt, {"q1": "0"})
    quiz = final_quiz(quiz_course)
    question = db.session.scalar(select(Question).where(Question.key == "q-where"))
    assert question is not None
    other_course = Course(slug="other-course", title="Other course")
    db.session.add(other_course)
    db.session.commit()
    outsider = app.test_client()
    login(outsider, make_trainer(other_course))
    report = outsider.get(f"/trainer/quizzes/{quiz.id}")
    assert report.status_code == 403
    assert "@agency.test" not in report.get_data(as_text=True)
    assert "Final check" not in outsider.get("/trainer/quizzes").get_data(as_text=True)
    regrade = outsider.post(f"/trainer/quizzes/{quiz.id}/questions/{question.id}/regrade")
    assert regrade.status_code == 403
    assert db.session.scalar(select(func.count(RegradeRecord.id))) == 0
    assert (
        db.session.scalar(select(func.count(AuditRecord.id)).where(AuditRecord.action.like("%regrade%"))) == 0
    )


def test_course_outline_lists_quizzes(enrolled: FlaskClient, quiz_course: Course) -> None:
    html = enrolled.get(f"/courses/{quiz_course.slug}").get_data(as_text=True)
    assert "Final check" in html and f"/courses/{quiz_course.slug}/quizzes/final" in html


def test_demo_course_quizzes_sync_idempotently(demo_course: Course) -> None:
    quizzes = db.session.scalars(
        select(Quiz).where(Quiz.course_id == demo_course.id).order_by(Quiz.position)
    ).all()
    assert [q.role for q in quizzes] == ["pre_test", "post_test", "final"]
    count = db.session.scalar(select(func.count(Question.id)))
    from lms.content.loader import load_course as reload

    spec, _ = reload(Path(__file__).resolve().parent.parent / "courses" / "ibm-foundations")
    assert spec is not None
    demo_course.content_hash = None  # force a full re-sync
    sync_course(spec)
    db.session.commit()
    assert db.session.scalar(select(func.count(Question.id))) == count
    assert all(q.version == 1 for q in db.session.scalars(select(Question)))


def test_lesson_completion_alone_does_not_complete_a_course_with_a_final(
    enrolled: FlaskClient, quiz_course: Course, trainee: User
) -> None:
    enrolment = db.session.scalar(select(Enrolment).where(Enrolment.user_id == trainee.id))
    assert enrolment is not None
    for lesson in db.session.scalars(select(Lesson).join(Module).where(Module.course_id == quiz_course.id)):
        db.session.add(LessonCompletion(enrolment_id=enrolment.id, lesson_id=lesson.id))
    db.session.commit()
    from lms.enrolment.completion import update_completion

    update_completion(enrolment)
    assert enrolment.status == EnrolmentStatus.ENROLLED
