from __future__ import annotations

from flask import Blueprint, abort, flash, redirect, request, url_for
from flask_babel import gettext as _
from flask_login import current_user
from flask_wtf import FlaskForm
from werkzeug.wrappers import Response

from lms.auth.access import AUTHENTICATED, allow
from lms.enrolment import services
from lms.enrolment.models import CourseRun
from lms.errors import LmsError
from lms.extensions import db

bp = Blueprint("enrolment", __name__)


@bp.route("/runs/<int:run_id>/enrol", methods=["POST"])
@allow(AUTHENTICATED)
def enrol(run_id: int) -> Response:
    if not FlaskForm().validate_on_submit():
        abort(400)
    run = db.session.get(CourseRun, run_id) or abort(404)
    try:
        enrolment = services.self_enrol(current_user, run, language=request.form.get("language"))
    except LmsError as error:
        db.session.rollback()
        flash(error.message, "error")
        return redirect(url_for("courses.course", slug=run.course.slug))
    db.session.commit()
    flash(_("You are enrolled. Start with the first lesson."), "success")
    progress = services.enrolment_progress(enrolment, run.course_id)
    if progress.next_lesson_id is not None:
        return redirect(url_for("courses.lesson", slug=run.course.slug, lesson_id=progress.next_lesson_id))
    return redirect(url_for("courses.course", slug=run.course.slug))
