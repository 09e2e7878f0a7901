"""Catalogue, course page, enrolment in the open run, reading lessons in order, completion, dashboard."""

from __future__ import annotations

from collections.abc import Callable

import pytest
from flask.testing import FlaskClient
from sqlalchemy import event, func, select, update

from lms.auth.models import User
from lms.courses.models import Course, Lesson, LessonCompletionMode
from lms.courses.published import forget_snapshots
from lms.enrolment.completion import complete_lesson
from lms.enrolment.models import Enrolment, EnrolmentStatus, LessonCompletion
from lms.enrolment.progress import compute_progress
from lms.enrolment.runs import default_run
from lms.errors import Forbidden
from lms.extensions import db


def ordered_lessons(course: Course) -> list[Lesson]:
    return [lesson for module in course.modules for lesson in module.lessons if lesson.is_published]


def enrol(client: FlaskClient, course: Course, language: str = "en") -> None:
    run = default_run(course.id)
    assert run is not None
    response = client.post(f"/runs/{run.id}/enrol", data={"language": language})
    assert response.status_code == 302


def test_progress_arithmetic() -> None:
    progress = compute_progress([1, 2, 3, 4], {1, 3, 99})
    assert (progress.done, progress.total, progress.percent, progress.next_lesson_id) == (2, 4, 50, 2)
    assert compute_progress([], set()).percent == 0
    assert compute_progress([1], {1}).lessons_complete


def test_catalogue_lists_published_courses_for_everyone(client: FlaskClient, demo_course: Course) -> None:
    page = client.get("/").get_data(as_text=True)
    assert demo_course.title in page
    assert "Русский" in page  # the course's languages
    assert client.get("/?q=border").status_code == 200
    assert demo_course.title not in client.get("/?q=no-such-words").get_data(as_text=True)


def test_course_page_invites_sign_in_then_enrolment(
    client: FlaskClient, demo_course: Course, make_user: Callable[..., User]
) -> None:
    anonymous = client.get(f"/courses/{demo_course.slug}").get_data(as_text=True)
    assert "Sign in" in anonymous and "Enrol in this course" not in anonymous
    for outcome in demo_course.learning_outcomes:
        assert outcome.replace("'", "&#39;") in anonymous
    client.post("/login", data={"email": make_user().email, "password": "correct horse battery"})
    page = client.get(f"/courses/{demo_course.slug}").get_data(as_text=True)
    assert "Enrol in this course" in page


def test_lessons_need_an_enrolment(
    login_as: Callable[[User], FlaskClient], make_user: Callable[..., User], demo_course: Course
) -> None:
    client = login_as(make_user())
    lesson = ordered_lessons(demo_course)[0]
    response = client.get(f"/courses/{demo_course.slug}/lessons/{lesson.id}")
    assert response.status_code == 302
    assert response.headers["Location"] == f"/courses/{demo_course.slug}"
    assert "Enrol in this course to read its lessons." in client.get(response.headers["Location"]).text
    assert client.post(f"/courses/{demo_course.slug}/lessons/{lesson.id}/complete").status_code == 403
    # The message is a lazy string (not translated on each enrolled reader's page): translated when shown.
    client.post("/language", data={"language": "ru", "next": "/"})
    client.get(f"/courses/{demo_course.slug}/lessons/{lesson.id}")
    assert "Запишитесь на курс, чтобы читать его уроки." in client.get(f"/courses/{demo_course.slug}").text


def test_trainee_reads_in_order_and_progress_grows(
    login_as: Callable[[User], FlaskClient], make_user: Callable[..., User], demo_course: Course
) -> None:
    user = make_user()
    client = login_as(user)
    enrol(client, demo_course)
    lessons = ordered_lessons(demo_course)
    first = client.get(f"/courses/{demo_course.slug}/lessons/{lessons[0].id}").get_data(as_text=True)
    assert lessons[0].title in first
    assert "Mark as complete" in first
    assert f'href="/courses/{demo_course.slug}/lessons/{lessons[1].id}"' in first
    assert "0% complete" in first

    response = client.post(f"/courses/{demo_course.slug}/lessons/{lessons[0].id}/complete")
    assert response.headers["Location"] == f"/courses/{demo_course.slug}/lessons/{lessons[1].id}"
    again = client.post(f"/courses/{demo_course.slug}/lessons/{lessons[0].id}/complete")
    assert again.status_code == 302
    assert db.session.scalar(select(func.count(LessonCompletion.id))) == 1  # recorded once

    percent = 100 // len(lessons)
    dashboard = client.get("/dashboard").get_data(as_text=True)
    assert demo_course.title in dashboard
    assert f"{percent}% complete · 1 of {len(lessons)} lessons" in dashboard


def test_completing_every_lesson_completes_the_course(
    login_as: Callable[[User], FlaskClient], make_user: Callable[..., User], demo_course: Course
) -> None:
    user = make_user()
    client = login_as(user)
    enrol(client, demo_course)
    for lesson in ordered_lessons(demo_course):
        client.post(f"/courses/{demo_course.slug}/lessons/{lesson.id}/complete")
    enrolment = db.session.scalar(select(Enrolment).where(Enrolment.user_id == user.id))
    assert enrolment is not None
    db.session.refresh(enrolment)
    if enrolment.status == EnrolmentStatus.COMPLETED:  # before quizzes: lessons alone complete a course
        assert "You have completed this course." in client.get(f"/courses/{demo_course.slug}").get_data(
            as_text=True
        )
    assert "100% complete" in client.get("/dashboard").get_data(as_text=True)


def test_a_repeat_records_activity_only_and_a_stale_enrolment_is_refused(
    login_as: Callable[[User], FlaskClient], make_user: Callable[..., User], demo_course: Course
) -> None:
    user = make_user()
    enrol(login_as(user), demo_course)
    enrolment = db.session.scalar(select(Enrolment).where(Enrolment.user_id == user.id))
    assert enrolment is not None
    first, second = ordered_lessons(demo_course)[:2]
    assert complete_lesson(enrolment, first) is True
    db.session.commit()
    before = enrolment.last_activity_at
    assert complete_lesson(enrolment, first) is False  # a second click: the time moves, no second row
    db.session.commit()
    db.session.refresh(enrolment)
    assert (
        enrolment.last_activity_at is not None and before is not None and enrolment.last_activity_at > before
    )
    assert db.session.scalar(select(func.count(LessonCompletion.id))) == 1
    # Withdrawn by someone else after this session read the enrolment: the write itself checks the status.
    session = db.session()
    session.expire_on_commit = False  # keep what was read, as a view does before it starts writing
    session.commit()
    session.expire_on_commit = True
    with db.engine.begin() as connection:
        connection.execute(update(Enrolment).where(Enrolment.id == enrolment.id).values(status="withdrawn"))
    assert enrolment.status == EnrolmentStatus.ENROLLED  # what this session still believes
    with pytest.raises(Forbidden):
        complete_lesson(enrolment, second)
    db.session.rollback()
    assert db.session.scalar(select(func.count(LessonCompletion.id))) == 1


def test_on_read_courses_complete_a_lesson_when_opened(
    login_as: Callable[[User], FlaskClient], make_user: Callable[..., User], demo_course: Course
) -> None:
    demo_course.lesson_completion = LessonCompletionMode.ON_READ
    db.session.commit()
    client = login_as(make_user())
    enrol(client, demo_course)
    lesson = ordered_lessons(demo_course)[2]
    page = client.get(f"/courses/{demo_course.slug}/lessons/{lesson.id}").get_data(as_text=True)
    assert "You have completed this lesson." in page
    assert db.session.scalar(select(LessonCompletion.lesson_id)) == lesson.id


def test_lessons_are_served_in_the_enrolment_language(
    login_as: Callable[[User], FlaskClient], make_user: Callable[..., User], demo_course: Course
) -> None:
    client = login_as(make_user())
    enrol(client, demo_course, language="ru")
    lesson = ordered_lessons(demo_course)[0]
    translation = lesson.text_in("ru")
    assert translation is not None
    page = client.get(f"/courses/{demo_course.slug}/lessons/{lesson.id}").get_data(as_text=True)
    assert translation.title in page
    assert 'lang="ru"' in page


def test_a_lesson_of_another_course_is_not_found(
    login_as: Callable[[User], FlaskClient], make_user: Callable[..., User], demo_course: Course
) -> None:
    client = login_as(make_user())
    enrol(client, demo_course)
    assert client.get(f"/courses/{demo_course.slug}/lessons/987654").status_code == 404
    assert client.get("/courses/no-such-course").status_code == 404


def test_second_enrolment_in_the_same_course_is_refused(
    login_as: Callable[[User], FlaskClient], make_user: Callable[..., User], demo_course: Course
) -> None:
    user = make_user()
    client = login_as(user)
    enrol(client, demo_course)
    run = default_run(demo_course.id)
    assert run is not None
    client.post(f"/runs/{run.id}/enrol")
    assert db.session.scalar(select(func.count(Enrolment.id))) == 1


def test_dashboard_query_count_does_not_grow_with_courses(
    login_as: Callable[[User], FlaskClient], make_user: Callable[..., User], demo_course: Course
) -> None:
    user = make_user()
    client = login_as(user)
    enrol(client, demo_course)

    def count_queries() -> int:
        statements: list[str] = []

        def record(*args: object) -> None:
            # BEGIN is not a query: whether the test's shared session already has a transaction open
            # depends on what ran before, not on the page.
            if not str(args[2]).startswith("BEGIN"):
                statements.append(str(args[2]))

        event.listen(db.engine, "before_cursor_execute", record)
        try:
            assert client.get("/dashboard").status_code == 200
        finally:
            event.remove(db.engine, "before_cursor_execute", record)
        return len(statements)

    # The first page after a publish builds the course's outline snapshot (a fixed four queries: its texts,
    # modules, lessons and translations, lms/courses/published.py; the page reads the row's key with the
    # places) and its quizzes (one, lms/quizzes/queries.py); later pages reuse them.
    # Both counts stay the same as progress grows.
    forget_snapshots()
    cold = count_queries()
    warm = count_queries()
    assert cold == warm + 5
    for lesson in ordered_lessons(demo_course)[:3]:
        client.post(f"/courses/{demo_course.slug}/lessons/{lesson.id}/complete")
    assert count_queries() == warm
    forget_snapshots()
    assert count_queries() == cold
