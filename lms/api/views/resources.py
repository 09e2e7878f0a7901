"""The catalogue (courses, runs) and the people of one's own authority."""

from __future__ import annotations

from typing import Any

from flask import Response, request
from sqlalchemy import Select

from lms.api import queries, representations, schemas
from lms.api.bearer import current_caller, token_required
from lms.api.spec import api_spec
from lms.api.views.base import answers, bp
from lms.auth.models import User
from lms.courses.models import Course
from lms.enrolment.models import CourseRun


def _page_of(page: queries.Page, page_model: type, convert: object) -> Response:
    items = [convert(row) for row in page.items]  # type: ignore[operator]
    return representations.json_response(page_model(items=items, next_cursor=page.next_cursor))


def _changed_page(rows: Select[Any], row_class: Any, page_model: type, convert: object) -> Response:
    """A page of a list whose rows carry `id` and `updated_at`: `updated_since` keeps those changed since."""
    query: schemas.ListQuery = request.context.query  # type: ignore[attr-defined]
    if query.updated_since is not None:
        rows = rows.where(row_class.updated_at >= query.updated_since)
    return _page_of(queries.page_of(rows, row_class.id, query.cursor, query.limit), page_model, convert)


@bp.get("/courses")
@token_required("catalogue:read")
@api_spec.validate(query=schemas.ListQuery, resp=answers(HTTP_200=schemas.CoursePage), tags=["catalogue"])
def list_courses() -> Response:
    """The published courses; `updated_since` gives those changed since a time."""
    return _changed_page(queries.published_courses(), Course, schemas.CoursePage, representations.course)


@bp.get("/courses/<int:course_id>")
@token_required("catalogue:read")
@api_spec.validate(resp=answers("HTTP_404", HTTP_200=schemas.Course, HTTP_304=None), tags=["catalogue"])
def get_course(course_id: int) -> Response:
    """One published course, with its ETag."""
    row = queries.one(queries.published_courses(), Course.id, course_id)
    return representations.tagged(representations.course(row))


@bp.get("/runs")
@token_required("catalogue:read")
@api_spec.validate(query=schemas.ListQuery, resp=answers(HTTP_200=schemas.RunPage), tags=["catalogue"])
def list_runs() -> Response:
    """The runs of the published courses, with their seats and dates; `updated_since`: those changed since."""
    return _changed_page(queries.catalogue_runs(), CourseRun, schemas.RunPage, representations.run)


@bp.get("/runs/<int:run_id>")
@token_required("catalogue:read")
@api_spec.validate(resp=answers("HTTP_404", HTTP_200=schemas.Run, HTTP_304=None), tags=["catalogue"])
def get_run(run_id: int) -> Response:
    """One run, with its seats and dates and its ETag."""
    row = queries.one(queries.catalogue_runs(), CourseRun.id, run_id)
    return representations.tagged(representations.run(row))


@bp.get("/people")
@token_required("people:read")
@api_spec.validate(query=schemas.ListQuery, resp=answers(HTTP_200=schemas.PersonPage), tags=["people"])
def list_people() -> Response:
    """The staff of the caller's authority (an admin: everyone); `updated_since`: those changed since
    (name, email, authority, position, active...; not a sign-in)."""
    return _changed_page(queries.people(current_caller()), User, schemas.PersonPage, representations.person)


@bp.get("/people/<int:person_id>")
@token_required("people:read")
@api_spec.validate(resp=answers("HTTP_404", HTTP_200=schemas.Person, HTTP_304=None), tags=["people"])
def get_person(person_id: int) -> Response:
    """One member of the caller's authority's staff; anyone else is 404."""
    row = queries.one(queries.people(current_caller()), User.id, person_id)
    return representations.tagged(representations.person(row))
