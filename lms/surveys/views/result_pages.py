"""What the survey results pages show, built from the queries and the pure results (helpers of
lms.surveys.views.results, which stay thin): labelled distributions with their charts, rate tables with
group names, the over-time bars, and the CSV/XLSX download."""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass, field
from typing import Any

from flask import Response, abort, request
from flask_babel import gettext as _
from markupsafe import Markup
from sqlalchemy import select

from lms.config import LANGUAGE_NAMES
from lms.csv_export import csv_stream
from lms.enrolment.models import CourseRun
from lms.extensions import db
from lms.i18n import current_language, localized_number, localized_percent
from lms.orgs.models import Authority, Country
from lms.reports.charts import Bar, horizontal_bars
from lms.reports.exports import xlsx_stream
from lms.surveys import texts
from lms.surveys.models import SurveyKind
from lms.surveys.result_forms import ResultFilterForm
from lms.surveys.result_queries import RateRow, SurveyData
from lms.surveys.results import NOT_ENOUGH, GroupResult, ItemResult, by_period, group_result


def kind_title(kind: str) -> str:
    if kind == SurveyKind.FOLLOW_UP.value:
        return _("Follow-up survey")
    return _("End-of-course survey")


def not_enough_text() -> str:
    return _("Not enough responses")


@dataclass(frozen=True)
class ItemView:
    result: ItemResult
    prompt: str
    rows: list[tuple[str, int]]  # (point or option label, answers)
    chart: Markup | None
    ends: tuple[str, str] | None = None  # a rating item's end labels


@dataclass(frozen=True)
class RateView:
    label: str
    row: RateRow


@dataclass
class SectionView:
    kind: str
    title: str
    form_titles: list[str]
    group: GroupResult
    items: list[ItemView]
    rates: dict[str, list[RateView]] = field(default_factory=dict)
    runs: list[tuple[CourseRun, GroupResult, RateRow | None]] = field(default_factory=list)


def _point_labels(item_type: str, options: list[dict[str, Any]], language: str) -> dict[str, str]:
    if item_type == "agreement":
        return {c.key: f"{c.key} – {c.label}" for c in texts.choices("agreement", options, language)}
    if item_type in ("single", "multiple"):
        return {c.key: c.label for c in texts.choices(item_type, options, language)}
    return {}


def _item_view(kind: str, data: SurveyData, item: ItemResult, language: str) -> ItemView:
    item_texts = data.texts.get(item.key)
    options = item_texts.options if item_texts else []
    prompt = texts.localised(item_texts.prompt if item_texts else {}, language) or item.key
    ends = texts.rating_ends(options, language) if item.type == "rating" else None
    if item.distribution is None or item.distribution is NOT_ENOUGH:
        return ItemView(item, prompt, [], None, ends)
    labels = _point_labels(item.type, options, language)
    rows = [(labels.get(str(point), str(point)), count) for point, count in item.distribution]
    chart = horizontal_bars(
        f"chart-{kind}-{item.key}",
        prompt,
        _("Answers per point of the scale or option; the numbers are also in the table beside the chart."),
        [Bar(label, float(count), localized_number(count)) for label, count in rows],
    )
    return ItemView(item, prompt, rows, chart, ends)


def _group_names(rates: dict[str, list[RateRow]], runs: Sequence[CourseRun]) -> dict[tuple[str, str], str]:
    """Names of the groups in the rate tables (two statements: their countries and authorities)."""
    language = current_language()
    codes = {r.key for r in rates.get("country", []) if r.key}
    ids = {int(r.key) for r in rates.get("authority", []) if r.key and r.key.isdigit()}
    names: dict[tuple[str, str], str] = {("run", str(run.id)): run.title for run in runs}
    if codes:
        for country in db.session.scalars(select(Country).where(Country.code.in_(codes))):
            names[("country", country.code)] = country.localized_name(language)
    if ids:
        for authority in db.session.scalars(select(Authority).where(Authority.id.in_(ids))):
            names[("authority", str(authority.id))] = authority.name
    sexes = {"female": _("Female"), "male": _("Male"), "undisclosed": _("Not disclosed")}
    names.update({("sex", key): label for key, label in sexes.items()})
    return names


def _rate_views(rates: dict[str, list[RateRow]], runs: Sequence[CourseRun]) -> dict[str, list[RateView]]:
    names = _group_names(rates, runs)
    missing = {"authority": _("No authority")}
    return {
        dimension: [
            RateView(
                names.get((dimension, row.key or ""), row.key or missing.get(dimension, _("Not recorded"))),
                row,
            )
            for row in rows
        ]
        for dimension, rows in rates.items()
    }


def section(
    data: SurveyData,
    rates: dict[str, list[RateRow]],
    runs: Sequence[CourseRun],
    per_run: bool = False,
) -> SectionView:
    """One kind of survey over its scope: the group's results, item by item, and its response rates."""
    language = current_language()
    group = group_result(data.items, data.responses)
    items = [_item_view(data.kind, data, item, language) for item in group.items]
    titles = [texts.localised(title, language) for title in data.form_titles]
    view = SectionView(data.kind, kind_title(data.kind), titles, group, items, _rate_views(rates, runs))
    if per_run:
        by_run = data.by_run()
        rate_of = {row.key: row for row in rates.get("run", [])}
        view.runs = [
            (run, group_result(data.items, by_run.get(run.id, [])), rate_of.get(str(run.id))) for run in runs
        ]
    return view


@dataclass(frozen=True)
class PeriodView:
    label: str
    group: GroupResult


def over_time(data: SurveyData, period: str) -> tuple[list[PeriodView], Markup]:
    """Each period as a group of its own, and a chart of the share of respondents satisfied (end of
    course) or applying (follow-up) per period; a period under five responses shows the text instead."""
    periods = [PeriodView(label, group) for label, group in by_period(data.items, data.responses, period)]
    follow_up = data.kind == SurveyKind.FOLLOW_UP.value
    bars = []
    for item in periods:
        value = item.group.applying if follow_up else item.group.satisfied
        if value is NOT_ENOUGH:
            bars.append(Bar(item.label, 0.0, not_enough_text()))
        elif value is None:
            bars.append(Bar(item.label, 0.0, "—"))
        else:
            bars.append(Bar(item.label, float(value), localized_percent(value, 1)))
    title = _("Respondents applying what they learned") if follow_up else _("Respondents satisfied")
    chart = horizontal_bars(
        f"chart-{data.kind}-periods",
        title,
        _("Share of respondents per period; the numbers are also in the table below the chart."),
        bars,
        maximum=100.0,
    )
    return periods, chart


def filter_form() -> tuple[ResultFilterForm, str, str | None, str]:
    """The kind, language and period asked for; a value not on the lists is a form error (the page
    answers 400 and says which), and the defaults are used meanwhile."""
    form = ResultFilterForm(request.args)
    names = dict(LANGUAGE_NAMES)
    form.language.choices = [("", _("Any language")), *((code, names.get(code, code)) for code in names)]
    data = form.data if form.validate() else {}
    return (
        form,
        data.get("kind") or SurveyKind.END_OF_COURSE.value,
        data.get("language") or None,
        (data.get("period") or "quarter"),
    )


def download(filename: str, header: Iterable[str], rows: Iterable[Iterable[Any]]) -> Response:
    """A CSV (default) or XLSX (?format=xlsx) download through the academy's writers."""
    chosen = request.args.get("format", "csv")
    if chosen not in ("csv", "xlsx"):
        abort(400, description=_("Choose the format csv or xlsx."))
    if chosen == "xlsx":
        stream: Iterator[bytes] = xlsx_stream(header, rows, "Survey results")
        mimetype, name = (
            "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
            f"{filename}.xlsx",
        )
    else:
        stream, mimetype, name = csv_stream(header, rows), "text/csv; charset=utf-8", f"{filename}.csv"
    response = Response(stream, mimetype=mimetype)
    response.headers["Content-Disposition"] = f'attachment; filename="{name}"'
    response.headers["X-Content-Type-Options"] = "nosniff"
    return response
