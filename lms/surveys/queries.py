"""What the pages of a run's surveys read (issue 21): a trainee's open surveys, one invitation with its form,
the forms an admin may attach, and whether a certificate waits for a survey. Each in a fixed number of
queries. Nothing here reads an answer (the results pages read through result_queries.py).
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime
from functools import cache
from typing import Any

from sqlalchemy import Row, Select, bindparam, exists, select

from lms.courses.models import Course
from lms.db import utcnow
from lms.enrolment.models import CourseRun, Enrolment
from lms.extensions import db
from lms.surveys.models import RunSurvey, SurveyForm, SurveyInvitation, SurveyKind


@dataclass(frozen=True)
class OpenSurvey:
    """A line of the trainee's "Surveys to answer" list."""

    invitation_id: int
    kind: str
    run_title: str
    course_title: str
    course_language: str  # the language the course title is in (lang attribute)
    opens_at: datetime
    closes_at: datetime
    required_for_certificate: bool

    @property
    def is_open(self) -> bool:
        return self.opens_at <= utcnow() < self.closes_at


def open_surveys(user_id: int) -> list[OpenSurvey]:
    """The person's invitations not answered and not closed, soonest closing first (one query). One that
    opens later (a run whose last session has not ended) is listed with its opening date."""
    statement = _open_surveys_where("person")
    return _open_survey_lines(db.session.execute(statement, {"user_id": user_id, "now": utcnow()}))


def open_surveys_of_places(enrolment_ids: list[int]) -> list[OpenSurvey]:
    """``open_surveys`` from the places a page has already read (the dashboard's completed places: only a
    completed place is ever invited, and a completed place stays completed): no query without one, and
    otherwise a statement built once that starts from the invitations' enrolment index (issue 22)."""
    if not enrolment_ids:
        return []
    statement = _open_surveys_where("places")
    return _open_survey_lines(db.session.execute(statement, {"ids": enrolment_ids, "now": utcnow()}))


def _open_survey_lines(rows: Iterable[Row[Any]]) -> list[OpenSurvey]:
    return [
        OpenSurvey(
            invitation_id=row[0],
            opens_at=row[1],
            closes_at=row[2],
            kind=row[3],
            required_for_certificate=row[4],
            run_title=row[5],
            course_title=row[6],
            course_language=row[7],
        )
        for row in rows
    ]


@cache
def _open_surveys_where(whose: str) -> Select[tuple[int, datetime, datetime, str, bool, str, str, str]]:
    """The open invitations' lines, built once for each of: a person's ("person": `user_id`) or a list of
    places' ("places": `ids`)."""
    if whose == "person":
        condition = Enrolment.user_id == bindparam("user_id")
    else:
        condition = SurveyInvitation.enrolment_id.in_(bindparam("ids", expanding=True))
    return (
        select(
            SurveyInvitation.id,
            SurveyInvitation.opens_at,
            SurveyInvitation.closes_at,
            RunSurvey.kind,
            RunSurvey.required_for_certificate,
            CourseRun.title,
            Course.title,
            Course.language,
        )
        .join(RunSurvey, SurveyInvitation.run_survey_id == RunSurvey.id)
        .join(Enrolment, SurveyInvitation.enrolment_id == Enrolment.id)
        .join(CourseRun, Enrolment.run_id == CourseRun.id)
        .join(Course, CourseRun.course_id == Course.id)
        .where(condition)
        .where(SurveyInvitation.answered_on.is_(None), SurveyInvitation.closes_at > bindparam("now"))
        .order_by(SurveyInvitation.closes_at, SurveyInvitation.id)
    )


@dataclass(frozen=True)
class InvitationView:
    invitation: SurveyInvitation
    run_survey: RunSurvey
    form: SurveyForm
    run: CourseRun


def own_invitation(invitation_id: int, user_id: int) -> InvitationView | None:
    """The invitation if it is this person's (anyone else's, or none: None, which the page answers 404)."""
    row = db.session.execute(
        select(SurveyInvitation, RunSurvey, SurveyForm, CourseRun)
        .join(RunSurvey, SurveyInvitation.run_survey_id == RunSurvey.id)
        .join(SurveyForm, RunSurvey.form_id == SurveyForm.id)
        .join(Enrolment, SurveyInvitation.enrolment_id == Enrolment.id)
        .join(CourseRun, Enrolment.run_id == CourseRun.id)
        .where(SurveyInvitation.id == invitation_id, Enrolment.user_id == user_id)
    ).first()
    return InvitationView(*row) if row is not None else None


def forms_to_attach() -> dict[str, list[SurveyForm]]:
    """Published forms by kind, for the admin's choice (one query)."""
    forms = db.session.scalars(
        select(SurveyForm).where(SurveyForm.is_published.is_(True)).order_by(SurveyForm.slug)
    ).all()
    return {kind: [f for f in forms if f.kind == kind] for kind in SurveyKind}


def certificate_waits_for_survey(enrolment: Enrolment) -> bool:
    """The run's certificate is issued after the end-of-course survey, and this person has not answered it
    (one query). lms.certificates asks this before an automatic issue."""
    answered = exists().where(
        SurveyInvitation.run_survey_id == RunSurvey.id,
        SurveyInvitation.enrolment_id == enrolment.id,
        SurveyInvitation.answered_on.is_not(None),
    )
    waiting = db.session.scalar(
        select(RunSurvey.id).where(
            RunSurvey.run_id == enrolment.run_id,
            RunSurvey.kind == SurveyKind.END_OF_COURSE,
            RunSurvey.required_for_certificate.is_(True),
            ~answered,
        )
    )
    return waiting is not None
