"""The OpenAPI document validates, and a property-based run of the whole API against it (schemathesis)
finds no server error and no answer outside the document (issue 24)."""

from __future__ import annotations

from typing import Any

import schemathesis
from flask import Flask
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from openapi_spec_validator import validate
from schemathesis.checks import not_a_server_error
from schemathesis.specs.openapi.checks import (
    content_type_conformance,
    response_schema_conformance,
    status_code_conformance,
)

from lms.auth.models import Role
from lms.courses.models import Course
from tests.api_support import bearer, for_authority, nomination_run, personal

CHECKS = [not_a_server_error, status_code_conformance, content_type_conformance, response_schema_conformance]


def test_the_openapi_document_validates(app: Flask) -> None:
    response = app.test_client().get("/api/v1/openapi.json")
    assert response.status_code == 200
    document = response.json
    validate(document)
    assert document["openapi"].startswith("3.1")
    assert len(document["paths"]) >= 12
    page = app.test_client().get("/api/v1/reference")
    assert page.status_code == 200 and "/api/v1/nominations" in page.get_data(as_text=True)


def test_the_whole_api_keeps_to_its_schema(app: Flask, make_user, demo_course: Course) -> None:
    admin = make_user(Role.ADMIN)
    focal = make_user(Role.FOCAL_POINT)
    make_user(authority=focal.authority)
    nomination_run(demo_course)
    tokens = [bearer(personal(admin)), bearer(for_authority(admin, focal.authority, focal))]
    app.config["API_RATE_LIMIT"] = 100000
    try:
        schema = schemathesis.openapi.from_wsgi("/api/v1/openapi.json", app)
        operations = [result.ok() for result in schema.get_all_operations()]
        assert len(operations) >= 13
        for operation in operations:
            _run(operation, tokens)
    finally:
        del app.config["API_RATE_LIMIT"]


def _run(operation: Any, tokens: list[dict[str, str]]) -> None:
    @given(case=operation.as_strategy(), which=st.sampled_from(tokens))
    @settings(max_examples=4, derandomize=True, deadline=None, database=None,
              suppress_health_check=list(HealthCheck))  # fmt: skip
    def check(case: Any, which: dict[str, str]) -> None:
        # identity: the WSGI client does not undo the app's gzip (lms.frontend compresses large answers)
        case.call_and_validate(headers={**which, "Accept-Encoding": "identity"}, checks=CHECKS)

    check()
