"""The named signals (docs/architecture.md "Signals"): each is sent by the service where its event happens,
with the documented sender and arguments, and completion is re-checked by the enrolment feature's
subscribers, whoever finished the attempt (a service call here, no view)."""

from __future__ import annotations

import weakref
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
from blinker import Signal
from sqlalchemy import select

from lms.admin import services as admin_services
from lms.auth.models import Role, User
from lms.auth.signals import person_merged
from lms.certificates import services as certificate_services
from lms.certificates.models import Certificate, IssueMethod
from lms.certificates.signals import certificate_issued, certificate_revoked
from lms.content.loader import load_course
from lms.content.services import sync_course
from lms.courses.models import Course, Lesson, Module
from lms.db import utcnow
from lms.demo.cohort import _right_answer
from lms.enrolment import completion as enrolment_completion
from lms.enrolment import runs as enrolment_runs
from lms.enrolment import self_service as enrolment_self_service
from lms.enrolment.models import Enrolment, EnrolmentStatus
from lms.enrolment.signals import attendance_changed, enrolment_completed, lesson_completed
from lms.extensions import db
from lms.quizzes import services as quiz_services
from lms.quizzes.models import AttemptStatus, Question, Quiz, QuizAttempt
from lms.quizzes.signals import attempt_finished, attempts_regraded
from tests.test_certificates import complete_course, tiny_course  # noqa: F401  # fixture
from tests.test_quiz_attempts import QUIZ
from tests.test_quiz_loader import write_course

Sent = list[tuple[Any, dict[str, Any]]]


@contextmanager
def recording(signal: Signal) -> Iterator[Sent]:
    """Every send of ``signal`` inside the block, as (sender, keyword arguments)."""
    sent: Sent = []

    def receiver(sender: Any, **kwargs: Any) -> None:
        sent.append((sender, kwargs))

    with signal.connected_to(receiver):
        yield sent


@pytest.fixture
def quiz_course(app: Any, tmp_path: Path) -> Course:
    """One lesson and a final quiz (pass mark 60): complete = the lesson read and the final passed."""
    spec, problems = load_course(write_course(tmp_path, QUIZ, slug="signal-course"), tmp_path)
    assert spec is not None, problems
    course = sync_course(spec).course
    enrolment_runs.ensure_default_run(course)
    db.session.commit()
    return course


@pytest.fixture
def enrolment(make_user: Callable[..., User], quiz_course: Course) -> Enrolment:
    run = enrolment_runs.default_run(quiz_course.id)
    assert run is not None
    enrolment = enrolment_self_service.self_enrol(make_user(Role.TRAINEE), run)
    db.session.commit()
    return enrolment


def _final(course: Course) -> Quiz:
    quiz = db.session.scalar(select(Quiz).where(Quiz.course_id == course.id, Quiz.role == "final"))
    assert quiz is not None
    return quiz


def _lessons(course: Course) -> list[Lesson]:
    return list(db.session.scalars(select(Lesson).join(Module).where(Module.course_id == course.id)))


def _right(attempt: QuizAttempt) -> dict[int, dict[str, list[str]]]:
    return {item.position: _right_answer(item.frozen) for item in attempt.questions}


def test_attempt_finished_is_sent_by_the_submission_with_the_attempt_and_its_enrolment(
    enrolment: Enrolment, quiz_course: Course
) -> None:
    attempt, _new = quiz_services.start_attempt(enrolment, _final(quiz_course))
    with recording(attempt_finished) as sent:
        quiz_services.save_answers(attempt, {})
        assert sent == []  # saving is not finishing
        quiz_services.submit_attempt(attempt, _right(attempt))
    assert sent == [(attempt, {"enrolment_id": enrolment.id})]
    assert attempt.status == AttemptStatus.SUBMITTED


def test_attempt_finished_is_sent_when_an_attempt_is_closed_at_its_time_limit(
    enrolment: Enrolment, quiz_course: Course
) -> None:
    attempt, _new = quiz_services.start_attempt(enrolment, _final(quiz_course))
    later = utcnow() + timedelta(hours=2)
    with recording(attempt_finished) as sent:
        assert quiz_services.expire_if_overdue(attempt, later)
        assert not quiz_services.expire_if_overdue(attempt, later)  # closed once: sent once
    assert sent == [(attempt, {"enrolment_id": enrolment.id})]
    assert attempt.status == AttemptStatus.EXPIRED


def test_attempts_regraded_names_the_question_and_the_enrolments(
    enrolment: Enrolment, quiz_course: Course
) -> None:
    attempt, _new = quiz_services.start_attempt(enrolment, _final(quiz_course))
    quiz_services.submit_attempt(attempt, _right(attempt))
    question = db.session.get(Question, attempt.questions[0].question_id)
    assert question is not None
    with recording(attempts_regraded) as sent:
        quiz_services.regrade_question(question, actor_id=None)
    assert sent == [(question, {"enrolment_ids": [enrolment.id]})]


def test_lesson_completed_is_sent_once_per_new_completion(enrolment: Enrolment, quiz_course: Course) -> None:
    lesson = _lessons(quiz_course)[0]
    with recording(lesson_completed) as sent:
        assert enrolment_completion.complete_lesson(enrolment, lesson)
        assert not enrolment_completion.complete_lesson(enrolment, lesson)  # a repeat sends nothing
    assert sent == [(enrolment, {"lesson_id": lesson.id})]


def test_an_attempt_finished_through_the_service_completes_the_enrolment_by_the_subscriber(
    enrolment: Enrolment, quiz_course: Course
) -> None:
    """No view and no explicit completion call: the enrolment feature's subscriber to attempt_finished
    recomputes completion, and enrolment_completed follows with the enrolment."""
    for lesson in _lessons(quiz_course):
        enrolment_completion.complete_lesson(enrolment, lesson)
    assert enrolment.status == EnrolmentStatus.ENROLLED  # the final is still to pass
    attempt, _new = quiz_services.start_attempt(enrolment, _final(quiz_course))
    with recording(enrolment_completed) as sent:
        quiz_services.submit_attempt(attempt, _right(attempt))
    assert attempt.passed
    assert enrolment.status == EnrolmentStatus.COMPLETED
    assert enrolment.completed_at is not None
    assert sent == [(enrolment, {})]
    db.session.commit()
    db.session.expire_all()
    stored = db.session.get(Enrolment, enrolment.id)
    assert stored is not None and stored.status == EnrolmentStatus.COMPLETED


def test_an_attempt_closed_at_its_limit_completes_the_enrolment_by_the_subscriber(
    enrolment: Enrolment, quiz_course: Course
) -> None:
    for lesson in _lessons(quiz_course):
        enrolment_completion.complete_lesson(enrolment, lesson)
    attempt, _new = quiz_services.start_attempt(enrolment, _final(quiz_course))
    quiz_services.save_answers(attempt, _right(attempt))
    assert quiz_services.expire_if_overdue(attempt, utcnow() + timedelta(hours=2))
    assert enrolment.status == EnrolmentStatus.COMPLETED


def test_enrolment_completed_and_certificate_issued_on_completion(
    make_user: Callable[..., User],
    tiny_course: Course,  # noqa: F811  # the fixture imported above
) -> None:
    trainee = make_user(Role.TRAINEE)
    with recording(enrolment_completed) as completed, recording(certificate_issued) as issued:
        enrolment = complete_course(trainee, tiny_course)
    assert completed == [(enrolment, {})]
    certificate = db.session.scalar(select(Certificate).where(Certificate.user_id == trainee.id))
    assert certificate is not None
    assert issued == [(certificate, {"method": IssueMethod.AUTOMATIC, "actor_id": None})]


def test_certificate_revoked_names_the_certificate_and_the_admin(
    make_user: Callable[..., User],
    tiny_course: Course,  # noqa: F811  # the fixture imported above
) -> None:
    admin, trainee = make_user(Role.ADMIN), make_user(Role.TRAINEE)
    complete_course(trainee, tiny_course)
    certificate = db.session.scalar(select(Certificate).where(Certificate.user_id == trainee.id))
    assert certificate is not None
    with recording(certificate_revoked) as sent:
        certificate_services.revoke(certificate, admin.id, "Obtained by fraud.", show_reason_publicly=False)
    assert sent == [(certificate, {"actor_id": admin.id})]


def test_person_merged_names_both_people_and_what_moved(app: Any, make_user: Callable[..., User]) -> None:
    admin, kept, removed = make_user(Role.ADMIN), make_user(), make_user()
    with recording(person_merged) as sent:
        moved = admin_services.merge_people(kept, removed, admin.id, reason="Same officer twice.")
    assert len(sent) == 1
    sender, arguments = sent[0]
    assert sender.id == kept.id
    assert arguments["removed"].id == removed.id
    assert arguments["removed"].merged_into_id == kept.id
    assert arguments == {"removed": arguments["removed"], "moved": moved, "actor_id": admin.id}


def test_the_indicator_facts_follow_a_merge_through_person_merged(app: Any) -> None:
    """The merge moves rows with bulk statements the fact listeners cannot see; reports reacts to the
    signal (the admin feature, above it, does not call into reports)."""
    from lms.reports import facts

    assert facts._refresh_after_merge in _receivers(person_merged)


def _receivers(signal: Signal) -> list[Any]:
    return [r() if isinstance(r, weakref.ref) else r for r in signal.receivers.values()]


def test_completion_subscribers_are_connected_by_the_app_factory(app: Any) -> None:
    """The web app, `flask lms` and the job worker all come from create_app: its register_features
    connects the enrolment feature's receivers and the certificates' one."""
    from lms.certificates.services import on_enrolment_completed
    from lms.enrolment import completion

    assert completion._after_attempt_finished in _receivers(attempt_finished)
    assert completion._after_attempts_regraded in _receivers(attempts_regraded)
    assert completion._after_lesson_completed in _receivers(lesson_completed)
    assert completion._after_attendance_changed in _receivers(attendance_changed)
    assert on_enrolment_completed in _receivers(enrolment_completed)
