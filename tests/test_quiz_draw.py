"""What an attempt draws: fixed questions as written, then from a bank the questions this enrolment has
not seen before the ones it has, never an inactive one, only those with the slot's tag (issue 22 moved
the draw to one statement for the slots and their candidates and bounded the "seen" statement)."""

from __future__ import annotations

from collections.abc import Callable
from random import Random

from flask.testing import FlaskClient
from sqlalchemy import event, select

from lms.auth.models import Role, User
from lms.courses.models import Course
from lms.courses.published import published_course
from lms.enrolment.models import Enrolment
from lms.enrolment.runs import default_run
from lms.enrolment.self_service import join_open_run
from lms.extensions import db
from lms.quizzes import services
from lms.quizzes.draw import draw_questions
from lms.quizzes.models import Question, Quiz, QuizAttempt, QuizRole, QuizSlot
from tests.test_reports_query_plans import explain


def drawing_quiz(course: Course, bank_id: int, fixed: Question, tag: str | None = None) -> Quiz:
    quiz = Quiz(
        course_id=course.id,
        slug=f"draw-{tag or 'all'}",
        title="Draws",
        role=QuizRole.PRACTICE,
        position=50,
        pass_mark=0,
        attempts_allowed=None,
    )
    quiz.slots = [
        QuizSlot(position=1, question_id=fixed.id),
        QuizSlot(position=2, bank_id=bank_id, tag=tag, draw_count=2),
    ]
    db.session.add(quiz)
    db.session.commit()
    return quiz


def drawn(enrolment: Enrolment, quiz: Quiz, seed: int) -> list[int]:
    attempt, is_new = services.start_attempt(enrolment, quiz, rng=Random(seed))  # noqa: S311
    assert is_new
    ids = [item.question_id for item in sorted(attempt.questions, key=lambda item: item.position)]
    services.submit_attempt(attempt, {})
    db.session.commit()
    return ids


def test_a_bank_gives_unseen_questions_first_never_inactive_ones(
    make_user: Callable[..., User], demo_course: Course
) -> None:
    questions = list(db.session.scalars(select(Question).where(Question.course_id == demo_course.id)))
    banked = sorted((q for q in questions if q.bank_id is not None), key=lambda q: q.id)
    bank_id = banked[0].bank_id
    assert bank_id is not None
    bank = [q for q in banked if q.bank_id == bank_id]
    assert len(bank) >= 6
    bank[-1].is_active = False  # gone from the files: never drawn again
    fixed = bank[0]  # a fixed line's question is not drawn again by the bank's line
    quiz = drawing_quiz(demo_course, bank_id, fixed)
    run = default_run(demo_course.id)
    assert run is not None
    enrolment = join_open_run(make_user(Role.TRAINEE), run, "en")
    db.session.commit()
    active = {q.id for q in bank[1:-1]}

    seen: list[int] = []
    for seed in range(len(active) // 2):
        ids = drawn(enrolment, quiz, seed)
        assert ids[0] == fixed.id  # the fixed line, where it is written
        assert len(ids) == 3 and set(ids[1:]) <= active
        assert not set(ids[1:]) & set(seen)  # unseen questions while there are any
        seen += ids[1:]
    again = drawn(enrolment, quiz, 99)
    assert set(again[1:]) <= active
    assert len(set(again[1:]) - set(seen)) == len(active) - len(seen)  # the last unseen one(s) first
    assert db.session.query(QuizAttempt).filter_by(quiz_id=quiz.id).count() == len(active) // 2 + 1


def test_a_tagged_line_draws_only_questions_with_its_tag(
    make_user: Callable[..., User], demo_course: Course
) -> None:
    questions = list(db.session.scalars(select(Question).where(Question.course_id == demo_course.id)))
    bank = sorted((q for q in questions if q.bank_id is not None), key=lambda q: q.id)
    bank = [q for q in bank if q.bank_id == bank[0].bank_id]
    for question in bank[1:3]:
        question.tags = [*question.tags, "chosen"]
    assert bank[0].bank_id is not None
    quiz = drawing_quiz(demo_course, bank[0].bank_id, bank[0], "chosen")
    run = default_run(demo_course.id)
    assert run is not None
    enrolment = join_open_run(make_user(Role.TRAINEE), run, "en")
    db.session.commit()
    for seed in range(3):
        assert set(drawn(enrolment, quiz, seed)[1:]) == {bank[1].id, bank[2].id}


def test_the_draw_kept_with_the_course_snapshot_draws_as_the_read_one(
    make_user: Callable[..., User], demo_course: Course
) -> None:
    """Same lines, same candidates, same random choices: the kept draw only skips the statements."""
    run = default_run(demo_course.id)
    assert run is not None
    enrolment = join_open_run(make_user(Role.TRAINEE), run, "en")
    db.session.commit()
    snapshot = published_course(demo_course.slug)
    assert snapshot is not None
    for quiz in db.session.scalars(select(Quiz).where(Quiz.course_id == demo_course.id)):
        for seed in range(5):
            read = draw_questions(quiz, enrolment.id, Random(seed))  # noqa: S311
            kept = draw_questions(quiz, enrolment.id, Random(seed), snapshot)  # noqa: S311
            assert [tuple(row) for row in read] == [tuple(row) for row in kept]
    # Freezing never changed what the snapshot keeps (its specs are shared by every start).
    specs = {q.id: q.spec for q in db.session.scalars(select(Question))}
    kept_specs = {
        c.id: c.spec
        for name, plan in snapshot.derived.items()
        if name.startswith("draw:")
        for c in plan.questions.values()
    }
    assert kept_specs and all(spec == specs[question_id] for question_id, spec in kept_specs.items())


def started_ids(client: FlaskClient, course: Course, quiz: Quiz) -> list[int]:
    db.session.rollback()  # the test shares the requests' session
    response = client.post(f"/courses/{course.slug}/quizzes/{quiz.slug}/start")
    assert response.status_code == 302
    attempt_id = int(response.headers["Location"].rsplit("/", 1)[-1])
    attempt = db.session.get(QuizAttempt, attempt_id)
    assert attempt is not None
    ids = [item.question_id for item in sorted(attempt.questions, key=lambda item: item.position)]
    services.submit_attempt(attempt, {})
    db.session.commit()
    return ids


def test_starts_draw_each_for_itself_and_a_republished_course_draws_anew(
    login_as: Callable[[User], FlaskClient], make_user: Callable[..., User], demo_course: Course
) -> None:
    questions = list(db.session.scalars(select(Question).where(Question.course_id == demo_course.id)))
    banked = sorted((q for q in questions if q.bank_id is not None), key=lambda q: q.id)
    bank = [q for q in banked if q.bank_id == banked[0].bank_id]
    assert bank[0].bank_id is not None and len(bank) >= 7
    quiz = drawing_quiz(demo_course, bank[0].bank_id, bank[0])
    trainee = make_user(Role.TRAINEE)
    run = default_run(demo_course.id)
    assert run is not None
    join_open_run(trainee, run, "en")
    db.session.commit()
    client = login_as(trainee)

    first = started_ids(client, demo_course, quiz)
    second = started_ids(client, demo_course, quiz)
    assert first[0] == second[0] == bank[0].id
    assert not set(first[1:]) & set(second[1:])  # each start draws, preferring what was not seen

    # Republished: questions gone from the files are never drawn again, though the process kept a draw
    # (which would draw these first: they are the ones this trainee has not seen).
    gone = {q.id for q in bank[1:] if q.is_active} - {*first, *second}
    assert gone
    for question in bank:
        if question.id in gone:
            question.is_active = False
    course = db.session.get(Course, demo_course.id)
    assert course is not None
    course.content_hash = "republished"  # what sync_course writes, with a new updated_at
    db.session.commit()
    for _ in range(3):
        assert not set(started_ids(client, demo_course, quiz)) & gone


def test_the_seen_questions_are_read_by_attempt_and_question(
    make_user: Callable[..., User], demo_course: Course
) -> None:
    """A start's "seen before" read goes through the index on (attempt, question): with the two single
    indexes PostgreSQL ANDed each attempt's entries with every attempt's entries of the candidate questions,
    a read that grows with the whole quiz's history (75 ms a start on L, docs/performance.md)."""
    questions = list(db.session.scalars(select(Question).where(Question.course_id == demo_course.id)))
    banked = sorted((q for q in questions if q.bank_id is not None), key=lambda q: q.id)
    assert banked[0].bank_id is not None
    quiz = drawing_quiz(demo_course, banked[0].bank_id, banked[0])
    run = default_run(demo_course.id)
    assert run is not None
    enrolment = join_open_run(make_user(Role.TRAINEE), run, "en")
    db.session.commit()
    drawn(enrolment, quiz, 1)
    captured: list[tuple[str, object]] = []

    def record(conn: object, cursor: object, statement: str, parameters: object, *rest: object) -> None:
        if "DISTINCT attempt_question.question_id" in statement:
            captured.append((statement, parameters))

    event.listen(db.engine, "before_cursor_execute", record)
    try:
        drawn(enrolment, quiz, 2)
    finally:
        event.remove(db.engine, "before_cursor_execute", record)
    assert len(captured) == 1
    plan = " ".join(explain(*captured[0]))
    print(plan)
    assert "ix_attempt_question_attempt_question" in plan
    assert "ix_attempt_question_question_id" not in plan
