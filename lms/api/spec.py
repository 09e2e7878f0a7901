"""The OpenAPI 3.1 document, generated from the code by spectree (docs/api.md says why spectree).

``api_spec.validate(...)`` on a view declares its query, body and responses as pydantic models; the
document is built from those declarations and the URL map. spectree's own pages (Swagger UI and Redoc
from a CDN) are never registered: the document is served by lms/api/views/reference.py, and the
reference page is drawn by our own template from the document.
"""

from __future__ import annotations

import copy
from typing import Any

from flask import Request, Response
from flask_babel import gettext as _
from pydantic import ValidationError
from spectree import SecurityScheme, SecuritySchemeData, SpecTree
from spectree.models import SecureType

from lms.api.problems import PROBLEM_TYPE, ApiProblem, field_error

API_PREFIX = "/api/v1"


def _refuse_invalid(
    request: Request, response: Response | None, error: Exception | None, *_rest: Any
) -> None:
    """spectree's ``before`` hook: a refused request is a 422 problem naming each field."""
    if request.method not in ("GET", "HEAD", "DELETE") and request.get_data():
        if not request.is_json:
            raise ApiProblem(415, _("Send the body as application/json."))
        if request.get_json(silent=True) is None:
            raise field_error("body", _("The body is not well-formed JSON."))
    if error is None:
        return
    errors = []
    if isinstance(error, ValidationError):
        for item in error.errors(include_url=False):
            field = ".".join(str(part) for part in item["loc"]) or "body"
            errors.append({"field": field, "message": item["msg"]})
    raise ApiProblem(422, _("The request has invalid fields."), errors=errors or None)


api_spec = SpecTree(
    "flask",
    title="Academy LMS API",
    version="1.0.0",
    mode="strict",
    naming_strategy=lambda model: model.__name__,  # plain schema names in the document
    annotations=False,
    before=_refuse_invalid,
    security_schemes=[
        SecurityScheme(
            name="bearer",
            data=SecuritySchemeData(type=SecureType.HTTP, scheme="bearer", bearer_format="lms_…"),
        )
    ],
    security={"bearer": []},
)


def openapi_document() -> dict[str, Any]:
    """spectree's document with the API's paths only, the server prefix, and problem details typed as
    ``application/problem+json`` for every error answer."""
    document = copy.deepcopy(api_spec.spec)
    document["paths"] = {
        path: item for path, item in document["paths"].items() if path.startswith(API_PREFIX)
    }
    for item in document["paths"].values():
        for operation in item.values():
            for status, answer in operation.get("responses", {}).items():
                content = answer.get("content", {})
                if status.startswith(("4", "5")) and "application/json" in content:
                    answer["content"] = {PROBLEM_TYPE: content["application/json"]}
    return document
