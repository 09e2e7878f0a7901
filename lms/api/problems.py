"""RFC 9457 problem details: every error of the API is ``application/problem+json``.

``type`` is ``about:blank`` (the HTTP status says what happened) and ``title`` is the status phrase;
``detail`` is the human explanation (translated like the pages' messages) and ``errors`` names the
fields of a refused request (422)."""

from __future__ import annotations

import json
from http import HTTPStatus
from typing import Any

from flask import Response, current_app

PROBLEM_TYPE = "application/problem+json"


class ApiProblem(Exception):
    """Raised anywhere under /api/v1; the blueprint answers it as a problem document."""

    def __init__(
        self,
        status: int,
        detail: str | None = None,
        *,
        errors: list[dict[str, str]] | None = None,
        headers: dict[str, str] | None = None,
    ) -> None:
        super().__init__(detail or HTTPStatus(status).phrase)
        self.status = status
        self.detail = detail
        self.errors = errors
        self.headers = headers or {}


def problem_response(problem: ApiProblem) -> Response:
    body: dict[str, Any] = {"type": "about:blank", "title": HTTPStatus(problem.status).phrase}
    body["status"] = problem.status
    if problem.detail:
        body["detail"] = problem.detail
    if problem.errors:
        body["errors"] = problem.errors
    response = current_app.response_class(json.dumps(body), status=problem.status, mimetype=PROBLEM_TYPE)
    response.headers.update(problem.headers)
    return response


def field_error(field: str, message: str) -> ApiProblem:
    return ApiProblem(422, message, errors=[{"field": field, "message": message}])
