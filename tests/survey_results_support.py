"""Survey rows built with the ORM for the results and indicator tests: forms, runs, responses, invitations."""

from __future__ import annotations

import itertools
import secrets
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from typing import Any

from lms.auth.models import User
from lms.courses.models import Course
from lms.enrolment.models import CourseRun, Enrolment
from lms.extensions import db
from lms.surveys.models import (
    RunSurvey,
    SurveyAnswer,
    SurveyForm,
    SurveyInvitation,
    SurveyItem,
    SurveyResponse,
)

_n = itertools.count(1)


def make_course(title: str = "Border checks") -> Course:
    course = Course(slug=f"survey-course-{next(_n)}", title=title)
    db.session.add(course)
    db.session.flush()
    return course


def make_run(course: Course, modality: str = "self_paced", title: str | None = None) -> CourseRun:
    run = CourseRun(course_id=course.id, title=title or f"Run {next(_n)}", modality=modality,
                    starts_on=date(2026, 1, 1), ends_on=date(2026, 2, 1))  # fmt: skip
    db.session.add(run)
    db.session.flush()
    return run


def end_of_course_form() -> SurveyForm:
    form = SurveyForm(
        slug=f"end-{next(_n)}", kind="end_of_course", title={"en": "End of course", "ar": "نهاية"}
    )
    form.items = [
        SurveyItem(key="relevant", position=1, type="agreement", indicator="satisfaction",
                   prompt={"en": "The course was relevant to my work", "ar": "كانت الدورة مفيدة"}),
        SurveyItem(key="overall", position=2, type="rating", prompt={"en": "Overall rating"}),
        SurveyItem(key="comment", position=3, type="text", required=False, prompt={"en": "Comments"}),
    ]  # fmt: skip
    db.session.add(form)
    db.session.flush()
    return form


def follow_up_form() -> SurveyForm:
    form = SurveyForm(slug=f"follow-{next(_n)}", kind="follow_up", title={"en": "Follow-up"})
    options = [
        {"key": "regularly", "label": {"en": "Yes, regularly"}, "positive": True},
        {"key": "sometimes", "label": {"en": "Yes, sometimes"}, "positive": True},
        {"key": "no", "label": {"en": "No"}},
    ]
    form.items = [
        SurveyItem(key="applied", position=1, type="single", indicator="applied", options=options,
                   prompt={"en": "Have you applied what you learned?"}),
        SurveyItem(key="examples", position=2, type="text", required=False, prompt={"en": "Examples"}),
    ]  # fmt: skip
    db.session.add(form)
    db.session.flush()
    return form


def attach(run: CourseRun, form: SurveyForm) -> RunSurvey:
    attached = RunSurvey(run_id=run.id, form_id=form.id, kind=form.kind)
    db.session.add(attached)
    db.session.flush()
    return attached


def respond(
    attached: RunSurvey,
    answers: dict[str, Any],
    *,
    day: date = date(2026, 2, 10),
    language: str = "en",
    sex: str | None = "female",
    country: str | None = "UA",
    authority_id: int | None = None,
) -> SurveyResponse:
    response = SurveyResponse(
        id=secrets.token_hex(16), run_survey_id=attached.id, language=language, submitted_on=day, sex=sex,
        country_code=country, authority_id=authority_id,
    )  # fmt: skip
    for key, value in answers.items():
        answer = SurveyAnswer(id=secrets.token_hex(16), item_key=key)
        if isinstance(value, int):
            answer.number = value
        elif isinstance(value, tuple):
            answer.choices = list(value)
        else:
            answer.text = value
        response.answers.append(answer)
    db.session.add(response)
    return response


@dataclass
class Invited:
    enrolment: Enrolment
    invitation: SurveyInvitation


def invite(attached: RunSurvey, person: User, *, answered: bool, opens: datetime | None = None) -> Invited:
    enrolment = db.session.query(Enrolment).filter_by(run_id=attached.run_id, user_id=person.id).one_or_none()
    if enrolment is None:
        enrolment = Enrolment(run_id=attached.run_id, user_id=person.id, status="completed",
                              authority_id=person.authority_id)  # fmt: skip
        db.session.add(enrolment)
        db.session.flush()
    opened = opens or datetime(2026, 2, 1, 9, tzinfo=UTC)
    invitation = SurveyInvitation(run_survey_id=attached.id, enrolment_id=enrolment.id, opens_at=opened,
                                  closes_at=opened + timedelta(days=30),
                                  answered_on=opened.date() if answered else None)  # fmt: skip
    db.session.add(invitation)
    db.session.flush()
    return Invited(enrolment, invitation)


def relevant_answers(values: Sequence[int], comments: Sequence[str] = ()) -> list[dict[str, Any]]:
    out = []
    for index, value in enumerate(values):
        answers: dict[str, Any] = {"relevant": value, "overall": 10 - index % 3}
        if index < len(comments):
            answers["comment"] = comments[index]
        out.append(answers)
    return out
