"""The dashboard's reading (issue 22): places and runs as plain rows, the next session found from them, the
quiz standings of a place's own course only, and the course links built once per course and mount point."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, date, datetime

from flask import Flask, url_for

from lms.auth.models import User
from lms.courses.models import Course
from lms.courses.published import published_course
from lms.courses.views import course_href
from lms.enrolment import runs as enrolment_runs
from lms.enrolment import self_service
from lms.enrolment.models import CourseRun, Enrolment
from lms.enrolment.queries import DashboardPlace, DashboardRun, dashboard_rows
from lms.extensions import db
from lms.quizzes.queries import published_quizzes, standings
from lms.sessions import queries as session_queries
from lms.sessions.services import schedule_session
from tests.enrolment_support import make_course
from tests.sessions_support import in_person, workshop_run

DAY = date(2038, 3, 26)  # far ahead: the run must still take enrolments whenever the suite runs


def test_the_places_and_runs_are_plain_rows_with_the_objects_values(
    make_user: Callable[..., User], demo_course: Course
) -> None:
    user = make_user()
    workshop = workshop_run(make_course(), DAY, days=3)
    self_service.self_enrol(user, enrolment_runs.ensure_default_run(demo_course))
    self_service.self_enrol(user, workshop)
    db.session.commit()
    rows = dashboard_rows(user.id)
    assert len(rows) == 2
    for row in rows:
        assert isinstance(row.enrolment, DashboardPlace) and isinstance(row.run, DashboardRun)
        enrolment, run = db.session.get(Enrolment, row.enrolment.id), db.session.get(CourseRun, row.run.id)
        assert enrolment is not None and run is not None and enrolment.run_id == run.id
        assert row.enrolment == tuple(getattr(enrolment, name) for name in DashboardPlace._fields)
        assert row.run == tuple(getattr(run, name) for name in DashboardRun._fields)
        assert row.course.id == run.course_id
        assert all(standing.quiz.course_id == run.course_id for standing in row.quizzes)


def test_the_standings_of_a_place_are_those_of_its_own_courses_quizzes(
    make_user: Callable[..., User], demo_course: Course
) -> None:
    user = make_user()
    demo_place = self_service.self_enrol(user, enrolment_runs.ensure_default_run(demo_course))
    other_place = self_service.self_enrol(user, workshop_run(make_course(), DAY, days=3))
    db.session.commit()
    snapshot = published_course(demo_course.slug)
    assert snapshot is not None
    quizzes = published_quizzes(snapshot)
    assert quizzes, "the demo course has quizzes"
    places = [demo_place.id, other_place.id]
    every_pair = standings(quizzes, places)
    own = standings(
        quizzes, places, {demo_place.id: demo_course.id, other_place.id: other_place.run.course_id}
    )
    assert set(own) == {(demo_place.id, quiz.id) for quiz in quizzes}
    assert all(own[pair] == every_pair[pair] for pair in own)


def test_the_next_session_comes_from_the_dashboards_plain_runs(
    app: Flask, make_user: Callable[..., User]
) -> None:
    user = make_user()
    workshop = workshop_run(make_course(), DAY, days=3)
    self_service.self_enrol(user, workshop)
    session = schedule_session(workshop, in_person(DAY), actor_id=None)
    db.session.commit()
    runs = [row.run for row in dashboard_rows(user.id)]
    line = session_queries.next_session_of_runs(runs, now=datetime(2038, 1, 1, tzinfo=UTC))
    assert line is not None and line.session.id == session.id
    assert line.run == runs[0] and line.run.title == workshop.title
    assert session_queries.next_session_of_runs(runs, now=datetime(2038, 4, 1, tzinfo=UTC)) is None


def test_a_course_address_is_built_once_per_mount_point(app: Flask, demo_course: Course) -> None:
    for root in ("", "/academy", ""):
        with app.test_request_context("/dashboard", base_url=f"http://localhost{root}"):
            expected = url_for("courses.course", slug=demo_course.slug)
            assert expected == f"{root}/courses/{demo_course.slug}"
            assert course_href(demo_course.slug) == expected
            assert course_href(demo_course.slug) == expected  # from the cache
