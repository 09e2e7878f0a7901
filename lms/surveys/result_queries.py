"""Reading survey results: the answers of a run's survey or of a course's runs, and the response rates.

Each function runs a fixed number of statements whatever the number of runs, responses or items
(tests/test_survey_results_pages.py counts them at two sizes); the arithmetic is lms.surveys.results (pure).
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from sqlalchemy import and_, case, func, select

from lms.auth.models import User
from lms.db import utcnow
from lms.enrolment.models import CourseRun, Enrolment
from lms.extensions import db
from lms.surveys import results
from lms.surveys.models import (
    RunSurvey,
    SurveyAnswer,
    SurveyForm,
    SurveyInvitation,
    SurveyItem,
    SurveyKind,
    SurveyResponse,
)

KINDS = (SurveyKind.END_OF_COURSE.value, SurveyKind.FOLLOW_UP.value)
DIMENSIONS = ("run", "sex", "country", "authority")


@dataclass(frozen=True)
class ItemTexts:
    """What a page shows of an item: its prompt and options per language (from the latest version)."""

    prompt: dict[str, str]
    options: list[dict[str, Any]]


@dataclass
class SurveyData:
    """The answers of one kind of survey over a scope (one run, or a course's runs), ready for results."""

    kind: str
    items: list[results.ItemSpec] = field(default_factory=list)
    texts: dict[str, ItemTexts] = field(default_factory=dict)
    responses: list[results.Response] = field(default_factory=list)
    response_runs: list[int] = field(default_factory=list)  # the run of each response, same order
    languages: list[str] = field(default_factory=list)  # languages answered in (the filter's choices)
    form_titles: list[dict[str, str]] = field(default_factory=list)

    @property
    def attached(self) -> bool:
        return bool(self.form_titles)

    def by_run(self) -> dict[int, list[results.Response]]:
        grouped: dict[int, list[results.Response]] = defaultdict(list)
        for run_id, response in zip(self.response_runs, self.responses, strict=True):
            grouped[run_id].append(response)
        return grouped


def _spec(item: SurveyItem) -> results.ItemSpec:
    choice = item.type in ("single", "multiple")
    options = item.options or []
    return results.ItemSpec(
        key=item.key,
        type=item.type,
        indicator=item.indicator,
        options=tuple(str(o.get("key")) for o in options) if choice else (),
        retired=item.retired,
        positive=tuple(str(o.get("key")) for o in options if choice and o.get("positive")),
    )


def _survey_data(kind: str, run_ids: Sequence[int], language: str | None) -> SurveyData:
    """Three statements: the forms attached, their items, the answers (with their responses)."""
    data = SurveyData(kind)
    if not run_ids:
        return data
    attached = db.session.execute(
        select(RunSurvey.id, RunSurvey.form_id, SurveyForm.title)
        .join(SurveyForm, SurveyForm.id == RunSurvey.form_id)
        .where(RunSurvey.run_id.in_(run_ids), RunSurvey.kind == kind)
        .order_by(RunSurvey.form_id)
    ).all()
    if not attached:
        return data
    form_ids = sorted({row.form_id for row in attached})
    titles = {row.form_id: row.title for row in attached}
    data.form_titles = [titles[form_id] or {} for form_id in form_ids]
    versions: dict[int, list[results.ItemSpec]] = defaultdict(list)
    for item in db.session.scalars(
        select(SurveyItem)
        .where(SurveyItem.form_id.in_(form_ids))
        .order_by(SurveyItem.position, SurveyItem.id)
    ):
        versions[item.form_id].append(_spec(item))
        data.texts[item.key] = ItemTexts(dict(item.prompt or {}), list(item.options or []))  # latest wins
    data.items = results.combine_items([versions[form_id] for form_id in form_ids])
    _read_answers(data, [row.id for row in attached], language)
    return data


def _read_answers(data: SurveyData, run_survey_ids: list[int], language: str | None) -> None:
    query = (
        select(
            SurveyResponse.id,
            SurveyResponse.language,
            SurveyResponse.submitted_on,
            RunSurvey.run_id,
            SurveyAnswer.item_key,
            SurveyAnswer.number,
            SurveyAnswer.choices,
            SurveyAnswer.text,
        )
        .join(RunSurvey, RunSurvey.id == SurveyResponse.run_survey_id)
        .outerjoin(SurveyAnswer, SurveyAnswer.response_id == SurveyResponse.id)
        .where(SurveyResponse.run_survey_id.in_(run_survey_ids))
        .order_by(SurveyResponse.id)
    )
    answers: dict[str, dict[str, results.Answer]] = {}
    heads: dict[str, tuple[str, Any, int]] = {}
    languages: set[str] = set()
    for row in db.session.execute(query):
        languages.add(row.language)
        if language and row.language != language:
            continue
        heads.setdefault(row.id, (row.language, row.submitted_on, row.run_id))
        given = answers.setdefault(row.id, {})
        if row.item_key is not None:
            given[row.item_key] = results.Answer(row.number, tuple(row.choices or ()), row.text)
    data.languages = sorted(languages)
    for response_id, (answer_language, submitted_on, run_id) in heads.items():
        data.responses.append(results.Response(answers[response_id], answer_language, submitted_on))
        data.response_runs.append(run_id)


def run_survey_data(run_id: int, language: str | None = None) -> dict[str, SurveyData]:
    """Both kinds of survey of one run (six statements)."""
    return {kind: _survey_data(kind, [run_id], language) for kind in KINDS}


def course_runs(course_id: int) -> list[CourseRun]:
    return list(
        db.session.scalars(
            select(CourseRun)
            .where(CourseRun.course_id == course_id)
            .order_by(CourseRun.starts_on, CourseRun.id)
        )
    )


def course_survey_data(runs: Sequence[CourseRun], kind: str, language: str | None = None) -> SurveyData:
    """One kind of survey over all the given runs of a course, combined by item key (three statements)."""
    return _survey_data(kind, [run.id for run in runs], language)


@dataclass(frozen=True)
class RateRow:
    """One group's response rate: figures or NOT_ENOUGH (fewer than five invited)."""

    dimension: str
    key: str | None
    invited: Any
    answered: Any
    rate: Any


def response_rates(
    kind: str, run_ids: Sequence[int], now: datetime | None = None
) -> dict[str, list[RateRow]]:
    """Answered / invited per run and by the invited person's sex and country and the enrolment's
    authority (one statement). Only invitations already opened count: a follow-up not yet due asks nobody."""
    rows: dict[str, list[RateRow]] = {dimension: [] for dimension in DIMENSIONS}
    if not run_ids:
        return rows
    moment = now or utcnow()
    query = (
        select(
            RunSurvey.run_id,
            User.sex,
            User.country_code,
            Enrolment.authority_id,
            func.count(SurveyInvitation.id).label("invited"),
            func.sum(case((SurveyInvitation.answered_on.is_not(None), 1), else_=0)).label("answered"),
        )
        .join(RunSurvey, and_(RunSurvey.id == SurveyInvitation.run_survey_id, RunSurvey.kind == kind))
        .join(Enrolment, Enrolment.id == SurveyInvitation.enrolment_id)
        .join(User, User.id == Enrolment.user_id)
        .where(RunSurvey.run_id.in_(run_ids), SurveyInvitation.opens_at <= moment)
        .group_by(RunSurvey.run_id, User.sex, User.country_code, Enrolment.authority_id)
    )
    totals: dict[str, dict[str | None, list[int]]] = {d: defaultdict(lambda: [0, 0]) for d in DIMENSIONS}
    for row in db.session.execute(query):
        keys = {"run": str(row.run_id), "sex": row.sex, "country": row.country_code,
                "authority": None if row.authority_id is None else str(row.authority_id)}  # fmt: skip
        for dimension, key in keys.items():
            totals[dimension][key][0] += int(row.invited)
            totals[dimension][key][1] += int(row.answered or 0)
    for dimension, groups in totals.items():
        for key in sorted(groups, key=lambda k: (k is None, k or "")):
            invited, answered = groups[key]
            rows[dimension].append(RateRow(dimension, key, *results.response_rate(answered, invited)))
    return rows


def total_rate(kind: str, run_ids: Sequence[int], rates: dict[str, list[RateRow]]) -> RateRow:
    """All the runs together, from the per-run rows' raw figures (no statement)."""
    del kind, run_ids
    invited = answered = 0
    for row in rates.get("run", []):
        if isinstance(row.invited, int):
            invited += row.invited
            answered += row.answered
    return RateRow("total", None, *results.response_rate(answered, invited))
