"""Enrolment pages under the unit of work (issue 19 item 1): refusals answer as before (the same page,
status and message) and leave nothing written."""

from __future__ import annotations

from collections.abc import Callable

import pytest
from flask import Flask
from sqlalchemy import select

from lms.auth.models import Role, User
from lms.courses.models import Course
from lms.enrolment.models import CourseRun, Enrolment, EnrolmentMethod, EnrolmentStatus, Modality
from lms.extensions import db
from lms.orgs.models import Authority
from tests.enrolment_support import UserClient, make_course, make_run


@pytest.fixture
def course(app: Flask) -> Course:
    return make_course()


@pytest.fixture
def ua(make_authority: Callable[..., Authority]) -> Authority:
    return make_authority("UA", code="ua-sbgs", name="State Border Guard Service of Ukraine")


def _status(enrolment_id: int) -> str:
    db.session.rollback()
    enrolment = db.session.get(Enrolment, enrolment_id)
    assert enrolment is not None
    return enrolment.status


def _enrolment_of(user: User) -> int:
    db.session.rollback()
    enrolment_id = db.session.scalar(select(Enrolment.id).where(Enrolment.user_id == user.id))
    assert enrolment_id is not None
    return enrolment_id


def test_withdrawing_someone_elses_place_is_refused_not_redirected(
    app: Flask, course: Course, make_user: Callable[..., User]
) -> None:
    run_id = make_run(course, EnrolmentMethod.OPEN).id
    owner, other = make_user(), make_user()
    UserClient(app, owner).post(f"/runs/{run_id}/enrol")
    enrolment_id = _enrolment_of(owner)
    response = UserClient(app, other).post(f"/enrolments/{enrolment_id}/withdraw", data={"reason": "x"})
    assert response.status_code == 403
    assert _status(enrolment_id) == EnrolmentStatus.ENROLLED


def test_withdrawing_twice_goes_back_to_the_run_with_the_refusal(
    app: Flask, course: Course, make_user: Callable[..., User]
) -> None:
    run_id = make_run(course, EnrolmentMethod.OPEN).id
    trainee = make_user()
    client = UserClient(app, trainee)
    client.post(f"/runs/{run_id}/enrol")
    enrolment_id = _enrolment_of(trainee)
    assert client.post(f"/enrolments/{enrolment_id}/withdraw", data={"reason": "Posted"}).status_code == 302
    again = client.post(f"/enrolments/{enrolment_id}/withdraw", data={"reason": "Again"})
    assert again.status_code == 302 and again.headers["Location"].endswith(f"/runs/{run_id}")
    assert "This enrolment cannot be withdrawn." in client.get(again.headers["Location"]).get_data(
        as_text=True
    )
    assert _status(enrolment_id) == EnrolmentStatus.WITHDRAWN


def test_a_refused_nomination_shows_the_page_again_with_its_status_and_message(
    app: Flask, course: Course, ua: Authority, make_user: Callable[..., User]
) -> None:
    run_id = make_run(course, EnrolmentMethod.NOMINATION).id
    focal = make_user(Role.FOCAL_POINT, authority=ua)
    colleague = make_user(authority=ua)
    client = UserClient(app, focal)
    data = {"existing-user_ids": [colleague.id], "existing-justification": "Front line"}
    assert client.post(f"/authority/runs/{run_id}/nominate", data=data).status_code == 302
    again = client.post(f"/authority/runs/{run_id}/nominate", data=data)
    assert again.status_code == 409
    page = again.get_data(as_text=True)
    assert "Front line" in page  # what was typed is still there
    db.session.rollback()
    count = db.session.scalars(select(Enrolment).where(Enrolment.user_id == colleague.id)).all()
    assert len(count) == 1


def test_a_refused_run_form_keeps_what_was_typed_with_the_error_status_and_saves_nothing(
    app: Flask, course: Course, make_user: Callable[..., User]
) -> None:
    """save_run writes the run, then the issuance rule is refused: the whole change is rolled back."""
    client = UserClient(app, make_user(Role.ADMIN))
    data = {
        "course": course.id,
        "title": "Spring run",
        "modality": Modality.SELF_PACED.value,
        "language": "en",
        "enrolment_method": EnrolmentMethod.OPEN,
        "open_to_all": "y",
        "certificate_issuance": "nonsense",  # the form lets it through; the service refuses it
    }
    response = client.post("/admin/course-runs/new", data=data)
    assert response.status_code == 422
    page = response.get_data(as_text=True)
    assert "Choose how certificates are issued" in page and "Spring run" in page
    db.session.rollback()
    assert db.session.scalar(select(CourseRun).where(CourseRun.title == "Spring run")) is None
