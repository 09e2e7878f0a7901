"""The fast paths of the busiest pages (docs/performance.md) stay correct.

Outline snapshots (lms/courses/published.py) never serve a course that changed; lesson pages cost the same
number of queries whatever the course's size; the lesson completion takes SQLite's write lock only for its
write; rendered-once fragments follow the language and the roles.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import timedelta

from flask import url_for
from flask.testing import FlaskClient
from sqlalchemy import event, func, select
from sqlalchemy.orm import ORMExecuteState, Session

from lms.auth.models import Role, User
from lms.content.loader import CourseSpec, LessonSpec, LessonText, load_course
from lms.content.services import sync_course
from lms.courses.models import Course
from lms.courses.published import published_course
from lms.enrolment.models import Enrolment, EnrolmentMethod, EnrolmentStatus, LessonCompletion
from lms.extensions import db
from tests.conftest import PROJECT_ROOT, login
from tests.enrolment_support import make_run
from tests.test_learning import enrol, ordered_lessons


@contextmanager
def recorded_statements() -> Iterator[list[str]]:
    statements: list[str] = []

    def record(*args: object) -> None:
        statements.append(" ".join(str(args[2]).split()))

    event.listen(db.engine, "before_cursor_execute", record)
    try:
        yield statements
    finally:
        event.remove(db.engine, "before_cursor_execute", record)


def _spec_with_extra_lessons(extra: int, body: str | None = None) -> CourseSpec:
    """The demo course as its files say, with a new first-lesson text and ``extra`` more lessons."""
    spec, problems = load_course(PROJECT_ROOT / "courses" / "ibm-foundations")
    assert spec is not None and not problems
    first, *others = spec.modules
    lessons = list(first.lessons)
    if body is not None:
        lessons[0] = dataclasses.replace(lessons[0], text=dataclasses.replace(lessons[0].text, body_md=body))
    lessons += [
        LessonSpec(slug=f"extra-{n}", text=LessonText(title=f"Extra lesson {n}", body_md="Read this."))
        for n in range(extra)
    ]
    return dataclasses.replace(spec, modules=[dataclasses.replace(first, lessons=lessons), *others])


def test_a_republished_course_is_never_served_from_an_old_snapshot(
    login_as: Callable[[User], FlaskClient], make_user: Callable[..., User], demo_course: Course
) -> None:
    client = login_as(make_user())
    enrol(client, demo_course)
    first = ordered_lessons(demo_course)[0]
    assert (
        "A brand-new first paragraph"
        not in client.get(f"/courses/{demo_course.slug}/lessons/{first.id}").text
    )
    snapshot = published_course(demo_course.slug)

    # Another process (or server) publishes: only the database changes, this process's snapshot does not.
    sync_course(_spec_with_extra_lessons(1, body="A brand-new first paragraph."))
    db.session.commit()

    page = client.get(f"/courses/{demo_course.slug}/lessons/{first.id}").text
    assert "A brand-new first paragraph" in page
    assert "Extra lesson 0" in page  # the outline grew too
    assert published_course(demo_course.slug) is not snapshot


def test_a_republished_quiz_is_never_served_from_an_old_snapshot(
    login_as: Callable[[User], FlaskClient], make_user: Callable[..., User], demo_course: Course
) -> None:
    """Outlines and the dashboard keep the course's quizzes per process (lms.quizzes.queries
    published_quizzes): a quiz renamed by another process's publish shows on the next page."""
    client = login_as(make_user())
    enrol(client, demo_course)
    lesson = ordered_lessons(demo_course)[0]
    assert "Final assessment" in client.get("/dashboard").text
    assert "Final assessment" in client.get(f"/courses/{demo_course.slug}/lessons/{lesson.id}").text

    spec, problems = load_course(PROJECT_ROOT / "courses" / "ibm-foundations")
    assert spec is not None and not problems
    renamed = [
        dataclasses.replace(quiz, title="Closing examination") if quiz.role == "final" else quiz
        for quiz in spec.quizzes
    ]
    sync_course(dataclasses.replace(spec, quizzes=renamed))
    db.session.commit()

    assert "Closing examination" in client.get("/dashboard").text
    assert "Closing examination" in client.get(f"/courses/{demo_course.slug}/lessons/{lesson.id}").text


def test_lesson_queries_do_not_grow_with_the_course(
    login_as: Callable[[User], FlaskClient], make_user: Callable[..., User], demo_course: Course
) -> None:
    client = login_as(make_user())
    enrol(client, demo_course)
    lesson = ordered_lessons(demo_course)[1]
    path = f"/courses/{demo_course.slug}/lessons/{lesson.id}"
    client.get(path)  # builds the snapshot
    with recorded_statements() as small:
        assert client.get(path).status_code == 200
    sync_course(_spec_with_extra_lessons(12))
    db.session.commit()
    client.get(path)  # the course changed: the next page builds a new snapshot
    with recorded_statements() as large:
        assert client.get(path).status_code == 200
    assert len(large) == len(small)
    assert len(small) <= 8  # user, course row, enrolment, completions, quizzes, attempts (+ BEGIN)


def test_outline_links_are_the_lesson_route(
    login_as: Callable[[User], FlaskClient], make_user: Callable[..., User], demo_course: Course
) -> None:
    client = login_as(make_user())
    enrol(client, demo_course)
    lessons = ordered_lessons(demo_course)
    page = client.get(f"/courses/{demo_course.slug}/lessons/{lessons[0].id}").text
    with client.application.test_request_context():
        for lesson in lessons:
            assert f'href="{url_for("courses.lesson", slug=demo_course.slug, lesson_id=lesson.id)}"' in page


def test_lesson_completion_takes_the_write_lock_for_its_write_only(
    login_as: Callable[[User], FlaskClient], make_user: Callable[..., User], demo_course: Course
) -> None:
    client = login_as(make_user())
    enrol(client, demo_course)
    lesson = ordered_lessons(demo_course)[0]
    db.session.commit()  # the tests share the requests' session: start the request without a transaction
    with recorded_statements() as statements:
        response = client.post(f"/courses/{demo_course.slug}/lessons/{lesson.id}/complete")
    assert response.status_code == 302
    if db.engine.dialect.name != "sqlite":
        return
    begins = [i for i, sql in enumerate(statements) if sql.startswith("BEGIN")]
    # One reading transaction (user, course, enrolment), then one writing transaction, nothing after it.
    assert [statements[i] for i in begins] == ["BEGIN", "BEGIN IMMEDIATE"]
    writing = statements[begins[1] + 1 :]
    assert any(sql.startswith("INSERT INTO lesson_completion") for sql in writing)
    assert not any("FROM user " in sql or "FROM course " in sql for sql in writing)


def test_repeated_completion_changes_nothing_but_the_activity_time(
    login_as: Callable[[User], FlaskClient], make_user: Callable[..., User], demo_course: Course
) -> None:
    from lms.enrolment.models import LessonCompletion

    client = login_as(make_user())
    enrol(client, demo_course)
    lesson = ordered_lessons(demo_course)[0]
    for _ in range(3):
        assert client.post(f"/courses/{demo_course.slug}/lessons/{lesson.id}/complete").status_code == 302
    db.session.expire_all()
    assert db.session.query(LessonCompletion).filter_by(lesson_id=lesson.id).count() == 1


def test_navigation_fragment_follows_language_and_roles(
    login_as: Callable[[User], FlaskClient], make_user: Callable[..., User], demo_course: Course
) -> None:
    trainee = login_as(make_user())
    assert "Authoring" not in trainee.get("/dashboard").text
    trainer_client = trainee.application.test_client()
    login(trainer_client, make_user(Role.TRAINEE, Role.TRAINER))
    assert "Authoring" in trainer_client.get("/dashboard").text
    trainer_client.post("/language", data={"language": "ru", "next": "/dashboard"})
    russian = trainer_client.get("/dashboard").text
    assert "Authoring" not in russian and 'lang="ru"' in russian
    # The current page is still marked in the cached links.
    assert 'href="/dashboard" aria-current="page"' in trainee.get("/dashboard").text


def test_the_busiest_pages_read_with_core_statements(
    login_as: Callable[[User], FlaskClient], make_user: Callable[..., User], demo_course: Course
) -> None:
    """The dashboard's places (with the certificate in force), the lesson page's place, their standing:
    statements on the tables, which skip the ORM's per-statement set-up. One mapped-class column in a
    subquery made the whole dashboard statement an ORM one (issue 22)."""
    client = login_as(make_user())
    enrol(client, demo_course)
    lesson = ordered_lessons(demo_course)[0]
    kinds: list[tuple[bool, str]] = []

    def seen(state: ORMExecuteState) -> None:
        kinds.append((state.is_orm_statement, " ".join(str(state.statement).split())))

    event.listen(Session, "do_orm_execute", seen)
    try:
        assert client.get("/dashboard").status_code == 200
        assert client.get(f"/courses/{demo_course.slug}/lessons/{lesson.id}").status_code == 200
    finally:
        event.remove(Session, "do_orm_execute", seen)
    dashboard_places = [orm for orm, sql in kinds if "ORDER BY enrolment.last_activity_at DESC" in sql]
    standing = [orm for orm, sql in kinds if "UNION ALL" in sql]
    assert dashboard_places == [False]
    assert standing == [False, False]  # the dashboard's and the lesson page's
    # The lesson page's place, its run and its course's key: plain rows (the ORM place only to write).
    assert [orm for orm, sql in kinds if "course.slug = :slug" in sql] == [False]


def test_the_lesson_page_and_a_completion_use_the_same_place_of_two(
    login_as: Callable[[User], FlaskClient], make_user: Callable[..., User], demo_course: Course
) -> None:
    """A person certified in an earlier run and enrolled again (recertification): the lesson page's plain
    read and the completion's ORM read choose the same place, the newest."""
    user = make_user()
    client = login_as(user)
    enrol(client, demo_course)
    first = ordered_lessons(demo_course)[0]
    old = db.session.scalar(select(Enrolment).where(Enrolment.user_id == user.id))
    assert old is not None
    old.status, old.enrolled_at = EnrolmentStatus.COMPLETED, old.enrolled_at - timedelta(days=400)
    earlier = make_run(demo_course, EnrolmentMethod.OPEN, title="Last year's run")
    old.run_id = earlier.id
    db.session.add(LessonCompletion(enrolment_id=old.id, lesson_id=first.id))
    db.session.commit()
    enrol(client, demo_course)  # the default run again: a fresh place
    new = db.session.scalar(select(Enrolment).where(Enrolment.user_id == user.id, Enrolment.id != old.id))
    assert new is not None

    page = client.get(f"/courses/{demo_course.slug}/lessons/{first.id}").text
    assert "Mark as complete" in page and "0% complete" in page  # the new place's standing, not the old
    client.post(f"/courses/{demo_course.slug}/lessons/{first.id}/complete")
    assert (
        db.session.scalar(
            select(func.count(LessonCompletion.id)).where(LessonCompletion.enrolment_id == new.id)
        )
        == 1
    )
    assert (
        "You have completed this lesson."
        in client.get(f"/courses/{demo_course.slug}/lessons/{first.id}").text
    )
