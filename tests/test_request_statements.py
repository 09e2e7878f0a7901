"""The busiest requests cost a fixed number of SQL statements, whatever the size of the academy (issue 22).

Each request is measured twice: once on a small academy, once after the data it could grow with has grown
(the trainee's own finished quiz attempts, other trainees with their places and completions, sessions of
other runs). The counts must be equal and under a bound; no figure here is a time. And a learner's request
never renders a PDF: the certificate its submission issues has no file until the job has run.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from datetime import timedelta

import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import event, select

from bench.generate import practice_quiz_like
from lms.auth.models import Role, User
from lms.certificates.models import Certificate
from lms.courses.models import Course
from lms.db import utcnow
from lms.enrolment.models import CourseRun, Enrolment, EnrolmentStatus, LessonCompletion
from lms.enrolment.runs import default_run
from lms.enrolment.self_service import join_open_run
from lms.extensions import db
from lms.quizzes.models import AttemptQuestion, AttemptStatus, Quiz, QuizAttempt, QuizRole
from lms.sessions.models import TrainingSession
from lms.sessions.services import cancel_session, schedule_session
from tests.conftest_mail import job_queue
from tests.enrolment_support import make_course
from tests.sessions_support import in_person, workshop_run
from tests.test_certificate_jobs import at_the_final_assessment, pdf_files, quiz_course
from tests.test_learning import enrol, ordered_lessons
from tests.test_performance_paths import recorded_statements
from tests.test_quiz_attempts import right_answers, submit
from tests.test_sessions_pages import DAY

__all__ = ["quiz_course"]  # the fixture (a final quiz; the run issues certificates automatically)

pytestmark = pytest.mark.usefixtures("fresh_user_per_request")


def practice_quiz(course: Course) -> Quiz:
    """A practice quiz drawing from the course's bank, unlimited attempts (as the bench's)."""
    template = db.session.scalar(
        select(Quiz).where(Quiz.course_id == course.id, Quiz.role == QuizRole.POST_TEST)
    )
    assert template is not None
    quiz = practice_quiz_like(template, "practice-run", "Practice")
    db.session.add(quiz)
    db.session.commit()
    return quiz


def grow(course: Course, trainee: User, make_user: Callable[..., User], quiz: Quiz, size: int) -> None:
    """What a request could grow with: the trainee's finished attempts (each with its questions), other
    trainees with places and every lesson completed, and sessions of another run."""
    enrolment = db.session.scalar(select(Enrolment).where(Enrolment.user_id == trainee.id))
    assert enrolment is not None
    last = select(QuizAttempt.number).where(
        QuizAttempt.enrolment_id == enrolment.id, QuizAttempt.quiz_id == quiz.id
    )
    first = db.session.scalar(last.order_by(QuizAttempt.number.desc()).limit(1)) or 0
    question_ids = [q.question_id for q in db.session.scalars(select(AttemptQuestion).limit(5))]
    now = utcnow()
    for number in range(first + 1, first + 1 + size):
        attempt = QuizAttempt(
            enrolment_id=enrolment.id,
            quiz_id=quiz.id,
            number=number,
            status=AttemptStatus.SUBMITTED,
            language="en",
            started_at=now,
            submitted_at=now,
            score=1,
            max_score=5,
            percent=20,
            passed=True,
        )
        attempt.questions = [
            AttemptQuestion(position=p, question_id=q, question_version=1, frozen={}, points=1)
            for p, q in enumerate(question_ids, start=1)
        ]
        db.session.add(attempt)
    run = default_run(course.id)
    assert run is not None
    lessons = ordered_lessons(course)
    for _ in range(size):
        place = join_open_run(make_user(Role.TRAINEE), run, "en")
        db.session.add_all(
            LessonCompletion(enrolment_id=place.id, lesson_id=lesson.id, completed_at=now)
            for lesson in lessons
        )
    other = CourseRun(course_id=course.id, title="Another run", modality="in_person")
    db.session.add(other)
    db.session.flush()
    db.session.add_all(
        TrainingSession(
            run_id=other.id,
            title=f"Day {n}",
            starts_at=now + timedelta(days=n),
            ends_at=now + timedelta(days=n, hours=2),
            uid=f"statements-{other.id}-{n}@academy.test",
            check_in_secret="s" * 32,
        )
        for n in range(1, size + 1)
    )
    db.session.commit()


BOUND_IN_LIST = re.compile(r"\bIN \((\?|%\(|\$\d)")  # SQLite's ?, psycopg's %(name)s


def counted(request: Callable[[], object]) -> list[str]:
    with recorded_statements() as statements:
        request()
    return list(statements)


def test_a_quiz_submission_costs_the_same_statements_however_large_the_academy(
    login_as: Callable[[User], FlaskClient], make_user: Callable[..., User], demo_course: Course
) -> None:
    trainee = make_user(Role.TRAINEE)
    client = login_as(trainee)
    enrol(client, demo_course)
    quiz = practice_quiz(demo_course)
    path = f"/courses/{demo_course.slug}/quizzes/{quiz.slug}/start"

    def start_and_submit() -> tuple[list[str], list[str]]:
        # The test shares the requests' session: each request starts with no transaction open.
        db.session.rollback()
        started = counted(lambda: client.post(path))
        attempt_id = db.session.scalars(select(QuizAttempt.id).order_by(QuizAttempt.id.desc())).first()
        db.session.rollback()
        submitted = counted(lambda: client.post(f"/quiz-attempts/{attempt_id}", data={"action": "submit"}))
        attempt = db.session.get(QuizAttempt, attempt_id)
        assert attempt is not None and attempt.status == AttemptStatus.SUBMITTED
        db.session.rollback()
        return started, submitted

    start_and_submit()  # the first attempt reads what later ones find in the session's caches
    small_start, small_submit = start_and_submit()
    grow(demo_course, trainee, make_user, quiz, 30)
    large_start, large_submit = start_and_submit()

    assert len(large_submit) == len(small_submit) <= 6
    assert len(large_start) == len(small_start) <= 10
    # The quiz's lines and candidate questions are kept with the course's snapshot: a start reads only
    # what this enrolment has seen of them (issue 22).
    assert not [s for s in large_start if "quiz_slot" in s or s.startswith("SELECT question.")]
    # A practice attempt feeds no indicator fact and cannot complete the course.
    assert not [s for s in large_submit if "indicator_fact" in s or "lesson_completion" in s]
    assert not [s for s in large_submit if "xapi_lrs_settings" in s]  # a practice attempt is never sent
    # What the enrolment has seen is asked about the candidates only, and stops once each was found: the
    # same statement scanned every attempt the enrolment ever made (15 ms at 2,400 attempts on L).
    seen = [s for s in large_start if "DISTINCT attempt_question.question_id" in s]
    assert len(seen) == 1 and "LIMIT" in seen[0]
    # The reads come first, in a shared transaction; SQLite's write lock is taken for the writes only.
    if db.engine.dialect.name == "sqlite":
        for request in (large_start, large_submit):
            lock = request.index("BEGIN IMMEDIATE")
            assert all(s.startswith(("BEGIN", "SELECT")) for s in request[:lock])
            assert not [s for s in request[lock:] if s.startswith(("SELECT user.", "SELECT question."))]
        # Under the lock nothing is read again: the start checks the place in its UPDATE, and the
        # submission grades from the frozen rows it read with the attempt.
        for request in (large_start, large_submit):
            lock = request.index("BEGIN IMMEDIATE")
            assert not [s for s in request[lock:] if s.startswith(("SELECT", "SAVEPOINT"))]


def test_the_quiz_pages_and_a_save_cost_the_same_few_statements_however_large_the_academy(
    login_as: Callable[[User], FlaskClient], make_user: Callable[..., User], demo_course: Course
) -> None:
    """The other steps of a practice attempt (the capacity scenario's): the quiz page reads the quiz with
    the course's key and the attempts as plain rows; the attempt page and the review read the attempt, its
    quiz, its place's status, the course's key and the frozen questions in one statement (the course's
    texts from its snapshot); a save reads as the submission does and writes two plain statements."""
    trainee = make_user(Role.TRAINEE)
    client = login_as(trainee)
    enrol(client, demo_course)
    quiz = practice_quiz(demo_course)
    overview = f"/courses/{demo_course.slug}/quizzes/{quiz.slug}"

    def one_attempt() -> dict[str, list[str]]:
        db.session.rollback()  # the test shares the requests' session: each starts with no transaction
        steps = {"overview": counted(lambda: client.get(overview))}
        path = client.post(f"{overview}/start").headers["Location"]
        db.session.rollback()
        steps["page"] = counted(lambda: client.get(path))
        db.session.rollback()
        steps["save"] = counted(lambda: client.post(path, data={"action": "save"}))
        db.session.rollback()
        assert client.post(path, data={"action": "submit"}).status_code == 302
        db.session.rollback()
        steps["review"] = counted(lambda: client.get(f"{path}/review"))
        db.session.rollback()
        return steps

    one_attempt()  # the course's snapshot and the session's caches warm
    small = one_attempt()
    grow(demo_course, trainee, make_user, quiz, 30)
    loaded: list[object] = []

    def count(target: object, _context: object) -> None:
        loaded.append(target)

    event.listen(AttemptQuestion, "load", count)
    try:
        large = one_attempt()
    finally:
        event.remove(AttemptQuestion, "load", count)

    assert {name: len(s) for name, s in large.items()} == {name: len(s) for name, s in small.items()}
    assert len(large["overview"]) <= 5
    assert len(large["page"]) <= 3
    assert len(large["save"]) <= 6
    assert len(large["review"]) <= 3  # an unlimited quiz: no attempt is the last, nothing to count
    assert not loaded  # no frozen question became an ORM object (the start and submission make none)
    for step in large.values():  # the course's texts come from its snapshot, never its row
        assert not [s for s in step if "course.summary" in s]
    if db.engine.dialect.name == "sqlite":  # the save reads first; under the lock it only writes
        lock = large["save"].index("BEGIN IMMEDIATE")
        assert all(s.startswith("UPDATE") for s in large["save"][lock + 1 :])


def test_the_lesson_page_and_the_dashboard_cost_the_same_statements_however_large_the_academy(
    login_as: Callable[[User], FlaskClient], make_user: Callable[..., User], demo_course: Course
) -> None:
    trainee = make_user(Role.TRAINEE)
    client = login_as(trainee)
    enrol(client, demo_course)
    quiz = practice_quiz(demo_course)
    lesson = ordered_lessons(demo_course)[1]
    client.post(f"/courses/{demo_course.slug}/quizzes/{quiz.slug}/start")
    pages = {"lesson": f"/courses/{demo_course.slug}/lessons/{lesson.id}", "dashboard": "/dashboard"}
    for path in pages.values():
        assert client.get(path).status_code == 200  # snapshots warm
    db.session.rollback()
    small = {name: counted(lambda p=path: client.get(p)) for name, path in pages.items()}
    grow(demo_course, trainee, make_user, quiz, 30)
    large = {name: counted(lambda p=path: client.get(p)) for name, path in pages.items()}

    assert len(large["lesson"]) == len(small["lesson"]) <= 4
    # The lesson page reads its course's snapshot key with the trainee's place, in one statement.
    assert not [s for s in large["lesson"] if s.startswith("SELECT course.")]
    assert len(large["dashboard"]) == len(small["dashboard"]) <= 4
    # Lessons completed and quiz attempts in one statement (lms.enrolment.completion.places_standing);
    # the dashboard's certificate in force comes with its places, not in a statement of its own.
    for name in pages:
        assert len([s for s in large[name] if "lesson_completion" in s or "quiz_attempt" in s]) == 1
    assert not [s for s in large["dashboard"] if s.startswith("SELECT certificate.")]
    # The course's key comes with the places (its texts are in the snapshot); the dashboard asks for the
    # next session only of runs with a session still to end, and for surveys only with a completed place:
    # this trainee has neither (the sessions grown are another run's), so no such statement.
    assert not [s for s in large["dashboard"] if "FROM course " in s]
    assert not [s for s in large["dashboard"] if "FROM training_session" in s]
    assert not [s for s in large["dashboard"] if "survey_invitation" in s]
    # No bound IN list on either page (one place here): SQLAlchemy rewrites such a list into the SQL text at
    # every execution; the statuses are written out (lms.enrolment.models.status_in), one place is `=`.
    for name in pages:
        assert not [s for s in large[name] if BOUND_IN_LIST.search(s)], name


def test_the_next_session_is_asked_for_only_while_a_run_has_one_to_come(
    login_as: Callable[[User], FlaskClient], make_user: Callable[..., User]
) -> None:
    """course_run.sessions_end_at follows the sessions (lms.sessions.services): scheduled, the dashboard
    asks and shows it; cancelled, it asks nothing and shows none."""
    run = workshop_run(make_course(), DAY)
    trainee = make_user(Role.TRAINEE)
    join_open_run(trainee, run, "en")
    db.session.commit()
    client = login_as(trainee)
    client.get("/dashboard")
    assert not [s for s in counted(lambda: client.get("/dashboard")) if "FROM training_session" in s]

    session = schedule_session(run, in_person(DAY), actor_id=None)
    db.session.commit()
    page: list[str] = []
    statements = counted(lambda: page.append(client.get("/dashboard").get_data(as_text=True)))
    assert len([s for s in statements if "FROM training_session" in s]) == 1
    assert "Next session:" in page[0] and session.title in page[0]

    db.session.rollback()
    scheduled = db.session.get(TrainingSession, session.id)
    assert scheduled is not None
    cancel_session(scheduled, actor_id=None)
    db.session.commit()
    page.clear()
    statements = counted(lambda: page.append(client.get("/dashboard").get_data(as_text=True)))
    assert not [s for s in statements if "FROM training_session" in s]
    assert "Next session:" not in page[0]


def test_a_completed_place_brings_the_survey_question_back(
    login_as: Callable[[User], FlaskClient], make_user: Callable[..., User], demo_course: Course
) -> None:
    trainee = make_user(Role.TRAINEE)
    client = login_as(trainee)
    enrol(client, demo_course)
    place = db.session.scalar(select(Enrolment).where(Enrolment.user_id == trainee.id))
    assert place is not None
    place.status = EnrolmentStatus.COMPLETED
    db.session.commit()
    client.get("/dashboard")
    statements = counted(lambda: client.get("/dashboard"))
    assert len([s for s in statements if "FROM survey_invitation" in s]) == 1


def test_no_pdf_is_rendered_in_the_learners_request(
    app: Flask, client: FlaskClient, make_user: Callable[..., User], quiz_course: Course
) -> None:
    """The submission that completes the course issues the certificate (rows only); the file appears only
    when the job the request queued has run (no patching: the files are looked at)."""
    trainee = make_user(Role.TRAINEE)
    attempt = at_the_final_assessment(client, trainee, quiz_course)
    with job_queue(app) as jobs:
        assert "Passed." in submit(client, attempt, right_answers(attempt)).get_data(as_text=True)
        db.session.rollback()
        certificate = db.session.scalar(select(Certificate).where(Certificate.user_id == trainee.id))
        assert certificate is not None
        # the request answered without its PDF (the folder may hold other tests' files: only this code counts)
        assert not [name for name in pdf_files() if name.startswith(certificate.code)]
        jobs.run()
    assert f"{certificate.code}.pdf" in pdf_files()


def test_the_review_after_a_submission_loads_one_attempt_however_many_were_made(
    login_as: Callable[[User], FlaskClient], make_user: Callable[..., User], demo_course: Course
) -> None:
    """The page a browser follows after "Submit": it counts the other attempts, it does not load them."""
    trainee = make_user(Role.TRAINEE)
    client = login_as(trainee)
    enrol(client, demo_course)
    quiz = practice_quiz(demo_course)
    grow(demo_course, trainee, make_user, quiz, 30)
    started = client.post(f"/courses/{demo_course.slug}/quizzes/{quiz.slug}/start")
    path = started.headers["Location"]
    assert client.post(path, data={"action": "submit"}).status_code == 302
    db.session.rollback()
    loaded: list[object] = []

    def count(target: object, _context: object) -> None:
        loaded.append(target)

    event.listen(QuizAttempt, "load", count)
    try:
        page = client.get(f"{path}/review")
    finally:
        event.remove(QuizAttempt, "load", count)
    assert page.status_code == 200
    assert len(loaded) == 1  # this attempt; the 31 others are counted by one index-only statement
