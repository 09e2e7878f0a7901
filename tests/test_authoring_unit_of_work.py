"""The authoring views under the request's unit of work (issue 19 item 1): pages that only show a draft
write nothing, a draft is stored by its first edit, refusals roll back and are answered as before."""

from __future__ import annotations

import io
from collections.abc import Callable

import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import func, select

from lms.auth.models import Role, User
from lms.authoring import drafts, outline
from lms.authoring.models import CourseAsset, CourseDraft
from lms.courses.models import Course
from lms.errors import Conflict
from lms.extensions import db
from lms.orgs.models import Country
from lms.unit_of_work import refusal_kept
from tests.authoring_support import build_course, png_bytes
from tests.conftest import login


@pytest.fixture
def trainer(app: Flask, make_user: Callable[..., User]) -> User:
    return make_user(Role.TRAINER)


@pytest.fixture
def published(trainer: User) -> Course:
    """A published course without a stored draft, as `content sync` leaves one."""
    course = build_course(trainer)
    drafts.publish(trainer, course, drafts.get_draft(course).revision, "v1")
    db.session.delete(drafts.get_draft(course))
    db.session.commit()
    return course


def _stored_drafts() -> int:
    """Committed rows only: a connection of its own, not the session the test client shares."""
    with db.engine.connect() as connection:
        return connection.scalar(select(func.count()).select_from(CourseDraft.__table__)) or 0


def test_pages_that_show_a_draft_write_nothing_and_the_first_edit_stores_it(
    client: FlaskClient, trainer: User, published: Course
) -> None:
    login(client, trainer)
    url = f"/authoring/courses/{published.id}"
    pages = [
        url,
        f"{url}/metadata",
        f"{url}/lessons/welcome",
        f"{url}/quizzes/check",
        f"{url}/quiz/check/questions/new",
        f"{url}/modules/first-steps/delete",
        f"{url}/preview",
        f"{url}/preview/lessons/welcome",
        f"{url}/quizzes/check/preview",
        f"{url}/export.zip?draft=1",
    ]
    for page in pages:
        assert client.get(page).status_code == 200, page
        assert _stored_drafts() == 0, page
    assert 'name="revision" type="hidden" value="1"' in client.get(f"{url}/metadata").get_data(as_text=True)

    response = client.post(f"{url}/modules/first-steps/rename", data={"revision": "1", "title": "Start"})
    assert response.status_code == 302
    assert _stored_drafts() == 1
    db.session.expire_all()
    draft = drafts.read_draft(published)
    assert draft.revision == 2 and outline.find_module(draft.document, "first-steps")["title"] == "Start"


def test_a_stale_button_flashes_what_changed_and_saves_nothing(
    client: FlaskClient, trainer: User, make_user: Callable[..., User]
) -> None:
    course = build_course(trainer)
    opened_at = drafts.get_draft(course).revision
    colleague = make_user(Role.ADMIN, given_name="Ana", family_name="Colleague")
    drafts.edit_draft(colleague, course, opened_at, "module 'first-steps' renamed", lambda d: None)
    db.session.commit()
    login(client, trainer)
    response = client.post(
        f"/authoring/courses/{course.id}/modules/first-steps/rename",
        data={"revision": str(opened_at), "title": "Lost"},
    )
    assert response.status_code == 302
    with client.session_transaction() as session:
        flashes = session["_flashes"]
    assert any(kind == "error" and "Someone changed this course" in text for kind, text in flashes)
    assert ("info", "Changed meanwhile: Ana Colleague: module 'first-steps' renamed") in flashes
    db.session.expire_all()
    assert outline.find_module(drafts.read_draft(course).document, "first-steps")["title"] == "First steps"


def test_an_upload_to_another_trainers_course_is_forbidden_not_sent_back(
    client: FlaskClient, trainer: User, make_user: Callable[..., User]
) -> None:
    course = build_course(trainer)
    login(client, make_user(Role.TRAINER))
    response = client.post(
        f"/authoring/courses/{course.id}/assets",
        data={"file": (io.BytesIO(png_bytes()), "map.png"), "back": f"/authoring/courses/{course.id}"},
        content_type="multipart/form-data",
    )
    assert response.status_code == 403
    assert db.session.scalar(select(func.count()).select_from(CourseAsset)) == 0


def test_refusal_kept_rolls_back_and_keeps_the_error(app: Flask) -> None:
    with app.test_request_context("/", method="POST"), refusal_kept() as refused:
        db.session.add(Country(code="XK", name="Land XK"))
        db.session.flush()
        raise Conflict("Taken already.")
    assert isinstance(refused.error, Conflict) and refused.error.message == "Taken already."
    assert db.session.scalar(select(Country.code).where(Country.code == "XK")) is None
    with app.test_request_context("/", method="POST"), refusal_kept() as refused:
        pass
    assert refused.error is None
