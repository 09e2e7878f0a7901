"""The authoring overview: the courses a person may edit, a new course, a zip import, and (admins)
which trainer edits which course."""

from __future__ import annotations

from flask import abort, flash, redirect, render_template, url_for
from flask.typing import ResponseReturnValue
from flask_babel import gettext as _
from flask_login import current_user
from werkzeug.wrappers import Response
from wtforms import SelectChoice

from lms.auth.access import allow
from lms.auth.models import Role, User
from lms.authoring import course_folders, drafts, trainers
from lms.authoring.forms import AssignForm, ImportForm, NewCourseForm, UnassignForm
from lms.authoring.views.base import EDITORS, bp, editor_url
from lms.courses.models import Course
from lms.extensions import db
from lms.request_input import database_id
from lms.unit_of_work import on_refusal, refusal_kept


@bp.route("/")
@allow(*EDITORS)
def index() -> str:
    return render_template(
        "authoring/index.html",
        courses=trainers.editable_courses(current_user),
        trainers=trainers.trainers_by_course(),
        new_form=NewCourseForm(),
        import_form=ImportForm(),
    )


@bp.route("/courses/new", methods=["POST"])
@allow(*EDITORS)
@on_refusal(lambda: url_for("authoring.index"))
def new_course() -> Response:
    form = NewCourseForm()
    if not form.validate_on_submit():
        for name, errors in form.errors.items():
            for message in errors:
                flash(f"{form[name].label.text}: {message}", "error")
        return redirect(url_for("authoring.index"))
    course = drafts.create_course(current_user, form.slug.data, form.title.data.strip(), form.language.data)
    flash(_("Course created as a draft. Add a module and a lesson, then publish it."), "success")
    return redirect(editor_url(course))


@bp.route("/import", methods=["POST"])
@allow(*EDITORS)
def import_zip() -> ResponseReturnValue:
    form = ImportForm()
    if not form.validate_on_submit():
        flash(_("Choose a zip file."), "error")
        return redirect(url_for("authoring.index"))
    with refusal_kept() as refused:
        course = course_folders.import_zip(current_user, form.archive.data.read())
    if isinstance(refused.error, drafts.PublishRefused):
        page = render_template(
            "authoring/problems.html", message=refused.error.message, problems=refused.error.problems
        )
        return page, 422
    if refused.error is not None:
        flash(refused.error.message, "error")
        return redirect(url_for("authoring.index"))
    flash(_("The zip was imported into the draft. Review it, then publish."), "success")
    return redirect(editor_url(course))


@bp.route("/assignments", methods=["GET", "POST"])
@allow(Role.ADMIN)
@on_refusal(lambda: url_for("authoring.assignments"))
def assignments() -> str | Response:
    form = AssignForm()
    courses = db.session.scalars(db.select(Course).order_by(Course.title)).all()
    form.course.choices = [SelectChoice(c.id, c.title) for c in courses]
    form.trainer.choices = [
        SelectChoice(u.id, f"{u.full_name} <{u.email}>") for u in trainers.trainer_candidates()
    ]
    if form.validate_on_submit():
        course = db.session.get(Course, form.course.data) or abort(404)
        trainer = db.session.get(User, form.trainer.data) or abort(404)
        trainers.assign_trainer(current_user, course, trainer)
        flash(_("%(name)s may now edit %(course)s.", name=trainer.full_name, course=course.title), "success")
        return redirect(url_for("authoring.assignments"))
    return render_template(
        "authoring/assignments.html",
        form=form,
        courses=courses,
        trainers=trainers.trainers_by_course(),
        remove_form=UnassignForm(),
    )


@bp.route("/assignments/remove", methods=["POST"])
@allow(Role.ADMIN)
@on_refusal(lambda: url_for("authoring.assignments"))
def unassign() -> Response:
    form = UnassignForm()
    course_id, trainer_id = database_id(form.course.data), database_id(form.trainer.data)
    if not form.validate_on_submit() or course_id is None or trainer_id is None:
        abort(400)
    course = db.session.get(Course, course_id) or abort(404)
    trainer = db.session.get(User, trainer_id) or abort(404)
    trainers.unassign_trainer(current_user, course, trainer)
    flash(_("%(name)s no longer edits %(course)s.", name=trainer.full_name, course=course.title), "success")
    return redirect(url_for("authoring.assignments"))
