"""The course outline's lesson list is rendered once per published version and filled per person
(lms/courses/outline_html.py, issue 22): what one person has done never shows on another's page."""

from __future__ import annotations

import re
from collections.abc import Callable

from flask import Flask
from flask.testing import FlaskClient
from markupsafe import Markup
from sqlalchemy import update

from lms.auth.models import User
from lms.courses.models import Course, Lesson
from lms.courses.outline_html import fill
from lms.courses.published import published_course
from lms.extensions import db
from tests.conftest import login
from tests.test_learning import enrol, ordered_lessons


def signed_in(app: Flask, user: User) -> FlaskClient:
    """A browser of its own (two people side by side)."""
    client = app.test_client()
    login(client, user)
    return client


def trainee_who_completed(
    app: Flask, make_user: Callable[..., User], course: Course, lessons: list[Lesson], language: str = "en"
) -> FlaskClient:
    """A trainee of their own browser, enrolled, with these lessons completed (interface in ``language``)."""
    client = signed_in(app, make_user())
    enrol(client, course)
    if language != "en":
        client.post("/language", data={"language": language, "next": "/"})
    for lesson in lessons:
        client.post(f"/courses/{course.slug}/lessons/{lesson.id}/complete")
    return client


def outline_of(page: str) -> str:
    match = re.search(r'<nav class="outline".*?</nav>', page, re.S)
    assert match is not None
    return match.group(0)


def entry(outline: str, lesson_id: int) -> str:
    """The outline's <li> of this lesson."""
    match = re.search(
        rf'<li class="[^"]*" dir="auto">\s*<a (aria-current="page" )?href="[^"]*/lessons/{lesson_id}".*?</li>',  # noqa: E501
        outline,
        re.S,
    )
    assert match is not None, lesson_id
    return match.group(0)


def test_fill_puts_each_persons_state_into_the_slots() -> None:
    skeleton = Markup(
        '<li class="<outline-class-1>"><outline-current-1><a href="/l/1">One</a><outline-done-1></li>'
        '<li class="<outline-class-2>"><outline-current-2><a href="/l/2">Two</a><outline-done-2></li>'
    )
    badge = Markup('<span class="badge badge-done">Done</span>')
    assert (
        fill(skeleton, set(), None, badge)
        == '<li class=""><a href="/l/1">One</a></li><li class=""><a href="/l/2">Two</a></li>'
    )
    assert fill(skeleton, {1}, 1, badge) == (
        '<li class="done current"><a aria-current="page" href="/l/1">One</a>'
        '<span class="badge badge-done">Done</span></li><li class=""><a href="/l/2">Two</a></li>'
    )
    assert fill(skeleton, {1}, 2, badge).startswith('<li class="done"><a href="/l/1">One</a><span')
    assert '<li class="current"><a aria-current="page" href="/l/2">Two</a></li>' in fill(
        skeleton, {1}, 2, badge
    )
    assert "outline-" not in fill(skeleton, {1, 2}, 2, badge)


def test_two_trainees_see_their_own_progress_in_the_same_outline(
    app: Flask, make_user: Callable[..., User], demo_course: Course
) -> None:
    lessons = ordered_lessons(demo_course)
    first = trainee_who_completed(app, make_user, demo_course, lessons[:2])
    mine = outline_of(first.get(f"/courses/{demo_course.slug}/lessons/{lessons[2].id}").text)
    assert "outline-" not in mine  # every slot filled
    assert mine.count('<span class="badge badge-done">Done</span>') == 2
    assert entry(mine, lessons[0].id).startswith('<li class="done" dir="auto">')
    assert '<span class="badge badge-done">Done</span>' in entry(mine, lessons[1].id)
    current = entry(mine, lessons[2].id)
    assert current.startswith('<li class="current" dir="auto">') and 'aria-current="page"' in current
    assert mine.count('aria-current="page"') == 1

    # The same skeleton, another person: nothing done, another lesson open.
    second = trainee_who_completed(app, make_user, demo_course, [])
    theirs = outline_of(second.get(f"/courses/{demo_course.slug}/lessons/{lessons[0].id}").text)
    assert "badge-done" not in theirs and 'class="done' not in theirs
    assert 'aria-current="page"' in entry(theirs, lessons[0].id)
    assert 'aria-current="page"' not in entry(theirs, lessons[2].id)

    # The course page: no lesson open, the same person's progress.
    course_page = outline_of(first.get(f"/courses/{demo_course.slug}").text)
    assert "aria-current" not in course_page and course_page.count("badge-done") == 2
    # Three pages, two people: the list was rendered once, for this version of the course.
    snapshot = published_course(demo_course.slug)
    assert snapshot is not None
    assert [key[0] for key in snapshot.derived if key[0] == "outline"] == ["outline"]


def test_the_outline_speaks_the_page_language_around_titles_in_the_study_language(
    app: Flask, make_user: Callable[..., User], demo_course: Course
) -> None:
    lessons = ordered_lessons(demo_course)
    english = trainee_who_completed(app, make_user, demo_course, lessons[:1])
    assert "Done</span>" in outline_of(
        english.get(f"/courses/{demo_course.slug}/lessons/{lessons[1].id}").text
    )

    # Another person studies in English with a Russian interface: the same titles, the words in Russian.
    russian = trainee_who_completed(app, make_user, demo_course, lessons[:1], language="ru")
    outline = outline_of(russian.get(f"/courses/{demo_course.slug}/lessons/{lessons[1].id}").text)
    assert "Готово</span>" in outline and "Done</span>" not in outline
    assert lessons[1].title.replace("'", "&#39;") in outline
    assert "Done</span>" in outline_of(
        english.get(f"/courses/{demo_course.slug}/lessons/{lessons[1].id}").text
    )


def test_a_visitor_sees_names_and_an_enrolled_trainee_links(
    client: FlaskClient,
    login_as: Callable[[User], FlaskClient],
    make_user: Callable[..., User],
    demo_course: Course,
) -> None:
    lessons = ordered_lessons(demo_course)
    visitor = outline_of(client.get(f"/courses/{demo_course.slug}").text)
    assert f"/lessons/{lessons[0].id}" not in visitor and "<span lang=" in visitor
    trainee = login_as(make_user())
    enrol(trainee, demo_course)
    assert f'/lessons/{lessons[0].id}"' in outline_of(trainee.get(f"/courses/{demo_course.slug}").text)


def test_a_title_that_looks_like_a_slot_is_text(
    login_as: Callable[[User], FlaskClient], make_user: Callable[..., User], demo_course: Course
) -> None:
    lessons = ordered_lessons(demo_course)
    forged = f"Checks <outline-done-{lessons[0].id}> at the border"
    # A trainer's title, published: the course row changes with it, so the next page builds a new snapshot.
    db.session.execute(update(Lesson).where(Lesson.id == lessons[0].id).values(title=forged))
    db.session.execute(update(Course).where(Course.id == demo_course.id).values(content_hash="edited"))
    db.session.commit()
    trainee = login_as(make_user())
    enrol(trainee, demo_course)
    outline = outline_of(trainee.get(f"/courses/{demo_course.slug}/lessons/{lessons[1].id}").text)
    assert f"Checks &lt;outline-done-{lessons[0].id}&gt; at the border" in outline
    assert "badge-done" not in outline


def test_each_mount_point_keeps_its_own_links(
    app: Flask, make_user: Callable[..., User], demo_course: Course
) -> None:
    """The same code served under a prefix: the list rendered for "/" is not handed to "/academy/"."""
    lessons = ordered_lessons(demo_course)
    trainee = trainee_who_completed(app, make_user, demo_course, [])
    path = f"/courses/{demo_course.slug}/lessons/{lessons[1].id}"
    plain = outline_of(trainee.get(path).text)
    mounted = outline_of(trainee.get(path, base_url="http://localhost/academy/").text)
    assert f'href="/courses/{demo_course.slug}/lessons/{lessons[0].id}"' in plain
    assert f'href="/academy/courses/{demo_course.slug}/lessons/{lessons[0].id}"' in mounted
    assert 'href="/courses/' not in mounted
