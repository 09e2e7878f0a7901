"""The "enrol first" guard of the learner's pages (a lesson, a quiz): the signed-in trainee's active place in
the course, or the answer for someone without one. For views only: it flashes and redirects."""

from __future__ import annotations

from flask import abort, flash, redirect, url_for
from flask_babel import LazyString
from flask_login import current_user
from werkzeug.wrappers import Response

from lms.courses.published import PublishedCourse, published_course, snapshot_of
from lms.enrolment.models import Enrolment
from lms.enrolment.queries import StudyPlace, study_place_by_course_slug
from lms.enrolment.self_service import active_enrolment


def published_course_and_place(slug: str) -> tuple[PublishedCourse, StudyPlace | None]:
    """The published course with this slug (404 when there is none) and the signed-in person's active
    place in it as plain rows, or None. One statement for someone who holds a place (every lesson page a
    trainee reads); the visitor without one pays a second. A page that writes to the place loads it with
    ``enrolment_or_403``."""
    found = study_place_by_course_slug(current_user.id, slug)
    if found is not None:
        return snapshot_of(found.course), found
    return published_course(slug) or abort(404), None


def course_page(slug: str, message: LazyString) -> Response:
    """Back to the course page, where one enrols, with ``message`` (lazy: translated only when shown)."""
    flash(str(message), "info")
    return redirect(url_for("courses.course", slug=slug))


def enrolment_or_course_page(course_id: int, slug: str, message: LazyString) -> Enrolment | Response:
    """For a page: the active enrolment, or back to the course page (where one enrols) with ``message``,
    a lazy string: translated only for the visitor it is shown to, not on each page of the enrolled
    (a catalogue lookup was ~2.5% of a lesson page, issue 22)."""
    enrolment = active_enrolment(current_user.id, course_id)
    return course_page(slug, message) if enrolment is None else enrolment


def enrolment_or_403(course_id: int) -> Enrolment:
    """For a form posted without a place (the page offered no such form): 403."""
    return active_enrolment(current_user.id, course_id) or abort(403)
