"""The service worker, the page shown offline, and a fresh CSRF token for completions queued offline."""

from __future__ import annotations

from pathlib import Path

from flask import Blueprint, current_app, jsonify, render_template
from flask_wtf.csrf import generate_csrf
from werkzeug.wrappers import Response

from lms.auth.access import AUTHENTICATED, PUBLIC, allow

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


@bp.route("/offline")
@allow(PUBLIC)
def offline() -> str:
    return render_template("frontend/offline.html")


@bp.route("/offline/token")
@allow(AUTHENTICATED)
def csrf_token() -> Response:
    """Completions made offline are sent later, maybe after the session's token changed: the page asks
    here for the current one right before it sends them."""
    response = jsonify(csrf_token=generate_csrf())
    response.headers["Cache-Control"] = "no-store"
    return response
