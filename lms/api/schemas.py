"""The API's request and response shapes (pydantic): spectree validates with them and writes them into
the OpenAPI document. Request bodies are strict and refuse unknown fields, so a wrong type or a typo
is a 422 naming the field instead of a silent guess."""

from __future__ import annotations

from datetime import UTC, date, datetime
from typing import Annotated

from pydantic import AfterValidator, AwareDatetime, BaseModel, ConfigDict, Field

MAX_ID = 2**31 - 1  # ids are 32-bit integers in PostgreSQL: a larger one is a 422, not a database error


EARLIEST, LATEST = date(1900, 1, 1), date(2999, 12, 31)  # as the pages' date fields (lms.request_input)


def _in_range(moment: datetime) -> datetime:
    try:
        in_utc = moment.astimezone(UTC)
    except OverflowError:
        raise ValueError("out of range") from None
    if not EARLIEST <= in_utc.date() <= LATEST:
        raise ValueError("out of range")
    return in_utc


Moment = Annotated[AwareDatetime, AfterValidator(_in_range)]
Day = Annotated[date, Field(ge=EARLIEST, le=LATEST)]


class Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", strict=True)


class Query(BaseModel):
    model_config = ConfigDict(extra="forbid")


class FieldError(BaseModel):
    field: str
    message: str


class Problem(BaseModel):
    """RFC 9457 problem details."""

    type: str = "about:blank"
    title: str
    status: int
    detail: str | None = None
    errors: list[FieldError] | None = None


class ListQuery(Query):
    cursor: str | None = Field(None, max_length=200, description="next_cursor of the previous page")
    limit: int = Field(50, ge=1, le=100)
    updated_since: Moment | None = Field(None, description="only what changed at or after this time")


class EnrolmentQuery(ListQuery):
    person_id: int | None = Field(None, ge=1, le=MAX_ID)
    run_id: int | None = Field(None, ge=1, le=MAX_ID)
    status: str | None = Field(None, max_length=12)


class IndicatorQuery(Query):
    date_from: Day | None = None
    date_to: Day | None = None
    course_id: int | None = Field(None, ge=1, le=MAX_ID)
    country_code: str | None = Field(None, min_length=2, max_length=2)


class Course(BaseModel):
    id: int
    slug: str
    title: str
    summary: str
    language: str
    level: str | None
    credits: float | None
    notional_hours: int | None
    delivery_mode: str
    updated_at: datetime


class CoursePage(BaseModel):
    items: list[Course]
    next_cursor: str | None


class Run(BaseModel):
    id: int
    course_id: int
    title: str
    modality: str
    language: str
    enrolment_method: str
    starts_on: date | None
    ends_on: date | None
    enrolment_opens_on: date | None
    enrolment_closes_on: date | None
    seats_total: int | None = Field(description="null: no limit")
    seats_taken: int
    seats_left: int | None
    updated_at: datetime


class RunPage(BaseModel):
    items: list[Run]
    next_cursor: str | None


class Person(BaseModel):
    id: int
    given_name: str
    family_name: str
    email: str
    position: str | None
    authority_id: int | None
    country_code: str | None
    active: bool
    updated_at: datetime


class PersonPage(BaseModel):
    items: list[Person]
    next_cursor: str | None


class Progress(BaseModel):
    lessons_done: int
    lessons_total: int
    percent: int
    complete: bool


class Enrolment(BaseModel):
    id: int
    run_id: int
    course_id: int
    person_id: int
    authority_id: int | None
    status: str
    enrolled_at: datetime
    completed_at: datetime | None
    last_activity_at: datetime | None
    progress: Progress


class EnrolmentPage(BaseModel):
    items: list[Enrolment]
    next_cursor: str | None


class NominationIn(Strict):
    run_id: int = Field(ge=1, le=MAX_ID)
    person_id: int = Field(ge=1, le=MAX_ID)
    justification: str = Field(min_length=1, max_length=2000)


class WithdrawalIn(Strict):
    reason: str | None = Field(None, max_length=2000)


class Certificate(BaseModel):
    id: int
    code: str
    person_id: int
    run_id: int
    course_title: str
    issued_at: datetime
    valid_until: datetime | None
    state: str = Field(description="valid | expired | revoked | superseded (replaced by a re-issue)")


class CertificatePage(BaseModel):
    items: list[Certificate]
    next_cursor: str | None


class Verification(BaseModel):
    code: str
    state: str = Field(description="valid | expired | revoked | superseded (replaced by a re-issue)")
    holder_name: str
    course_title: str
    issued_at: datetime
    valid_until: datetime | None


class Cell(BaseModel):
    participants: int
    enrolments: int
    completions: int
    completed_persons: int
    certificates: int
    completed_hours: int


class Breakdown(BaseModel):
    key: str | None
    figures: Cell


class Month(BaseModel):
    month: str
    completions: int


class Indicators(BaseModel):
    computed_at: datetime
    total: Cell
    breakdowns: dict[str, list[Breakdown]]
    completions_by_month: list[Month]
