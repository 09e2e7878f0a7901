"""The service worker, the web app manifest, the page shown offline, and a fresh CSRF token for
completions queued offline."""

from __future__ import annotations

from pathlib import Path

from flask import Blueprint, current_app, json, jsonify, render_template, url_for
from flask_babel import gettext as _
from flask_login import current_user
from flask_wtf.csrf import generate_csrf
from werkzeug.wrappers import Response

from lms.auth.access import AUTHENTICATED, PUBLIC, allow
from lms.i18n import current_language, text_direction
from lms.settings.services import get_settings

bp = Blueprint("frontend", __name__)


@bp.route("/sw.js")
@allow(PUBLIC)
def service_worker() -> Response:
    # Served from the site root so that it may control /courses/ (a worker's scope cannot reach above
    # its own folder, and /static/js/ is not where lessons live).
    script = Path(str(current_app.static_folder), "js", "sw.js").read_bytes()
    response = Response(script, mimetype="text/javascript")
    response.cache_control.no_cache = True  # browsers look for a new worker on every visit
    return response


def _manifest_icon(size: int, purpose: str = "any") -> dict[str, str]:
    src = url_for("static", filename=f"icons/academy-{size}.png")
    return {"src": src, "sizes": f"{size}x{size}", "type": "image/png", "purpose": purpose}


@bp.route("/manifest.webmanifest")
@allow(PUBLIC)
def manifest() -> Response:
    """What a phone needs to keep the academy on its home screen: it opens on "My courses", which the
    service worker keeps for offline use (docs/design.md, "Offline reading")."""
    name = get_settings().academy_name
    language = current_language()
    body = {
        "name": name,
        "short_name": name,
        "description": _("Training for border and migration authorities"),
        "lang": language,
        "dir": text_direction(language),
        "start_url": url_for("courses.dashboard"),
        "scope": url_for("courses.catalogue"),
        "display": "standalone",
        "background_color": "#f4f6f9",
        "theme_color": "#0b4a8b",
        # the PNGs are drawn with the mark inside the safe zone, so the 512 one serves as maskable too
        "icons": [_manifest_icon(192), _manifest_icon(512), _manifest_icon(512, "maskable")],
    }
    response = Response(json.dumps(body, ensure_ascii=False), mimetype="application/manifest+json")
    response.cache_control.no_cache = True  # the academy's name and the language may change
    response.vary.add("Cookie")  # the language is the visitor's
    return response


@bp.route("/offline")
@allow(PUBLIC)
def offline() -> Response:
    response = Response(render_template("frontend/offline.html"), mimetype="text/html")
    # The service worker keeps only a signed-in person's copy (sw.js, storeOfflinePage): one made signed
    # out would read to app.js as a sign-out and make it forget the saved pages.
    if current_user.is_authenticated:
        response.headers["X-LMS-Signed-In"] = "1"
    return response


@bp.route("/offline/token")
@allow(AUTHENTICATED)
def csrf_token() -> Response:
    """Completions made offline are sent later, maybe after the session's token changed: the page asks
    here for the current one right before it sends them."""
    response = jsonify(csrf_token=generate_csrf())
    response.headers["Cache-Control"] = "no-store"
    return response
