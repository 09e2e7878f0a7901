"""Enrolments with progress, nominations (create, withdraw), certificates and indicator figures."""

from __future__ import annotations

from flask import Response, request, url_for
from flask_babel import gettext as _

from lms.api import queries, representations, schemas
from lms.api.bearer import Caller, current_caller, token_required
from lms.api.models import TokenKind
from lms.api.problems import ApiProblem
from lms.api.spec import api_spec
from lms.api.views.base import answers, bp
from lms.auth.models import Role, User
from lms.certificates.models import Certificate
from lms.certificates.queries import certificate_by_code
from lms.enrolment import nominations
from lms.enrolment.models import CourseRun, Enrolment
from lms.reports.indicator_queries import IndicatorFilters, cached_indicator_tables


@bp.get("/enrolments")
@token_required("enrolments:read")
@api_spec.validate(
    query=schemas.EnrolmentQuery, resp=answers(HTTP_200=schemas.EnrolmentPage), tags=["enrolments"]
)
def list_enrolments() -> Response:
    """Enrolments the caller may see, with progress and completion; `updated_since` for synchronisation."""
    query: schemas.EnrolmentQuery = request.context.query  # type: ignore[attr-defined]
    rows = queries.enrolments(current_caller())
    if query.updated_since is not None:
        rows = rows.where(queries.enrolments_changed_since(query.updated_since))
    for column, value in ((Enrolment.user_id, query.person_id), (Enrolment.run_id, query.run_id),
                          (Enrolment.status, query.status)):  # fmt: skip
        rows = rows if value is None else rows.where(column == value)
    page = queries.page_of(rows, Enrolment.id, query.cursor, query.limit)
    items = [representations.enrolment(row) for row in page.items]
    return representations.json_response(schemas.EnrolmentPage(items=items, next_cursor=page.next_cursor))


@bp.get("/enrolments/<int:enrolment_id>")
@token_required("enrolments:read")
@api_spec.validate(resp=answers("HTTP_404", HTTP_200=schemas.Enrolment, HTTP_304=None), tags=["enrolments"])
def get_enrolment(enrolment_id: int) -> Response:
    """One enrolment with its progress and completion, with its ETag."""
    row = queries.one(queries.enrolments(current_caller()), Enrolment.id, enrolment_id)
    return representations.tagged(representations.enrolment(row))


def _acting_person(caller: Caller) -> User:
    if caller.user is None:
        raise ApiProblem(403, _("A donor token reads indicator figures only."))
    return caller.user


@bp.post("/nominations")
@token_required("nominations:write")
@api_spec.validate(
    json=schemas.NominationIn,
    resp=answers("HTTP_404", "HTTP_409", "HTTP_415", HTTP_201=schemas.Enrolment),
    tags=["nominations"],
)
def create_nomination() -> Response:
    """Nominate a member of the caller's authority's staff for a run (as the focal point pages do)."""
    body: schemas.NominationIn | None = request.context.json  # type: ignore[attr-defined]
    if body is None:  # a form-encoded request: spectree validates JSON bodies only
        raise ApiProblem(415, _("Send the body as application/json."))
    caller = current_caller()
    person = queries.one(queries.people(caller), User.id, body.person_id)
    run = queries.one(queries.catalogue_runs(), CourseRun.id, body.run_id)
    enrolment = nominations.nominate(_acting_person(caller), run, person, body.justification)
    response = representations.json_response(representations.enrolment(enrolment), 201)
    response.headers["Location"] = url_for("api.get_enrolment", enrolment_id=enrolment.id)
    return response


@bp.post("/nominations/<int:enrolment_id>/withdraw")
@token_required("nominations:write")
@api_spec.validate(
    json=schemas.WithdrawalIn,
    resp=answers("HTTP_404", "HTTP_409", "HTTP_415", HTTP_200=schemas.Enrolment),
    tags=["nominations"],
)
def withdraw_nomination(enrolment_id: int) -> Response:
    """Withdraw a nomination or a place of the caller's staff (or the caller's own)."""
    body: schemas.WithdrawalIn | None = request.context.json  # type: ignore[attr-defined]
    caller = current_caller()
    enrolment = queries.one(queries.enrolments(caller), Enrolment.id, enrolment_id)
    actor = _acting_person(caller)
    if not nominations.may_withdraw(enrolment, actor):
        raise ApiProblem(403, _("You may not withdraw this enrolment."))
    nominations.withdraw(enrolment, actor, body.reason if body else None)
    return representations.json_response(representations.enrolment(enrolment))


@bp.get("/certificates")
@token_required("certificates:read")
@api_spec.validate(
    query=schemas.ListQuery, resp=answers(HTTP_200=schemas.CertificatePage), tags=["certificates"]
)
def list_certificates() -> Response:
    """Certificates of the people the caller may see; `updated_since`: issued, revoked or replaced since."""
    query: schemas.ListQuery = request.context.query  # type: ignore[attr-defined]
    rows = queries.certificates(current_caller())
    if (since := query.updated_since) is not None:
        rows = rows.where((Certificate.issued_at >= since) | (Certificate.revoked_at >= since)
                          | (Certificate.superseded_at >= since))  # fmt: skip
    page = queries.page_of(rows, Certificate.id, query.cursor, query.limit)
    items = [representations.certificate(row) for row in page.items]
    return representations.json_response(schemas.CertificatePage(items=items, next_cursor=page.next_cursor))


@bp.get("/certificates/verify/<code>")
@token_required("certificates:read")
@api_spec.validate(resp=answers("HTTP_404", HTTP_200=schemas.Verification), tags=["certificates"])
def verify_certificate(code: str) -> Response:
    """What the public verification page says of a code: valid, expired, revoked or superseded (replaced)."""
    row = certificate_by_code(code[:64])
    if row is None:
        raise ApiProblem(404, _("No certificate has this code."))
    return representations.json_response(representations.verification(row))


@bp.get("/indicators")
@token_required("reports:read")
@api_spec.validate(query=schemas.IndicatorQuery, resp=answers(HTTP_200=schemas.Indicators), tags=["reports"])
def indicators() -> Response:
    """The donor indicators (the report's figures) for admins and donor tokens."""
    query: schemas.IndicatorQuery = request.context.query  # type: ignore[attr-defined]
    caller = current_caller()
    admin = (
        caller.token.kind == TokenKind.PERSONAL
        and caller.user is not None
        and caller.user.has_role(Role.ADMIN)
    )
    if not admin and caller.token.kind != TokenKind.DONOR:
        raise ApiProblem(403, _("Indicator figures are for administrators and donor tokens."))
    country = query.country_code.upper() if query.country_code else None
    filters = IndicatorFilters(query.date_from, query.date_to, query.course_id, country_code=country)
    tables, computed_at = cached_indicator_tables(filters)
    return representations.json_response(representations.indicators(tables, computed_at))
