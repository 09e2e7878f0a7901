"""Two starts from the same reads (two clicks, two servers) compute the same attempt number: the second
inserts nothing and says so, with no second attempt (issue 22 wrote the attempt as typed text, a
statement SQLAlchemy can keep compiled)."""

from __future__ import annotations

from collections.abc import Callable
from datetime import timedelta
from random import Random

import pytest
from sqlalchemy import select

from lms.auth.models import Role, User
from lms.courses.models import Course
from lms.db import utcnow
from lms.enrolment.models import Enrolment
from lms.enrolment.runs import default_run
from lms.enrolment.self_service import join_open_run
from lms.errors import Conflict
from lms.extensions import db
from lms.quizzes import services
from lms.quizzes.models import AttemptStatus, Quiz, QuizAttempt


def test_a_second_start_from_the_same_reads_inserts_nothing(
    make_user: Callable[..., User], demo_course: Course, monkeypatch: pytest.MonkeyPatch
) -> None:
    quiz = db.session.scalars(select(Quiz).where(Quiz.course_id == demo_course.id)).first()
    assert quiz is not None
    quiz.time_limit_minutes = 20
    run = default_run(demo_course.id)
    assert run is not None
    enrolment = join_open_run(make_user(Role.TRAINEE), run, "fr")
    db.session.commit()
    now = utcnow().replace(microsecond=0)
    attempt, is_new = services.start_attempt(enrolment, quiz, now=now, rng=Random(1))  # noqa: S311
    assert is_new
    attempt_id, enrolment_id = attempt.id, enrolment.id
    db.session.commit()
    db.session.expunge_all()
    stored = db.session.get(QuizAttempt, attempt_id)
    assert stored is not None
    assert (stored.number, stored.status, stored.language) == (1, AttemptStatus.IN_PROGRESS, "fr")
    assert (stored.started_at, stored.deadline_at) == (now, now + timedelta(minutes=20))
    assert stored.max_score == sum(item.points for item in stored.questions) > 0

    quiz = db.session.get(Quiz, stored.quiz_id)
    place = db.session.get(Enrolment, enrolment_id)
    assert quiz is not None and place is not None
    monkeypatch.setattr(services, "_tally", lambda *_ids: (0, 0, None))  # what the other start read
    with pytest.raises(Conflict):
        services.start_attempt(place, quiz, now=now, rng=Random(2))  # noqa: S311
    db.session.rollback()
    assert db.session.query(QuizAttempt).filter_by(quiz_id=quiz.id).count() == 1
