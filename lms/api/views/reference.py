"""The OpenAPI document and the reference page drawn from it (no script, no CDN)."""

from __future__ import annotations

from flask import current_app, render_template
from flask.typing import ResponseReturnValue

from lms.api.spec import openapi_document
from lms.api.tokens import SCOPES
from lms.api.views.base import bp
from lms.auth.access import PUBLIC, allow


@bp.get("/openapi.json")
@allow(PUBLIC)
def openapi_json() -> ResponseReturnValue:
    """The OpenAPI 3.1 document, generated from the code."""
    return current_app.json.response(openapi_document())


@bp.get("/reference")
@allow(PUBLIC)
def reference() -> str:
    """A readable reference of every operation, drawn server-side from the document."""
    document = openapi_document()
    operations = [
        (path, method.upper(), operation)
        for path, item in sorted(document["paths"].items())
        for method, operation in sorted(item.items())
    ]
    schemas = document.get("components", {}).get("schemas", {})
    return render_template("api/reference.html", operations=operations, schemas=schemas, scopes=SCOPES)
