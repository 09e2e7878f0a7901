"""Reports: a trainer's course report per run, a focal point's report on their own staff, and the
admin's indicator report for donors. Read-only pages: parse the GET filters, query, render."""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass
from typing import Any

from flask import (
    Blueprint,
    Response,
    abort,
    current_app,
    render_template,
    request,
)
from flask.blueprints import BlueprintSetupState
from flask_babel import gettext as _
from flask_login import current_user
from markupsafe import Markup
from wtforms import SelectChoice

from lms.auth.access import PUBLIC, allow
from lms.auth.models import Role
from lms.authoring.access import require_course_trainer, trainer_course_ids
from lms.csv_export import csv_stream
from lms.enrolment.models import CourseRun
from lms.extensions import db
from lms.i18n import current_language
from lms.orgs.models import Authority
from lms.reports import indicator_queries, queries, survey_indicators, training_indicators
from lms.reports.charts import Bar, column_chart, horizontal_bars
from lms.reports.exports import xlsx_stream
from lms.reports.forms import IndicatorFilterForm, ProgressFilterForm, sort_choices
from lms.reports.indicators import (
    HOURS_PER_TRAINING_DAY,
    Indicators,
    age_band_label,
    completion_rate,
    indicators,
    suppress_count,
    suppressed_text,
)
from lms.reports.training_section import TRAINING_HEADER, training_export_rows, training_section
from lms.request_input import database_id, refuse_unusable_filters

bp = Blueprint("reports", __name__, url_prefix="/reports")


# --- The bench floor: only when BENCH_ROUTES is set (the benchmark's instance) --------------------------


@allow(PUBLIC)
def bench_floor() -> str:
    """The cheapest page the app can serve (no template, no query): the benchmark's 100%."""
    return "ok"


@bp.record_once
def _register_bench_routes(state: BlueprintSetupState) -> None:
    app = state.app
    if app.config.get("BENCH_ROUTES"):
        app.add_url_rule("/bench/floor", "bench_floor", bench_floor)


# --- Helpers ---------------------------------------------------------------------------------------------


def _args_without(*names: str) -> dict[str, str]:
    return {key: value for key, value in request.args.items() if key not in names and value}


def _progress_filters(form: ProgressFilterForm) -> queries.ProgressFilters:
    valid = form.validate()
    data = form.data if valid else {}
    authority = data.get("authority")
    return queries.ProgressFilters(
        authority_id=int(authority) if authority else None,
        country_code=data.get("country") or None,
        status=data.get("status") or None,
        stuck_days=(data.get("days") or 14) if data.get("view") == "stuck" else None,
        sort=data.get("sort") or "name",
        descending=data.get("order") == "desc",
        page=request.args.get("page", 1, type=int) or 1,
    )


def _fill_progress_choices(
    form: ProgressFilterForm, authorities: Iterable[Any], countries: dict[str, Any], with_course: bool
) -> None:
    language = current_language()
    form.authority.choices = [
        SelectChoice("", _("Any authority")),
        *(SelectChoice(str(a.id), a.name) for a in authorities),
    ]
    form.country.choices = [
        SelectChoice("", _("Any country")),
        *sorted(
            (SelectChoice(code, c.localized_name(language)) for code, c in countries.items()),
            key=lambda choice: choice.label,
        ),
    ]
    form.sort.choices = sort_choices(with_course)


@dataclass(frozen=True)
class ProgressSetup:
    form: ProgressFilterForm
    filters: queries.ProgressFilters
    authorities: list[Authority]


def _progress_setup(authority_ids: set[int], with_course: bool) -> ProgressSetup:
    """The filter set-up every progress report and its export share: the form on the GET arguments,
    choices of only the given authorities (and their countries), and the filters it yields."""
    authorities = queries.authorities_by_id(authority_ids)
    countries = queries.countries_by_code({a.country_code for a in authorities.values()})
    form = ProgressFilterForm(request.args)
    _fill_progress_choices(form, authorities.values(), countries, with_course)
    return ProgressSetup(form, _progress_filters(form), list(authorities.values()))


PROGRESS_HEADER = (
    "enrolment_id", "name", "email", "country", "authority", "course", "run", "status",
    "progress_percent", "lessons_done", "lessons_total", "last_activity", "completed_at",
)  # fmt: skip


def _progress_values(rows: Iterable[queries.ProgressRow]) -> Iterator[list[Any]]:
    for row in rows:
        yield [
            row.enrolment_id, row.name, row.email, row.country_code, row.authority_name, row.course_title,
            row.run_title, row.status, row.percent, row.lessons_done, row.lessons_total,
            row.last_activity_at, row.completed_at,
        ]  # fmt: skip


def _download(filename: str, header: Iterable[str], rows: Iterable[Iterable[Any]]) -> Response:
    """A streamed CSV (default) or XLSX (?format=xlsx): rows are written as the database yields them.

    Rows that come from the database are read through a session of their own (see
    queries.export_progress_rows), not the request's: the download outlives the request, and no Flask
    context is held open between chunks."""
    if request.args.get("format") == "xlsx":
        stream: Iterator[bytes] = xlsx_stream(header, rows)
        mimetype = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
        name = f"{filename}.xlsx"
    else:
        stream = csv_stream(header, rows)
        mimetype = "text/csv; charset=utf-8"
        name = f"{filename}.csv"
    response = Response(stream, mimetype=mimetype)
    response.headers["Content-Disposition"] = f'attachment; filename="{name}"'
    response.headers["X-Content-Type-Options"] = "nosniff"
    return response


# --- Index -----------------------------------------------------------------------------------------------


@bp.route("/")
@allow(Role.TRAINER, Role.FOCAL_POINT, Role.ADMIN)
def index() -> str:
    listings: list[queries.RunListing] = []
    page = pages = 1
    if current_user.has_role(Role.TRAINER, Role.ADMIN):
        listings, page, pages = queries.runs_page(
            request.args.get("page", 1, type=int) or 1, course_ids=trainer_course_ids()
        )
    return render_template(
        "reports/index.html", listings=listings, page=page, pages=pages, language=current_language()
    )


# --- Trainer: one run ------------------------------------------------------------------------------------


def _trainer_run(run_id: int) -> CourseRun:
    """The run, when the signed-in trainer is assigned to its course (or is an admin); 404/403 otherwise."""
    run = db.session.get(CourseRun, run_id) or abort(404)
    require_course_trainer(run.course_id)
    return run


def _run_setup(run: CourseRun) -> ProgressSetup:
    # Only the authorities (and their countries) that have people in this run: a trainer filters a
    # cohort, and 176 options on every page cost the page a fifth of its time.
    return _progress_setup(queries.run_authority_ids(run.id), with_course=False)


def _progress_page(template: str, setup: ProgressSetup, report: object, **context: Any) -> str:
    return render_template(
        template,
        form=setup.form,
        report=report,
        stuck=setup.filters.stuck_days is not None,
        args=_args_without("page"),
        export_args=_args_without("page", "format"),
        **context,
    )


@bp.route("/runs/<int:run_id>")
@allow(Role.TRAINER, Role.ADMIN)
def run_report(run_id: int) -> str:
    run = _trainer_run(run_id)
    setup = _run_setup(run)
    report = queries.run_progress(run, setup.filters)
    return _progress_page("reports/run.html", setup, report, run=run, course=run.course)


@bp.route("/runs/<int:run_id>/export")
@allow(Role.TRAINER, Role.ADMIN)
def run_export(run_id: int) -> Response:
    run = _trainer_run(run_id)
    filters = _run_setup(run).filters
    rows = _progress_values(queries.export_progress_rows(db.engine, queries.run_scope(run), filters))
    return _download(f"run-{run.id}-progress", PROGRESS_HEADER, rows)


# --- Focal point: their authority's staff ------------------------------------------------------------------


def _focal_authorities() -> set[int]:
    """The authorities this focal point acts for; asking for any other one is refused outright."""
    ids = set(current_user.focal_point_authority_ids())
    requested = request.args.get("authority", "")
    if not ids or (requested and database_id(requested) not in ids):
        abort(403)
    return ids


@bp.route("/authority")
@allow(Role.FOCAL_POINT)
def authority_report() -> str:
    ids = _focal_authorities()
    setup = _progress_setup(ids, with_course=True)
    report = queries.authority_progress(ids, setup.filters)
    return _progress_page("reports/authority.html", setup, report, authorities=setup.authorities)


@bp.route("/authority/export")
@allow(Role.FOCAL_POINT)
def authority_export() -> Response:
    ids = _focal_authorities()
    filters = _progress_setup(ids, with_course=True).filters
    rows = _progress_values(queries.export_progress_rows(db.engine, queries.authority_scope(ids), filters))
    return _download("authority-progress", PROGRESS_HEADER, rows)


# --- Admin: indicators -------------------------------------------------------------------------------------


@dataclass(frozen=True)
class IndicatorFilterState:
    filters: indicator_queries.IndicatorFilters
    threshold: int | None


def _indicator_form() -> tuple[IndicatorFilterForm, IndicatorFilterState, indicator_queries.FilterChoices]:
    form = IndicatorFilterForm(request.args)
    choices = indicator_queries.filter_choices(database_id(request.args.get("course")))
    language = current_language()
    form.course.choices = [
        SelectChoice("", _("Any course")),
        *(SelectChoice(str(i), t) for i, t in choices.courses),
    ]
    form.run.choices = [SelectChoice("", _("Any run")), *(SelectChoice(str(i), t) for i, t in choices.runs)]
    form.country.choices = [
        SelectChoice("", _("Any country")),
        *sorted(
            (SelectChoice(code, c.localized_name(language)) for code, c in choices.countries.items()),
            key=lambda choice: choice.label,
        ),
    ]
    form.authority.choices = [
        SelectChoice("", _("Any authority")),
        *(SelectChoice(str(a.id), a.name) for a in choices.authorities.values()),
    ]
    data = form.data if form.validate() else {}
    filters = indicator_queries.IndicatorFilters(
        date_from=data.get("date_from"),
        date_to=data.get("date_to"),
        course_id=int(data["course"]) if data.get("course") else None,
        run_id=int(data["run"]) if data.get("run") else None,
        country_code=data.get("country") or None,
        authority_id=int(data["authority"]) if data.get("authority") else None,
        modality=data.get("modality") or None,
    )
    threshold = (data.get("threshold") or 5) if data.get("suppress") else None
    return form, IndicatorFilterState(filters, threshold), choices


def _sex_label(key: str | None) -> str:
    return {"female": _("Female"), "male": _("Male"), "undisclosed": _("Not disclosed")}.get(
        key or "", _("Not recorded")
    )


def _dimension_label(dimension: str, key: str | None, choices: indicator_queries.FilterChoices) -> str:
    if dimension == "country":
        country = choices.countries.get(key or "")
        return country.localized_name(current_language()) if country else (key or _("Not recorded"))
    if dimension == "authority":
        authority = choices.authorities.get(int(key)) if key and key.isdigit() else None
        return authority.name if authority else _("No authority")
    if dimension == "sex":
        return _sex_label(key)
    return _("born %(band)s", band=age_band_label(key)) if key else _("Not recorded")


def _labeller(choices: indicator_queries.FilterChoices) -> Callable[[str, str | None], str]:
    return lambda dimension, key: _dimension_label(dimension, key, choices)


def _indicator_rows(
    tables: indicator_queries.IndicatorTables, choices: indicator_queries.FilterChoices, threshold: int | None
) -> tuple[Indicators, dict[str, list[Indicators]]]:
    total = indicators(_("All"), tables.total, threshold)
    breakdowns = {
        dimension: [
            indicators(_dimension_label(dimension, key, choices), cell, threshold) for key, cell in cells
        ]
        for dimension, cells in tables.breakdowns.items()
    }
    return total, breakdowns


INDICATOR_HEADER = (
    "breakdown", "group", "participants", "enrolments", "completions", "completed_persons",
    "completion_rate_percent", "certificates", "person_days", "pre_post_pairs", "pre_test_mean",
    "post_test_mean", "gain_points",
)  # fmt: skip


def _cache_seconds() -> int:
    return int(current_app.config.get("REPORTS_CACHE_SECONDS", indicator_queries.CACHE_SECONDS))


@dataclass(frozen=True)
class IndicatorCharts:
    """The bars of the three charts (also shown as tables beside them) and the charts' SVG."""

    months: list[Bar]
    by_country: list[Bar]
    by_sex: list[Bar]
    svg: dict[str, Markup]


def _indicator_charts(
    tables: indicator_queries.IndicatorTables, breakdowns: dict[str, list[Indicators]], threshold: int | None
) -> IndicatorCharts:
    months = [Bar(m, float(n), str(suppress_count(n, threshold))) for m, n in tables.completions_by_month]
    months = [Bar(b.label, 0.0 if b.text.startswith("<") else b.value, b.text) for b in months]
    by_country = []
    for (_key, cell), row in zip(tables.breakdowns["country"], breakdowns["country"], strict=True):
        rate = completion_rate(cell.completions, cell.enrolments)
        shown = row.completion_rate
        hidden = isinstance(shown, str)
        text = str(shown) if hidden else ("—" if rate is None else f"{rate}%")
        by_country.append(Bar(row.label, 0.0 if hidden or rate is None else rate, text))
    by_sex = [
        Bar(
            row.label,
            0.0 if isinstance(row.participants, str) else float(row.participants),
            str(row.participants),
        )
        for row in breakdowns["sex"]
    ]
    svg = {
        "months": column_chart(
            "chart-months",
            _("Completions over time"),
            _("Completed enrolments per month of completion; the numbers are in the table beside the chart."),
            months,
        ),
        "countries": horizontal_bars(
            "chart-countries",
            _("Completion rate by country"),
            _("Completed enrolments as a percentage of enrolments, per country of the participant."),
            by_country,
            maximum=100.0,
        ),
        "sex": horizontal_bars(
            "chart-sex",
            _("Participants by sex"),
            _("Unique persons holding a place, by sex; each bar has its own pattern."),
            by_sex,
            patterned=True,
        ),
    }
    return IndicatorCharts(months, by_country, by_sex, svg)


def _survey_section(
    state: IndicatorFilterState, choices: indicator_queries.FilterChoices
) -> survey_indicators.SurveySection:
    """The evaluation surveys' part of the page and its download (lms/reports/survey_indicators.py)."""
    period = request.args.get("period")
    return survey_indicators.survey_section(
        state.filters, state.threshold, period, lambda d, k: _dimension_label(d, k, choices)
    )


def _sex_arg() -> str | None:
    """The trainings' own sex filter (lms.reports.training_indicators.sex_filter checks it)."""
    return request.args.get("training_sex")


@bp.route("/indicators")
@allow(Role.ADMIN)
def indicators_report() -> tuple[str, int]:
    form, state, choices = _indicator_form()
    tables, computed_at = indicator_queries.cached_indicator_tables(state.filters, _cache_seconds())
    total, breakdowns = _indicator_rows(tables, choices, state.threshold)
    threshold = state.threshold
    charts = _indicator_charts(tables, breakdowns, threshold)
    trainings = training_indicators.cached_training_tables(state.filters, _cache_seconds(), _sex_arg())
    return render_template(
        "reports/indicators.html",
        form=form,
        total=total,
        breakdowns=breakdowns,
        months=charts.months,
        by_country=charts.by_country,
        by_sex=charts.by_sex,
        charts=charts.svg,
        threshold=threshold,
        computed_at=computed_at,
        cache_minutes=_cache_seconds() // 60,
        suppressed=suppressed_text(threshold) if threshold else None,
        hours_per_day=HOURS_PER_TRAINING_DAY,
        export_args=_args_without("format"),
        surveys=_survey_section(state, choices),
        trainings=training_section(trainings, threshold, form.period.data, _labeller(choices), _sex_arg()),
    ), (400 if form.errors else 200)  # a filter it could not use: the form says which


@bp.route("/indicators/export")
@allow(Role.ADMIN)
def indicators_export() -> Response:
    form, state, choices = _indicator_form()
    refuse_unusable_filters(form)
    tables, _computed_at = indicator_queries.cached_indicator_tables(state.filters, _cache_seconds())
    total, breakdowns = _indicator_rows(tables, choices, state.threshold)
    rows: list[list[Any]] = [["total", *total.values()]]
    for dimension, items in breakdowns.items():
        rows.extend([dimension, *item.values()] for item in items)
    trainings = training_indicators.cached_training_tables(state.filters, _cache_seconds(), _sex_arg())
    rows += training_export_rows(trainings, state.threshold, _labeller(choices))
    return _download("indicators", (*INDICATOR_HEADER, *TRAINING_HEADER), rows)


@bp.route("/indicators/surveys/export")
@allow(Role.ADMIN)
def survey_indicators_export() -> Response:
    """The survey indicators as CSV or XLSX: "not enough responses" is written as that text."""
    form, state, choices = _indicator_form()
    refuse_unusable_filters(form)
    rows = survey_indicators.survey_export_rows(_survey_section(state, choices))
    return _download("survey-indicators", survey_indicators.SURVEY_HEADER, rows)


ENROLMENT_HEADER = (
    "enrolment_id", "person_id", "country", "authority", "sex", "birth_year_band", "course", "run_id",
    "modality", "status", "enrolled_at", "completed_at",
)  # fmt: skip


@bp.route("/indicators/enrolments")
@allow(Role.ADMIN)
def enrolments_export() -> Response:
    """The data behind the indicators, one row per enrolment (pseudonymous ids, no names), streamed."""
    form, state, _choices = _indicator_form()
    refuse_unusable_filters(form)
    facts = indicator_queries.export_enrolment_facts(db.engine, state.filters)
    rows = (
        [f.enrolment_id, f.user_id, f.country_code, f.authority_code, f.sex, f.birth_year_band, f.course_slug,
         f.run_id, f.modality, f.status, f.enrolled_at, f.completed_at]
        for f in facts
    )  # fmt: skip
    return _download("enrolments", ENROLMENT_HEADER, rows)
