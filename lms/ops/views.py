"""Liveness and readiness probes for load balancers and orchestrators (no session, no template)."""

from __future__ import annotations

from flask import Blueprint, jsonify
from werkzeug.wrappers import Response

from lms.auth.access import PUBLIC, allow
from lms.ops.health import readiness

bp = Blueprint("ops", __name__)


@bp.route("/healthz")
@allow(PUBLIC)
def healthz() -> Response:
    """Liveness: the process answers. Never touches the database, so a slow database does not get
    healthy processes restarted."""
    response = jsonify(status="ok")
    response.headers["Cache-Control"] = "no-store"
    return response


@bp.route("/readyz")
@allow(PUBLIC)
def readyz() -> tuple[Response, int]:
    """Readiness: database reachable, migrations at head, signing key present (and Redis when
    configured). 503 while any check fails, so a load balancer sends no traffic here yet."""
    checks = readiness()
    ready = all(check.ok for check in checks)
    response = jsonify(
        status="ready" if ready else "not ready",
        checks={check.name: {"ok": check.ok, "detail": check.detail} for check in checks},
    )
    response.headers["Cache-Control"] = "no-store"
    return response, 200 if ready else 503
