"""Read side of the survey form editor: the list of forms, in one query whatever their number."""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import func, select

from lms.extensions import db
from lms.surveys.models import RunSurvey, SurveyForm, SurveyItem


@dataclass(frozen=True)
class FormRow:
    form: SurveyForm
    asked: int  # questions asked now
    retired: int
    runs: int  # runs that use the form


def form_rows() -> list[FormRow]:
    asked = (
        select(func.count(SurveyItem.id))
        .where(SurveyItem.form_id == SurveyForm.id, SurveyItem.retired.is_(False))
        .scalar_subquery()
    )
    retired = (
        select(func.count(SurveyItem.id))
        .where(SurveyItem.form_id == SurveyForm.id, SurveyItem.retired.is_(True))
        .scalar_subquery()
    )
    runs = select(func.count(RunSurvey.id)).where(RunSurvey.form_id == SurveyForm.id).scalar_subquery()
    rows = db.session.execute(select(SurveyForm, asked, retired, runs).order_by(SurveyForm.slug)).all()
    return [FormRow(form, n_asked, n_retired, n_runs) for form, n_asked, n_retired, n_runs in rows]
