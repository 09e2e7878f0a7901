"""Builders shared by the tests of a run's surveys (issue 21): forms made with the ORM, a run with its
surveys, a trainee who completes it (through the real services, so the signals run)."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from sqlalchemy import select

from lms.auth.models import User
from lms.courses.models import Course
from lms.db import utcnow
from lms.enrolment import completion as enrolment_completion
from lms.enrolment import self_service as enrolment_self_service
from lms.enrolment.models import CourseRun, Enrolment, EnrolmentMethod
from lms.extensions import db
from lms.surveys import services as survey_services
from lms.surveys.models import RunSurvey, SurveyForm, SurveyInvitation, SurveyItem, SurveyKind
from tests.enrolment_support import make_course, make_run


def make_form(slug: str = "end-of-course", kind: str = SurveyKind.END_OF_COURSE) -> SurveyForm:
    form = SurveyForm(
        slug=slug,
        kind=kind,
        title={"en": "How was the course?", "ar": "كيف كانت الدورة؟", "ru": "Как прошёл курс?"},
        intro={"en": "A few questions.", "ar": "بعض الأسئلة."},
    )
    form.items = [
        SurveyItem(
            key="relevance",
            position=0,
            type="agreement",
            prompt={"en": "It was relevant.", "ar": "كانت ذات صلة."},
        ),
        SurveyItem(
            key="overall", position=1, type="rating", prompt={"en": "Overall, from 0 to 10?", "ar": "إجمالًا؟"}
        ),
        SurveyItem(
            key="format",
            position=2,
            type="single",
            prompt={"en": "Which format suits you?", "ar": "أي شكل يناسبك؟"},
            options=[
                {"key": "online", "label": {"en": "Online", "ar": "عبر الإنترنت"}},
                {"key": "in_person", "label": {"en": "In person", "ar": "حضوريًا"}},
            ],
        ),
        SurveyItem(
            key="topics",
            position=3,
            type="multiple",
            required=False,
            prompt={"en": "Which topics helped?", "ar": "أي المواضيع ساعدت؟"},
            options=[
                {"key": "law", "label": {"en": "Law", "ar": "القانون"}},
                {"key": "practice", "label": {"en": "Practice", "ar": "الممارسة"}},
            ],
        ),
        SurveyItem(
            key="comment",
            position=4,
            type="text",
            required=False,
            prompt={"en": "Anything else?", "ar": "شيء آخر؟"},
        ),
    ]
    db.session.add(form)
    db.session.commit()
    return form


GOOD_ANSWERS: dict[str, Any] = {
    "relevance": 4,
    "overall": 8,
    "format": "online",
    "topics": ["law"],
    "comment": "Useful.",
}


def make_run_with_surveys(
    *,
    course: Course | None = None,
    follow_up_months: int | None = None,
    required_for_certificate: bool = False,
    open_days: int = 30,
    reminder_days: int | None = 7,
    **run_fields: Any,
) -> CourseRun:
    course = course or make_course()
    today = utcnow().date()
    run = make_run(
        course,
        EnrolmentMethod.OPEN,
        enrolment_opens_on=today - timedelta(days=3),
        enrolment_closes_on=today + timedelta(days=30),
        starts_on=today - timedelta(days=1),
        **run_fields,
    )
    end = make_form()
    follow_up = make_form("follow-up", SurveyKind.FOLLOW_UP) if follow_up_months else None
    settings = survey_services.RunSurveySettings(
        end_form_id=end.id,
        follow_up_form_id=follow_up.id if follow_up else None,
        follow_up_months=follow_up_months,
        open_days=open_days,
        reminder_days=reminder_days,
        required_for_certificate=required_for_certificate,
    )
    survey_services.attach_surveys(run, settings, actor_id=None)
    db.session.commit()
    return run


def complete(user: User, run: CourseRun) -> Enrolment:
    """Enrol and read every lesson: completion (and the signals) as in the application."""
    enrolment = enrolment_self_service.self_enrol(user, db.session.get(CourseRun, run.id), language="en")
    for module in run.course.modules:
        for lesson in module.lessons:
            enrolment_completion.complete_lesson(enrolment, lesson)
    db.session.commit()
    assert enrolment.status == "completed"
    return enrolment


def invitation_of(enrolment: Enrolment, kind: str = SurveyKind.END_OF_COURSE) -> SurveyInvitation | None:
    return db.session.scalar(
        select(SurveyInvitation)
        .join(RunSurvey, SurveyInvitation.run_survey_id == RunSurvey.id)
        .where(SurveyInvitation.enrolment_id == enrolment.id, RunSurvey.kind == kind)
    )
