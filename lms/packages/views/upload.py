"""A module's SCORM packages in the authoring pages (trainers of the course and admins): the list with
versions and items, uploading a zip as a new package, and a new version of a package. A refused zip is
flashed with its message and nothing is stored (lms.packages.services)."""

from __future__ import annotations

from pathlib import Path

from flask import abort, flash, redirect, render_template, url_for
from flask_babel import gettext as _
from flask_login import current_user
from werkzeug.wrappers import Response

from lms.auth.access import allow
from lms.auth.models import Role
from lms.authoring.access import require_course_trainer
from lms.courses.models import Course, Module
from lms.errors import ValidationFailed
from lms.extensions import db
from lms.packages import queries, services
from lms.packages.forms import PackageUploadForm
from lms.packages.models import Package
from lms.packages.views.base import bp
from lms.unit_of_work import on_refusal

EDITORS = (Role.TRAINER, Role.ADMIN)


def _module(course_id: int, slug: str) -> tuple[Course, Module]:
    course = db.session.get(Course, course_id) or abort(404)
    require_course_trainer(course.id)
    module = queries.module_by_slug(course.id, slug) or abort(
        404, _("Publish the module first: packages are added to a published module.")
    )
    return course, module


def _module_page(course_id: int, slug: str) -> str:
    return url_for("packages.module_packages", course_id=course_id, slug=slug)


def _package_page(course_id: int, package_id: int) -> str:
    package = db.session.get(Package, package_id)
    if package is None or package.course_id != course_id:
        return url_for("authoring.course", course_id=course_id)
    module = db.session.get(Module, package.module_id)
    return _module_page(course_id, module.slug if module else "")


@bp.route("/courses/<int:course_id>/modules/<slug>/packages")
@allow(*EDITORS)
def module_packages(course_id: int, slug: str) -> str:
    course, module = _module(course_id, slug)
    return render_template(
        "packages/module.html",
        course=course,
        module=module,
        packages=queries.module_packages(module.id),
        form=PackageUploadForm(),
    )


def _import_upload(form: PackageUploadForm, module: Module, package: Package | None) -> services.ImportResult:
    if not form.validate_on_submit():
        raise ValidationFailed(_("Choose a zip file to upload."))
    path: Path = services.save_upload(form.file.data.stream, services.limits_from_app())
    try:
        return services.import_package(module, path, actor=current_user, package=package)
    finally:
        path.unlink(missing_ok=True)


@bp.route("/courses/<int:course_id>/modules/<slug>/packages/upload", methods=["POST"])
@allow(*EDITORS)
@on_refusal(_module_page)
def upload_package(course_id: int, slug: str) -> Response:
    _course, module = _module(course_id, slug)
    result = _import_upload(PackageUploadForm(), module, None)
    flash(
        _(
            "Package '%(name)s' added: %(count)s lessons.",
            name=result.package.name,
            count=len(result.version.items),
        ),
        "success",
    )
    return redirect(_module_page(course_id, slug))


@bp.route("/courses/<int:course_id>/packages/<int:package_id>/versions", methods=["POST"])
@allow(*EDITORS)
@on_refusal(_package_page)
def upload_version(course_id: int, package_id: int) -> Response:
    package = db.session.get(Package, package_id)
    if package is None or package.course_id != course_id:
        abort(404)
    require_course_trainer(package.course_id)
    module = db.session.get(Module, package.module_id) or abort(404)
    result = _import_upload(PackageUploadForm(), module, package)
    if result.outcome == "unchanged":
        flash(_("This zip is already the package's current version: nothing changed."), "info")
    else:
        flash(
            _("Version %(number)s of '%(name)s' stored.", number=result.version.number, name=package.name),
            "success",
        )
    return redirect(_module_page(course_id, module.slug))
