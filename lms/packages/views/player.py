"""The package player (issue 25, docs/packages.md): the player page, the runtime data it sends, the
package's files behind a signed link, and the trainer's report of a run's package results.

- ``play``: the page (same origin as the academy) with the sandboxed frame; its script
  (lms/static/js/package-player.js) loads the frame, receives the package's commits by postMessage and
  sends them here with the CSRF token, queued and retried;
- ``commit``: one commit of the runtime data (JSON), recorded on the learner's attempt;
- ``package_file``: a file of a package version, for anyone holding a valid signed link, read without the
  session; HTML pages get the runtime injected (lms.packages.runtime.injection);
- ``run_report``: per package lesson and learner, status, score, attempts and interactions.
"""

from __future__ import annotations

import mimetypes
from pathlib import Path
from typing import Any
from urllib.parse import quote

from flask import Blueprint, abort, current_app, jsonify, render_template, request, url_for
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_login import current_user
from sqlalchemy import select
from werkzeug.security import safe_join
from werkzeug.wrappers import Response

from lms.auth.access import AUTHENTICATED, PUBLIC, allow
from lms.auth.models import Role, User
from lms.authoring.access import require_course_trainer
from lms.courses.models import Lesson
from lms.courses.published import published_course
from lms.enrolment import enrol_first
from lms.enrolment.models import ACTIVE_STATUSES, CourseRun, Enrolment
from lms.errors import ValidationFailed
from lms.extensions import csrf, db
from lms.packages.models import ItemKind, PackageVersion
from lms.packages.runtime import file_links, hosts, injection, queries, services
from lms.packages.services import version_folder
from lms.packages.views import offline

bp = Blueprint("package_player", __name__)

MAX_COMMIT_BYTES = 512 * 1024
RUNTIME_SCRIPTS = {
    "1.2": ("vendor/scorm-again/scorm12.min.js", "js/package-bridge.js"),
    "2004": ("vendor/scorm-again/scorm2004.min.js", "js/package-bridge.js"),
}


def _package_lesson(slug: str, lesson_id: int) -> tuple[int, Lesson]:
    course = published_course(slug) or abort(404)
    course.lesson(lesson_id) or abort(404)
    lesson = db.session.get(Lesson, lesson_id)
    if lesson is None or lesson.package_id is None:
        abort(404)
    return course.id, lesson


@bp.route("/courses/<slug>/lessons/<int:lesson_id>/play")
@allow(AUTHENTICATED)
def play(slug: str, lesson_id: int) -> str | Response:
    course_id, lesson = _package_lesson(slug, lesson_id)
    enrolment = enrol_first.enrolment_or_course_page(
        course_id, slug, _l("Enrol in this course to open its lessons.")
    )
    if isinstance(enrolment, Response):
        return enrolment
    launch = services.launch(enrolment.id, lesson, current_user.id, current_user.full_name)
    grant = file_links.FileGrant(launch.version.id, enrolment.id, lesson.id, current_user.id)
    token = file_links.grant_token(grant)
    host_launch = _host_launch(launch, token)
    return render_template(
        "packages/player.html",
        lesson=lesson,
        slug=slug,
        launch=launch,
        host_launch=host_launch,
        package_origin=hosts.package_origin(current_app.config) if host_launch else None,
        frame_src=offline.host_page_url()
        if host_launch
        else _file_url(token, quote(launch.item.href) + launch.item.parameters),
        commit_url=url_for("package_player.commit", slug=slug, lesson_id=lesson.id),
        course_url=url_for("courses.course", slug=slug),
    )


def _host_launch(launch: services.Launch, token: str) -> dict[str, Any] | None:
    """What the package host's page gets by postMessage, or None without a package host.

    With one (docs/packages-player.md "Offline") the frame opens the host's own page, which gets this
    launch by postMessage; the files are the same URLs on every opening, so they can be saved for
    offline use."""
    if hosts.package_host(current_app.config) is None:
        return None
    return {
        "version": launch.scorm_family,
        "attempt": launch.attempt_number,
        "cmi": launch.cmi,
        "asset": launch.item.kind == ItemKind.ASSET,
        "beacon": _file_base() + url_for("package_player.beacon", token=token),
        "href": offline.version_base(launch.version) + quote(launch.item.href) + launch.item.parameters,
    }


def _file_url(token: str, path: str) -> str:
    """The URL of a package file (``path`` already URL-encoded): on PACKAGE_FILES_BASE_URL when the academy
    serves packages from their own host name (docs/packages-player.md)."""
    return (
        _file_base() + url_for("package_player.package_file", token=token, path="x")[:-1] + path.lstrip("/")
    )


def _file_base() -> str:
    return str(current_app.config.get("PACKAGE_FILES_BASE_URL") or "").rstrip("/")


@bp.route("/courses/<slug>/lessons/<int:lesson_id>/package-data", methods=["POST"])
@allow(AUTHENTICATED)
def commit(slug: str, lesson_id: int) -> Response:
    course_id, lesson = _package_lesson(slug, lesson_id)
    enrolment = enrol_first.enrolment_or_403(course_id)
    attempt = services.record_commit(enrolment.id, lesson, _commit_from_request())
    return jsonify(
        attempt=attempt.number, completion=attempt.completion_status, success=attempt.success_status
    )


def _commit_from_request() -> services.Commit:
    if (request.content_length or 0) > MAX_COMMIT_BYTES:
        abort(413)
    try:  # force: the frame's beacon is text/plain (a CORS-safe type, so no preflight)
        body: Any = request.get_json(force=True, silent=True)
    except ValueError:
        body = None
    if not isinstance(body, dict):
        raise ValidationFailed(
            _("The package sent data that cannot be stored (%(element)s).", element="body")
        )
    number, sequence, key = body.get("attempt"), body.get("sequence"), body.get("session")
    if not (type(number) is int and 0 < number < 10_000 and type(sequence) is int and 0 < sequence < 2**31):
        raise ValidationFailed(
            _("The package sent data that cannot be stored (%(element)s).", element="attempt")
        )
    if not (isinstance(key, str) and 8 <= len(key) <= 64 and key.isascii()):
        raise ValidationFailed(
            _("The package sent data that cannot be stored (%(element)s).", element="session")
        )
    return services.Commit(number, key, sequence, body.get("terminate") is True, body.get("cmi"))


@bp.route("/package-beacon/<token>", methods=["POST"])
@allow(PUBLIC)  # the signed link is the permission (the opaque frame sends no cookie): csrf exempt below
def beacon(token: str) -> Response:
    """The final commit the package's own page sends (navigator.sendBeacon) when it terminates: the player
    page may be unloading already, so this one does not go through it. Same checks as ``commit``; a commit
    that also arrives through the player page is recognised by its session and sequence and applied once."""
    grant = file_links.read_token(token) or abort(400)  # 400 like a missing CSRF token: nothing to act on
    enrolment = db.session.get(Enrolment, grant.enrolment_id)
    lesson = db.session.get(Lesson, grant.lesson_id)
    if enrolment is None or lesson is None or enrolment.user_id != grant.user_id:
        abort(400)
    if enrolment.status not in ACTIVE_STATUSES or enrolment.run.course_id != lesson.course_id:
        abort(403)
    services.record_commit(enrolment.id, lesson, _commit_from_request())
    return Response(status=204)


csrf.exempt(beacon)


@bp.route("/package-files/<token>/<path:path>")
@allow(PUBLIC)  # the signed link is the permission: the sandboxed frame sends no session cookie
def package_file(token: str, path: str) -> Response:
    grant = file_links.read_token(token) or abort(404)
    version = db.session.get(PackageVersion, grant.version_id) or abort(404)
    folder = version_folder(version)
    found = safe_join(str(folder), path)
    if found is None or not Path(found).is_file():
        abort(404)
    kind = mimetypes.guess_type(found)[0] or "application/octet-stream"
    body = Path(found).read_bytes()
    if kind == "text/html":
        body = _with_runtime(body, token, grant)
    response = Response(body, mimetype=kind)
    _package_headers(response, kind == "text/html")
    return response


def _with_runtime(page: bytes, token: str, grant: file_links.FileGrant) -> bytes:
    lesson = db.session.get(Lesson, grant.lesson_id)
    learner = db.session.get(User, grant.user_id)
    enrolment = db.session.get(Enrolment, grant.enrolment_id)
    if lesson is None or learner is None or enrolment is None or enrolment.user_id != learner.id:
        abort(404)
    launch = services.launch(enrolment.id, lesson, learner.id, learner.full_name)
    data = {
        "version": launch.scorm_family,
        "attempt": launch.attempt_number,
        "cmi": launch.cmi,
        "asset": launch.item.kind == ItemKind.ASSET,  # no API calls: opening it completes it
        "beacon": url_for("package_player.beacon", token=token),
    }
    scripts = [url_for("static", filename=name) for name in RUNTIME_SCRIPTS[launch.scorm_family]]
    return injection.inject(page, injection.launch_block(data, scripts))


PACKAGE_POLICY = "; ".join(
    (
        # The sandbox: scripts run, but in an opaque origin (no cookie, no access to the academy's pages,
        # no top navigation); forms and pop-ups as packages use them for their own pages.
        "sandbox allow-scripts allow-forms allow-popups",
        "default-src 'self' data: blob:",
        "script-src 'self' 'unsafe-inline' 'unsafe-eval'",  # authoring tools write inline script and eval
        "style-src 'self' 'unsafe-inline'",
        "img-src 'self' data: blob:",
        "media-src 'self' data: blob:",
        "font-src 'self' data:",
        "connect-src 'self'",
        "object-src 'none'",
        "base-uri 'self'",
        "form-action 'self'",
        "frame-ancestors 'self'",
    )
)


def _package_headers(response: Response, is_page: bool) -> None:
    headers = response.headers
    headers["Content-Security-Policy"] = PACKAGE_POLICY
    headers["X-Frame-Options"] = "SAMEORIGIN"
    # cross-origin: the frame's own origin is opaque, so "same-site" would block the package's scripts, styles
    # and media; the signed link is what guards the files.
    headers["Cross-Origin-Resource-Policy"] = "cross-origin"
    # The package's own scripts fetch its files from an opaque origin: allowed, without credentials.
    headers["Access-Control-Allow-Origin"] = "*"
    headers["Referrer-Policy"] = "no-referrer"  # the link's token stays out of anything the package calls
    headers["Cache-Control"] = "no-store" if is_page else "private, max-age=3600"


@bp.route("/reports/runs/<int:run_id>/packages")
@allow(Role.TRAINER, Role.ADMIN)
def run_report(run_id: int) -> str:
    run = db.session.get(CourseRun, run_id) or abort(404)
    require_course_trainer(run.course_id)
    rows = db.session.execute(
        select(Enrolment.id, User).join(User, User.id == Enrolment.user_id).where(Enrolment.run_id == run.id)
    ).all()
    learners = {enrolment_id: user.full_name for enrolment_id, user in rows}
    report = queries.package_report(run.course_id, learners)
    return render_template("packages/player_report.html", run=run, report=report)
