"""The `/api/v1` blueprint (issue 24): its error answers and its catch-all; the routes' modules add theirs."""

from __future__ import annotations

from typing import Any

from flask import Blueprint, Response, current_app, request
from flask_babel import gettext as _
from spectree import Response as Answers
from werkzeug.exceptions import HTTPException

from lms.api.problems import ApiProblem, problem_response
from lms.api.schemas import Problem
from lms.api.spec import API_PREFIX
from lms.auth.access import PUBLIC, allow
from lms.errors import LmsError
from lms.extensions import csrf
from lms.unit_of_work import abandon

bp = Blueprint("api", __name__, url_prefix=API_PREFIX)
# Bearer tokens only: no cookie authenticates a call, so there is no cross-site request to forge.
csrf.exempt(bp)

ERRORS = ("HTTP_401", "HTTP_403", "HTTP_422", "HTTP_429")


def answers(*extra: str, **models: Any) -> Answers:
    """The responses of an operation: its own models, then problem details for every error it can give."""
    problems = {code: Problem for code in (*ERRORS, *extra)}
    return Answers(**problems, **models)


@bp.errorhandler(ApiProblem)
def answer_problem(problem: ApiProblem) -> Response:
    abandon()
    return problem_response(problem)


@bp.errorhandler(LmsError)
def answer_refusal(error: LmsError) -> Response:
    abandon()
    return problem_response(ApiProblem(error.status_code, error.message))


@bp.errorhandler(HTTPException)
def answer_http_error(error: HTTPException) -> Response:
    abandon()
    given = error.description if error.description != type(error).description else None
    retry = error.response.headers.get("Retry-After") if error.response is not None else None
    headers = {"Retry-After": retry} if retry else {}
    return problem_response(ApiProblem(error.code or 500, given, headers=headers))


def _allowed_methods(path: str) -> list[str]:
    adapter = current_app.url_map.bind("api.local")
    allowed = []
    for method in ("GET", "POST", "PUT", "PATCH", "DELETE"):
        try:
            endpoint, _args = adapter.match(path, method=method)
        except HTTPException:
            continue
        if endpoint not in ("api.unknown", "api.root"):
            allowed.append(method)
    return allowed


ANY_METHOD = ["GET", "POST", "PUT", "PATCH", "DELETE"]


@bp.route("/", methods=ANY_METHOD)
@allow(PUBLIC)
def root() -> Response:
    """Nothing at the root: the document is /api/v1/openapi.json."""
    raise ApiProblem(404, _("No such API path."))


@bp.route("/<path:rest>", methods=ANY_METHOD)
@allow(PUBLIC)
def unknown(rest: str) -> Response:
    """What no API route matches (a wrong path, or a known path with another method) as a problem."""
    allowed = _allowed_methods(request.path)
    if allowed:
        raise ApiProblem(405, _("This path takes %(methods)s.", methods=", ".join(allowed)),
                         headers={"Allow": ", ".join(allowed)})  # fmt: skip
    raise ApiProblem(404, _("No such API path."))
