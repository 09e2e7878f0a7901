"""The demo's finished cohort: after `make run` the reports have history to show (lms/demo/cohort.py)."""

from __future__ import annotations

import re
from collections.abc import Callable
from datetime import UTC, datetime, time, timedelta
from random import Random

from flask import Flask
from sqlalchemy import func, select

from lms.auth.models import User
from lms.certificates.models import Certificate
from lms.courses.models import Course
from lms.db import utcnow
from lms.demo.cohort import CERTIFIED, COHORT, PAST_RUNS, PastRun, _move_back, load_demo_cohort
from lms.demo.services import DEMO_PASSWORD
from lms.enrolment.models import CourseRun, Enrolment, EnrolmentEvent, EnrolmentStatus, LessonCompletion
from lms.enrolment.runs import default_run
from lms.extensions import db
from lms.quizzes.models import QuizAttempt
from lms.reports import facts
from lms.reports.indicator_queries import IndicatorFilters, indicator_tables
from tests.a11y_support import load_academy


def _past_runs() -> list[CourseRun]:
    titles = [past.title for past in PAST_RUNS]
    return list(
        db.session.scalars(select(CourseRun).where(CourseRun.title.in_(titles)).order_by(CourseRun.id))
    )


def test_the_cohort_gives_the_indicator_report_history(app: Flask) -> None:
    load_academy()
    runs = _past_runs()
    assert len(runs) == len(PAST_RUNS)
    tables = indicator_tables(IndicatorFilters())
    completed = sum(1 for past in PAST_RUNS for _email, outcome in past.members if outcome == "completed")
    assert tables.total.completions >= completed
    months = [month for month, count in tables.completions_by_month if count]
    assert len(months) >= 3, tables.completions_by_month  # a line over time, not one bar
    assert tables.total.paired >= 10 and tables.total.post_sum > tables.total.pre_sum  # the IBM run's tests
    countries = {key for key, cell in tables.breakdowns["country"] if cell.completions}
    assert len(countries) >= 8
    sexes = {key for key, _cell in tables.breakdowns["sex"]}
    assert {"female", "male", None} <= sexes  # "not stated" is a real answer in donor tables
    with db.engine.connect() as connection:
        assert facts.differences(connection) == set()


def test_the_history_lies_inside_each_run_in_order(app: Flask) -> None:
    load_academy()
    for run in _past_runs():
        assert run.ends_on < datetime.now(UTC).date()
        start = datetime.combine(run.starts_on, time.min, tzinfo=UTC)
        end = datetime.combine(run.ends_on, time.max, tzinfo=UTC)
        for enrolment in db.session.scalars(select(Enrolment).where(Enrolment.run_id == run.id)):
            assert enrolment.enrolled_at < start
            if enrolment.completed_at is not None:
                assert start < enrolment.completed_at <= end
            stamps = [enrolment.enrolled_at]
            stamps += db.session.scalars(
                select(LessonCompletion.completed_at).where(LessonCompletion.enrolment_id == enrolment.id)
            )
            stamps += db.session.scalars(
                select(QuizAttempt.submitted_at).where(QuizAttempt.enrolment_id == enrolment.id)
            )
            if enrolment.completed_at is not None:  # studied, then completed
                assert max(m for m in stamps if m is not None) <= enrolment.completed_at
            stamps += db.session.scalars(
                select(EnrolmentEvent.at).where(EnrolmentEvent.enrolment_id == enrolment.id)
            )
            assert all(enrolment.enrolled_at <= moment <= end for moment in stamps if moment is not None)


def test_certificates_wait_for_approval_after_the_first_few(app: Flask) -> None:
    load_academy()
    for run in _past_runs():
        issued = db.session.scalar(select(func.count(Certificate.id)).where(Certificate.run_id == run.id))
        completed = db.session.scalar(
            select(func.count(Enrolment.id)).where(
                Enrolment.run_id == run.id, Enrolment.status == "completed"
            )
        )
        assert issued == CERTIFIED
        assert completed is not None and completed > CERTIFIED  # the rest: "completed, not issued"
        assert run.certificate_issuance == "approval"


def test_loading_again_writes_nothing(app: Flask) -> None:
    load_academy()
    before = db.session.scalar(select(func.count(Enrolment.id)))
    assert load_demo_cohort() == 0
    assert db.session.scalar(select(func.count(Enrolment.id))) == before


def test_admin_sees_the_charts_and_a_cohort_member_can_sign_in(app: Flask) -> None:
    load_academy()
    admin = app.test_client()
    response = admin.post("/login", data={"email": "admin@academy.test", "password": DEMO_PASSWORD})
    assert response.status_code == 302
    page = admin.get("/reports/indicators").get_data(as_text=True)
    # A month on a chart's axis. Not a fixed year: the cohort's history is dated back from today.
    assert "<svg" in page and re.search(r"<text [^>]*>20\d\d-(0[1-9]|1[0-2])</text>", page)
    member = app.test_client()
    english_speaker = next(m for m in COHORT if m.language is None)
    response = member.post("/login", data={"email": english_speaker.email, "password": DEMO_PASSWORD})
    assert response.status_code == 302
    dashboard = member.get("/dashboard").get_data(as_text=True)
    assert "Integrated Border Management: foundations" in dashboard


def test_a_late_event_does_not_move_the_completion_before_the_run(
    app: Flask, demo_course: Course, make_user: Callable[..., User]
) -> None:
    """The history is written seconds apart, then moved into the run's weeks. An event written long after
    the studying (a certificate's, while the rest of the run loads on a busy machine) once pulled the
    completion before the run's start (CI, 2026-12-06): a line through all stamps squeezed the studying
    into the first percent of it."""
    run = default_run(demo_course.id)
    assert run is not None
    person = make_user()
    now = utcnow()
    place = Enrolment(user_id=person.id, run_id=run.id, status=EnrolmentStatus.COMPLETED, enrolled_at=now,
                      created_at=now, completed_at=now + timedelta(seconds=3))  # fmt: skip
    db.session.add(place)
    db.session.flush()
    lesson = demo_course.modules[0].lessons[0]
    db.session.add(
        LessonCompletion(enrolment_id=place.id, lesson_id=lesson.id, completed_at=now + timedelta(seconds=2))
    )
    db.session.add(EnrolmentEvent(enrolment_id=place.id, action="enrolled", to_status="enrolled", at=now))
    late = now + timedelta(minutes=10)  # ten minutes later: 99.5% of the span
    db.session.add(EnrolmentEvent(enrolment_id=place.id, action="certified", to_status="completed", at=late))
    db.session.flush()
    past = PastRun("x", "x", "online", starts=60, weeks=4, members=())

    _move_back(place, past, Random(7))  # noqa: S311 — demo history, not a secret

    start = datetime.combine(utcnow().date() - timedelta(days=60), time.min, tzinfo=UTC)
    assert place.enrolled_at < start < place.completed_at
    done = db.session.scalar(
        select(LessonCompletion.completed_at).where(LessonCompletion.enrolment_id == place.id)
    )
    assert place.enrolled_at < done <= place.completed_at
    moved_events = sorted(
        db.session.scalars(select(EnrolmentEvent.at).where(EnrolmentEvent.enrolment_id == place.id))
    )
    assert moved_events[0] < start and place.completed_at <= moved_events[1] <= start + timedelta(weeks=4)
