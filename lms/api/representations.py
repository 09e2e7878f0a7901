"""Rows as the API shows them (the response models of lms/api/schemas.py)."""

from __future__ import annotations

import hashlib
from dataclasses import asdict
from typing import Any

from flask import Response, current_app, request
from pydantic import BaseModel

from lms.api import schemas
from lms.auth.models import User
from lms.certificates.models import Certificate
from lms.certificates.queries import verification_state
from lms.courses.models import Course
from lms.enrolment.admission import seat_counts
from lms.enrolment.completion import enrolment_progress
from lms.enrolment.models import CourseRun, Enrolment
from lms.reports.indicator_queries import IndicatorTables
from lms.reports.indicators import CellTotals


def course(row: Course) -> schemas.Course:
    return schemas.Course(
        id=row.id, slug=row.slug, title=row.title, summary=row.summary, language=row.language,
        level=row.level, credits=float(row.credits) if row.credits is not None else None,
        notional_hours=row.notional_hours,
        delivery_mode=row.delivery_mode, updated_at=row.updated_at,
    )  # fmt: skip


def run(row: CourseRun) -> schemas.Run:
    seats = seat_counts(row)
    left = None if row.seats_total is None else max(row.seats_total - seats.used_total, 0)
    return schemas.Run(
        id=row.id, course_id=row.course_id, title=row.title, modality=row.modality, language=row.language,
        enrolment_method=row.enrolment_method, starts_on=row.starts_on, ends_on=row.ends_on,
        enrolment_opens_on=row.enrolment_opens_on, enrolment_closes_on=row.enrolment_closes_on,
        seats_total=row.seats_total, seats_taken=seats.used_total, seats_left=left, updated_at=row.updated_at,
    )  # fmt: skip


def person(row: User) -> schemas.Person:
    return schemas.Person(
        id=row.id, given_name=row.given_name, family_name=row.family_name, email=row.email,
        position=row.position, authority_id=row.authority_id, country_code=row.country_code,
        active=row.active, updated_at=row.updated_at,
    )  # fmt: skip


def enrolment(row: Enrolment) -> schemas.Enrolment:
    progress = enrolment_progress(row, row.run.course_id)
    return schemas.Enrolment(
        id=row.id, run_id=row.run_id, course_id=row.run.course_id, person_id=row.user_id,
        authority_id=row.authority_id, status=row.status, enrolled_at=row.enrolled_at,
        completed_at=row.completed_at, last_activity_at=row.last_activity_at,
        progress=schemas.Progress(lessons_done=progress.done, lessons_total=progress.total,
                                  percent=progress.percent, complete=progress.complete),
    )  # fmt: skip


def certificate(row: Certificate) -> schemas.Certificate:
    return schemas.Certificate(
        id=row.id, code=row.code, person_id=row.user_id, run_id=row.run_id, course_title=row.course_title,
        issued_at=row.issued_at, valid_until=row.valid_until, state=verification_state(row).state,
    )  # fmt: skip


def verification(row: Certificate) -> schemas.Verification:
    return schemas.Verification(
        code=row.code, state=verification_state(row).state, holder_name=row.holder_name,
        course_title=row.course_title, issued_at=row.issued_at, valid_until=row.valid_until,
    )  # fmt: skip


def _cell(cell: CellTotals) -> schemas.Cell:
    figures = asdict(cell)
    return schemas.Cell(**{name: figures[name] for name in schemas.Cell.model_fields})


def indicators(tables: IndicatorTables, computed_at: Any) -> schemas.Indicators:
    return schemas.Indicators(
        computed_at=computed_at,
        total=_cell(tables.total),
        breakdowns={name: [schemas.Breakdown(key=key, figures=_cell(cell)) for key, cell in cells]
                    for name, cells in tables.breakdowns.items()},
        completions_by_month=[schemas.Month(month=m, completions=n) for m, n in tables.completions_by_month],
    )  # fmt: skip


def json_response(model: BaseModel, status: int = 200) -> Response:
    return current_app.response_class(model.model_dump_json(), status=status, mimetype="application/json")


def tagged(model: BaseModel) -> Response:
    """A single resource with its ETag; a matching If-None-Match gets 304 Not Modified and no body."""
    body = model.model_dump_json()
    etag = hashlib.sha256(body.encode()).hexdigest()[:32]
    if request.if_none_match.contains(etag):
        response = current_app.response_class(status=304)
    else:
        response = current_app.response_class(body, mimetype="application/json")
    response.set_etag(etag)
    return response
