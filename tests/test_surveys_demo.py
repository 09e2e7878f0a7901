"""The demo's surveys (issue 21): after `make run` the finished runs have answered surveys, so the results
and the donor indicators show data (lms/demo/surveys_demo.py)."""

from __future__ import annotations

from flask import Flask
from sqlalchemy import func, select

from lms.db import utcnow
from lms.demo.cohort import PAST_RUNS
from lms.demo.surveys_demo import load_demo_surveys
from lms.enrolment.models import CourseRun
from lms.extensions import db
from lms.surveys.models import RunSurvey, SurveyInvitation, SurveyKind, SurveyResponse
from tests.a11y_support import load_academy


def test_the_finished_runs_have_enough_answers_in_several_languages(app: Flask) -> None:
    load_academy()
    load_demo_surveys()  # idempotent: the demo load may have run it already
    assert load_demo_surveys() == 0
    for past in PAST_RUNS:
        run_id = db.session.scalar(select(CourseRun.id).where(CourseRun.title == past.title))
        rows = db.session.execute(
            select(RunSurvey.kind, func.count(SurveyResponse.id))
            .join(SurveyResponse, SurveyResponse.run_survey_id == RunSurvey.id)
            .where(RunSurvey.run_id == run_id)
            .group_by(RunSurvey.kind)
        ).all()
        counts = dict(rows)
        assert counts.get(SurveyKind.END_OF_COURSE, 0) >= 5, (past.title, counts)
    follow_ups = db.session.scalar(
        select(func.count(SurveyResponse.id))
        .join(RunSurvey, SurveyResponse.run_survey_id == RunSurvey.id)
        .where(RunSurvey.kind == SurveyKind.FOLLOW_UP)
    )
    assert follow_ups and follow_ups >= 5
    languages = set(db.session.scalars(select(SurveyResponse.language)))
    assert {"en", "ru", "ar"} <= languages, languages
    days = set(db.session.scalars(select(SurveyResponse.submitted_on)))
    assert len(days) >= 5 and max(days) < utcnow().date()  # spread over the weeks after each run
    answered = db.session.scalar(
        select(func.count()).select_from(SurveyInvitation).where(SurveyInvitation.answered_on.is_not(None))
    )
    assert answered == db.session.scalar(select(func.count()).select_from(SurveyResponse))
