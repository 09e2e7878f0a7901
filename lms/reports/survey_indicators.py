"""Survey indicators of the admin indicator report (issue 21): share of respondents satisfied
(end-of-course), share applying what they learned (follow-up), response rates; in total and by sex,
country, authority, modality and period, with the report's filters and suppression.

Two statements whatever the data size: the answers to the items that feed an indicator (with their
response's group attributes and run), and the invitations counted per group. Who counts as satisfied or
applying is decided by lms.surveys.results (pure); the suppression here is the report's
(lms.reports.indicators.suppress_count: "<N" for a count below the publication threshold, and whatever
could be worked back from it hidden with it), on top of the surveys' own floor: a figure from fewer than
five respondents, or a rate over fewer than five invited people, is "not enough responses" always.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta
from typing import Any

from flask_babel import gettext as _
from sqlalchemy import and_, case, extract, func, select
from sqlalchemy.sql import ColumnElement

from lms.auth.models import User
from lms.db import utcnow
from lms.enrolment.models import CourseRun, Enrolment
from lms.extensions import db
from lms.reports.forms import modality_choices
from lms.reports.indicator_queries import IndicatorFilters
from lms.reports.indicators import suppress_count
from lms.surveys import results
from lms.surveys.models import (
    RunSurvey,
    SurveyAnswer,
    SurveyInvitation,
    SurveyItem,
    SurveyKind,
    SurveyResponse,
)

DIMENSIONS = ("sex", "country", "authority", "modality", "period")
PERIODS = ("year", "quarter", "month")
Labeller = Callable[[str, str | None], str]  # the page's label for sex, country and authority keys


@dataclass
class SurveyCell:
    """Raw figures of one group: invitations and respondents per kind of survey."""

    invited: dict[str, int] = field(default_factory=lambda: defaultdict(int))  # kind -> invited
    answered: dict[str, int] = field(default_factory=lambda: defaultdict(int))  # kind -> answered
    satisfied: list[bool] = field(default_factory=list)  # one verdict per respondent with one
    applying: list[bool] = field(default_factory=list)


@dataclass
class SurveyTables:
    total: SurveyCell = field(default_factory=SurveyCell)
    breakdowns: dict[str, dict[str | None, SurveyCell]] = field(
        default_factory=lambda: {d: defaultdict(SurveyCell) for d in DIMENSIONS}
    )


@dataclass(frozen=True)
class SurveyRow:
    """A shown row: each figure a number, "<N" (a count hidden for publication) or results.NOT_ENOUGH."""

    label: str
    invited_end: Any
    answered_end: Any
    rate_end: Any
    respondents_satisfaction: Any
    share_satisfied: Any
    invited_follow_up: Any
    answered_follow_up: Any
    rate_follow_up: Any
    respondents_applied: Any
    share_applying: Any

    def values(self) -> list[Any]:
        return [
            self.label, self.invited_end, self.answered_end, self.rate_end, self.respondents_satisfaction,
            self.share_satisfied, self.invited_follow_up, self.answered_follow_up, self.rate_follow_up,
            self.respondents_applied, self.share_applying,
        ]  # fmt: skip


SURVEY_HEADER = (
    "breakdown", "group", "end_of_course_invited", "end_of_course_answered",
    "end_of_course_response_rate_percent", "satisfaction_respondents", "share_satisfied_percent",
    "follow_up_invited", "follow_up_answered", "follow_up_response_rate_percent", "applied_respondents",
    "share_applying_percent",
)  # fmt: skip


def period_key(day: date, period: str) -> str:
    if period == "year":
        return str(day.year)
    if period == "month":
        return results.month_of(day)
    return results.quarter_of(day)


def _start_of(day: date) -> datetime:
    return datetime.combine(day, time.min, tzinfo=UTC)


def _common(filters: IndicatorFilters, country: Any, authority: Any) -> list[ColumnElement[bool]]:
    pairs = ((CourseRun.id, filters.run_id), (CourseRun.course_id, filters.course_id),
             (CourseRun.modality, filters.modality or None), (country, filters.country_code or None),
             (authority, filters.authority_id))  # fmt: skip
    return [column == value for column, value in pairs if value is not None]


def _respondents(filters: IndicatorFilters, period: str, tables: SurveyTables) -> None:
    """Answers to the indicator items (one statement), one verdict per respondent and indicator."""
    conditions = _common(filters, SurveyResponse.country_code, SurveyResponse.authority_id)
    if filters.date_from is not None:
        conditions.append(SurveyResponse.submitted_on >= filters.date_from)
    if filters.date_to is not None:
        conditions.append(SurveyResponse.submitted_on <= filters.date_to)
    query = (
        select(
            SurveyResponse.id,
            SurveyResponse.sex,
            SurveyResponse.country_code,
            SurveyResponse.authority_id,
            SurveyResponse.submitted_on,
            CourseRun.modality,
            SurveyItem.key,
            SurveyItem.type,
            SurveyItem.indicator,
            SurveyItem.options,
            SurveyAnswer.number,
            SurveyAnswer.choices,
        )
        .join(RunSurvey, RunSurvey.id == SurveyResponse.run_survey_id)
        .join(CourseRun, CourseRun.id == RunSurvey.run_id)
        .join(SurveyAnswer, SurveyAnswer.response_id == SurveyResponse.id)
        .join(
            SurveyItem, and_(SurveyItem.form_id == RunSurvey.form_id, SurveyItem.key == SurveyAnswer.item_key)
        )
        .where(SurveyItem.indicator.is_not(None), *conditions)
        .order_by(SurveyResponse.id)
    )
    people: dict[str, tuple[dict[str, str | None], list[results.ItemSpec], dict[str, results.Answer]]] = {}
    for row in db.session.execute(query):
        keys = {"sex": row.sex, "country": row.country_code, "modality": row.modality,
                "authority": None if row.authority_id is None else str(row.authority_id),
                "period": period_key(row.submitted_on, period)}  # fmt: skip
        _keys, items, answers = people.setdefault(row.id, (keys, [], {}))
        options = row.options or []
        items.append(results.ItemSpec(
            row.key, row.type, row.indicator, tuple(str(o.get("key")) for o in options),
            positive=tuple(str(o.get("key")) for o in options if o.get("positive")),
        ))  # fmt: skip
        answers[row.key] = results.Answer(row.number, tuple(row.choices or ()))
    for keys, items, answers in people.values():
        cells = [tables.total, *(tables.breakdowns[d][k] for d, k in keys.items())]
        satisfied = results.respondent_satisfied(items, answers)
        applying = results.respondent_applying(items, answers)
        for cell in cells:
            if satisfied is not None:
                cell.satisfied.append(satisfied)
            if applying is not None:
                cell.applying.append(applying)


def _invitations(filters: IndicatorFilters, period: str, tables: SurveyTables, now: datetime) -> None:
    """Invitations already opened, counted per group and kind (one statement)."""
    opened = SurveyInvitation.opens_at
    conditions = _common(filters, User.country_code, Enrolment.authority_id)
    conditions.append(opened <= now)
    if filters.date_from is not None:
        conditions.append(opened >= _start_of(filters.date_from))
    if filters.date_to is not None:
        conditions.append(opened < _start_of(filters.date_to + timedelta(days=1)))
    groups = (
        RunSurvey.kind,
        User.sex,
        User.country_code,
        Enrolment.authority_id,
        CourseRun.modality,
        extract("year", opened),
        extract("month", opened),
    )
    query = (
        select(
            *groups,
            func.count(SurveyInvitation.id),
            func.sum(case((SurveyInvitation.answered_on.is_not(None), 1), else_=0)),
        )
        .join(RunSurvey, RunSurvey.id == SurveyInvitation.run_survey_id)
        .join(CourseRun, CourseRun.id == RunSurvey.run_id)
        .join(Enrolment, Enrolment.id == SurveyInvitation.enrolment_id)
        .join(User, User.id == Enrolment.user_id)
        .where(*conditions)
        .group_by(*groups)
    )
    for kind, sex, country, authority, modality, in_year, in_month, invited, answered in db.session.execute(
        query
    ):
        keys = {"sex": sex, "country": country, "modality": modality,
                "authority": None if authority is None else str(authority),
                "period": period_key(date(int(in_year), int(in_month), 1), period)}  # fmt: skip
        for cell in [tables.total, *(tables.breakdowns[d][k] for d, k in keys.items())]:
            cell.invited[kind] += int(invited)
            cell.answered[kind] += int(answered or 0)


def survey_tables(
    filters: IndicatorFilters, period: str = "quarter", now: datetime | None = None
) -> SurveyTables:
    tables = SurveyTables()
    period = period if period in PERIODS else "quarter"
    _respondents(filters, period, tables)
    _invitations(filters, period, tables, now or utcnow())
    return tables


def _rate(invited: int, answered: int, floor: int, threshold: int | None) -> tuple[Any, Any, Any]:
    """Invited, answered, rate: all "not enough responses" under the floor of invited people; in
    publication mode an answered count under the threshold is "<N" and the rate, which would give it
    back, is hidden with it."""
    if invited < floor:
        return results.NOT_ENOUGH, results.NOT_ENOUGH, results.NOT_ENOUGH
    shown = suppress_count(answered, threshold)
    rate = results.share(answered, invited)
    return invited, shown, (shown if isinstance(shown, str) else rate)


def _share(verdicts: list[bool], floor: int) -> tuple[Any, Any]:
    if len(verdicts) < floor:
        return results.NOT_ENOUGH, results.NOT_ENOUGH
    return len(verdicts), results.share(sum(verdicts), len(verdicts))


def survey_row(label: str, cell: SurveyCell, threshold: int | None = None) -> SurveyRow:
    """The shown figures of a group. The floor is five (results.MIN_GROUP), or the publication threshold
    when it is higher."""
    floor = max(results.MIN_GROUP, threshold or 0)
    end, follow = SurveyKind.END_OF_COURSE.value, SurveyKind.FOLLOW_UP.value
    return SurveyRow(
        label,
        *_rate(cell.invited[end], cell.answered[end], floor, threshold),
        *_share(cell.satisfied, floor),
        *_rate(cell.invited[follow], cell.answered[follow], floor, threshold),
        *_share(cell.applying, floor),
    )


def _label(dimension: str, key: str | None, person_label: Labeller) -> str:
    if dimension == "modality":
        labels = {choice.value: str(choice.label) for choice in modality_choices() if choice.value}
        return labels.get(key or "", key or _("Not recorded"))
    if dimension == "period":
        return key or _("Not recorded")
    return person_label(dimension, key)


@dataclass(frozen=True)
class SurveySection:
    total: SurveyRow
    breakdowns: dict[str, list[SurveyRow]]
    period: str
    hidden: Any = results.NOT_ENOUGH  # what a template compares a figure with ("not enough responses")


def _ordered(cells: dict[str | None, SurveyCell]) -> Iterable[tuple[str | None, SurveyCell]]:
    return sorted(cells.items(), key=lambda pair: (pair[0] is None, pair[0] or ""))


def survey_section(
    filters: IndicatorFilters, threshold: int | None, period: str | None, person_label: Labeller
) -> SurveySection:
    """What the page's survey part shows (two statements)."""
    chosen = period if period in PERIODS else "quarter"
    tables = survey_tables(filters, chosen)
    breakdowns = {
        dimension: [
            survey_row(_label(dimension, key, person_label), cell, threshold)
            for key, cell in _ordered(tables.breakdowns[dimension])
        ]
        for dimension in DIMENSIONS
    }
    return SurveySection(survey_row(_("All"), tables.total, threshold), breakdowns, chosen)


def survey_export_rows(section: SurveySection) -> list[list[Any]]:
    """The section as export rows: "not enough responses" as that text, never a number."""
    rows = [["total", *map(results.shown_text, section.total.values())]]
    for dimension, items in section.breakdowns.items():
        rows.extend([dimension, *map(results.shown_text, item.values())] for item in items)
    return rows
