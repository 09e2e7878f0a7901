"""Packages on their own host name, and saving them for offline use (issue 25, docs/packages-player.md
"Offline"). Only when ``PACKAGE_FILES_BASE_URL`` names a package host (lms.packages.runtime.hosts):

- ``host_page``: the package host's own page (``/package-host``), loaded in the player's frame and in a
  hidden frame of the course page; its script (lms/static/js/package-host.js) takes the launch data from
  the player page by postMessage (origin checked) before it opens the package, and saves a version's
  files in the package host's cache when the learner saves the course for offline reading;
- ``service_worker``: that host's worker (``/package-sw.js``, lms/static/js/package-sw.js), which answers
  from the cache when there is no connection;
- ``version_file``: a file of a package version under a fixed per-version path (the same URL on every
  opening, so it can be cached), served with a sandbox that keeps the package host's origin;
- ``offline_files``: on the academy, for an enrolled learner, the list of URLs to save for a package
  lesson, or why it cannot be saved (no package host, larger than PACKAGE_OFFLINE_MAX_BYTES).

lms.packages.setup keeps the two hosts apart: these routes (and the static files and the beacon) answer
on the package host, nothing else does; the academy does not serve these.
"""

from __future__ import annotations

import hmac
import mimetypes
from pathlib import Path
from urllib.parse import quote

from flask import Blueprint, abort, current_app, jsonify, render_template, url_for
from flask_babel import gettext as _
from flask_login import current_user
from werkzeug.security import safe_join
from werkzeug.wrappers import Response

from lms.auth.access import AUTHENTICATED, PUBLIC, allow
from lms.courses.models import Lesson
from lms.courses.published import published_course
from lms.enrolment import enrol_first
from lms.extensions import db
from lms.packages.models import PackageVersion
from lms.packages.runtime import file_links, hosts, injection, services
from lms.packages.services import version_folder

bp = Blueprint("package_host", __name__)

HOST_SCRIPTS = {
    "1.2": ("js/package-launch.js", "vendor/scorm-again/scorm12.min.js", "js/package-bridge.js"),
    "2004": ("js/package-launch.js", "vendor/scorm-again/scorm2004.min.js", "js/package-bridge.js"),
}
HOST_PAGE_SCRIPT = "js/package-host.js"
PLAYER_ASSETS = ("js/package-player.js", "css/package-player.css")


def _family(version: PackageVersion) -> str:
    return "1.2" if version.scorm_version.startswith("1.2") else "2004"


def version_base(version: PackageVersion) -> str:
    """The package host URL of a version's folder, ending with ``/``."""
    origin = hosts.package_origin(current_app.config) or ""
    key = file_links.version_key(version.id, version.sha256)
    return origin + url_for("package_host.version_file", version_id=version.id, key=key, path="x")[:-1]


def host_page_url() -> str:
    return (hosts.package_origin(current_app.config) or "") + url_for("package_host.host_page")


def _frame_ancestors() -> str:
    academy = hosts.academy_origin(current_app.config)
    return f"frame-ancestors 'self' {academy}" if academy else "frame-ancestors 'self'"


@bp.route("/package-host")
@allow(PUBLIC)  # the package host's page: no data of its own, it is handed the launch by the player
def host_page() -> Response:
    response = Response(
        render_template(
            "packages/host.html",
            academy=hosts.academy_origin(current_app.config) or "",
            script=url_for("static", filename=HOST_PAGE_SCRIPT),
        ),
        mimetype="text/html",
    )
    response.headers["Content-Security-Policy"] = "; ".join(
        (
            "default-src 'none'",
            "script-src 'self'",
            "connect-src 'self'",
            "worker-src 'self'",  # it registers /package-sw.js
            "base-uri 'none'",
            "form-action 'none'",
            _frame_ancestors(),
        )
    )
    response.headers["Cache-Control"] = "no-cache"
    response.headers["Referrer-Policy"] = "no-referrer"
    response.headers["Cross-Origin-Resource-Policy"] = "same-origin"
    return response


@bp.route("/package-sw.js")
@allow(PUBLIC)
def service_worker() -> Response:
    # From the package host's root, so that its scope covers the package host's paths.
    script = Path(str(current_app.static_folder), "js", "package-sw.js").read_bytes()
    response = Response(script, mimetype="text/javascript")
    response.cache_control.no_cache = True
    return response


@bp.route("/package-version/<int:version_id>/<key>/<path:path>")
@allow(PUBLIC)  # the per-version key is the permission (course content, no learner data in the files)
def version_file(version_id: int, key: str, path: str) -> Response:
    version = db.session.get(PackageVersion, version_id) or abort(404)
    if not hmac.compare_digest(key, file_links.version_key(version.id, version.sha256)):
        abort(404)
    found = safe_join(str(version_folder(version)), path)
    if found is None or not Path(found).is_file():
        abort(404)
    kind = mimetypes.guess_type(found)[0] or "application/octet-stream"
    body = Path(found).read_bytes()
    if kind == "text/html":  # the runtime only; the launch data comes from the player page
        scripts = [url_for("static", filename=name) for name in HOST_SCRIPTS[_family(version)]]
        body = injection.inject(body, injection.script_tags(scripts))
    response = Response(body, mimetype=kind)
    headers = response.headers
    headers["Content-Security-Policy"] = host_policy()
    headers["Cross-Origin-Resource-Policy"] = "same-origin"  # no CORS header at all
    headers["Referrer-Policy"] = "no-referrer"
    headers["Cache-Control"] = "private, max-age=3600"
    return response


def host_policy() -> str:
    return "; ".join(
        (
            # The package host's origin is kept (its own storage, its worker's cache), never the academy's.
            "sandbox allow-scripts allow-same-origin allow-forms allow-popups",
            "default-src 'self' data: blob:",
            "script-src 'self' 'unsafe-inline' 'unsafe-eval'",
            "style-src 'self' 'unsafe-inline'",
            "img-src 'self' data: blob:",
            "media-src 'self' data: blob:",
            "font-src 'self' data:",
            "connect-src 'self'",
            "worker-src 'none'",  # a package cannot register a worker of its own on the package host
            "object-src 'none'",
            "base-uri 'self'",
            "form-action 'self'",
            _frame_ancestors(),
        )
    )


@bp.route("/courses/<slug>/lessons/<int:lesson_id>/package-offline")
@allow(AUTHENTICATED)
def offline_files(slug: str, lesson_id: int) -> Response:
    course = published_course(slug) or abort(404)
    course.lesson(lesson_id) or abort(404)
    lesson = db.session.get(Lesson, lesson_id)
    if lesson is None or lesson.package_id is None:
        abort(404)
    enrolment = enrol_first.enrolment_or_403(course.id)
    title = lesson.title
    if hosts.package_host(current_app.config) is None:
        return _cannot(
            _(
                "“%(title)s” needs a connection: interactive activities can be saved on this device only "
                "when the academy serves them from a host name of their own.",
                title=title,
            )
        )
    launch = services.launch(enrolment.id, lesson, current_user.id, current_user.full_name)
    folder = version_folder(launch.version)
    files = sorted(p for p in folder.rglob("*") if p.is_file() and not p.is_symlink())
    size = sum(p.stat().st_size for p in files)
    limit = int(current_app.config.get("PACKAGE_OFFLINE_MAX_BYTES", 20 * 1024 * 1024))
    if size > limit:
        return _cannot(_too_large(title, size, limit))
    return _files_to_save(launch, folder, files, size)


def _too_large(title: str, size: int, limit: int) -> str:
    return _(
        "“%(title)s” is too large to be saved on this device (%(size)s MB; the limit is "
        "%(limit)s MB). It needs a connection.",
        title=title,
        size=f"{size / 1_048_576:.1f}",
        limit=f"{limit / 1_048_576:.0f}",
    )


def _files_to_save(launch: services.Launch, folder: Path, files: list[Path], size: int) -> Response:
    """What to save: the package host's page, its runtime scripts and the version's files (on the
    package host), and the player page's own assets (on the academy)."""
    base = version_base(launch.version)
    urls = [base + quote(p.relative_to(folder).as_posix()) for p in files]
    origin = hosts.package_origin(current_app.config) or ""
    runtime = [
        origin + url_for("static", filename=n) for n in (*HOST_SCRIPTS[launch.scorm_family], HOST_PAGE_SCRIPT)
    ]
    response = jsonify(
        saved=True,
        host=host_page_url(),
        files=[host_page_url(), *runtime, *urls],  # on the package host
        assets=[url_for("static", filename=n) for n in PLAYER_ASSETS],  # the player page's, on the academy
        bytes=size,
    )
    response.headers["Cache-Control"] = "no-store"
    return response


def _cannot(message: str) -> Response:
    response = jsonify(saved=False, message=message)
    response.headers["Cache-Control"] = "no-store"
    return response
