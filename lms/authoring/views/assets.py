"""A course's uploaded files (images and PDFs that lessons show): uploading and deleting them in the
editor, and serving them to the people who may see the course (files_bp, outside /authoring)."""

from __future__ import annotations

import io

from flask import abort, flash, redirect, request, send_file, url_for
from flask_babel import gettext as _
from flask_login import current_user
from werkzeug.wrappers import Response

from lms.auth.access import AUTHENTICATED, allow
from lms.authoring import assets
from lms.authoring.forms import ActionForm, UploadForm
from lms.authoring.views.base import EDITORS, bp, editable, editor_url, files_bp
from lms.unit_of_work import on_refusal


def _back_from_upload(course_id: int) -> str:
    """The authoring page the upload form was on (the editor's or a lesson's), else the editor's files."""
    back = UploadForm().back.data or ""
    if back.startswith("/authoring/"):
        return back
    return url_for("authoring.course", course_id=course_id) + "#files"


@bp.route("/courses/<int:course_id>/assets", methods=["POST"])
@allow(*EDITORS)
@on_refusal(_back_from_upload)
def upload_asset(course_id: int) -> Response:
    course = editable(course_id)
    form = UploadForm()
    if not form.validate_on_submit():
        flash(_("Choose a file to upload."), "error")
        return redirect(_back_from_upload(course.id))
    upload = form.file.data
    asset = assets.store_asset(current_user, course, upload.filename or "file", upload.read())
    address = url_for("authoring_files.asset", slug=course.slug, name=asset.name)
    flash(_("Uploaded. Use it in a lesson as ![description](%(address)s)", address=address), "success")
    return redirect(_back_from_upload(course.id))


@bp.route("/courses/<int:course_id>/assets/<name>/delete", methods=["POST"])
@allow(*EDITORS)
def delete_asset(course_id: int, name: str) -> Response:
    course = editable(course_id)
    if not ActionForm().validate_on_submit():
        abort(400)
    assets.delete_asset(course, name)
    flash(_("File deleted."), "success")
    return redirect(editor_url(course, "files"))


@files_bp.route("/courses/<slug>/files/<name>")
@allow(AUTHENTICATED)
def asset(slug: str, name: str) -> Response:
    """Uploaded images and PDFs: only for people who may see the course (never a static folder)."""
    found, path = assets.viewable_asset(current_user, slug, name)
    # Read whole (at most a few MB): no file handle outlives the request.
    response = send_file(
        io.BytesIO(path.read_bytes()),
        mimetype=found.content_type,
        download_name=found.name,
        as_attachment=request.args.get("download") == "1",
    )
    response.headers["X-Content-Type-Options"] = "nosniff"
    response.headers["Content-Security-Policy"] = "default-src 'none'; sandbox"
    response.headers["Cache-Control"] = "private, max-age=300"
    return response
