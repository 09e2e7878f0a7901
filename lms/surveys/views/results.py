"""Survey results (issue 21): a run's results, a course's results across runs and languages, the course's
results over time, and their CSV/XLSX downloads.

Admins and the trainers assigned to the course (`course_trainer`, lms/authoring/access.py) only: free
text is shown to them and to nobody else (focal points and trainees are refused these pages). Every
figure of a group of fewer than five responses is "not enough responses" (lms/surveys/results.py).
"""

from __future__ import annotations

from typing import Any

from flask import Response, abort, render_template

from lms.auth.access import allow
from lms.auth.models import Role
from lms.authoring.access import require_course_trainer
from lms.courses.models import Course
from lms.enrolment.models import CourseRun
from lms.extensions import db
from lms.i18n import current_language
from lms.request_input import refuse_unusable_filters
from lms.surveys import result_export, result_queries
from lms.surveys.results import NOT_ENOUGH, group_result
from lms.surveys.texts import localised
from lms.surveys.views import result_pages
from lms.surveys.views.base import bp


def _run_for_trainer(run_id: int) -> CourseRun:
    run = db.session.get(CourseRun, run_id) or abort(404)
    require_course_trainer(run.course_id)
    return run


def _course_for_trainer(course_id: int) -> Course:
    course = db.session.get(Course, course_id) or abort(404)
    require_course_trainer(course.id)
    return course


def _page(template: str, status: int = 200, **context: Any) -> tuple[str, int]:
    return render_template(template, not_enough=NOT_ENOUGH, language=current_language(), **context), status


@bp.route("/surveys/results/runs/<int:run_id>")
@allow(Role.TRAINER, Role.ADMIN)
def run_results(run_id: int) -> tuple[str, int]:
    run = _run_for_trainer(run_id)
    data = result_queries.run_survey_data(run.id)
    sections = [
        result_pages.section(data[kind], result_queries.response_rates(kind, [run.id]), [run])
        for kind in result_queries.KINDS
        if data[kind].attached
    ]
    return _page("surveys/results_run.html", run=run, course=run.course, sections=sections)


@bp.route("/surveys/results/courses/<int:course_id>")
@allow(Role.TRAINER, Role.ADMIN)
def course_results(course_id: int) -> tuple[str, int]:
    course = _course_for_trainer(course_id)
    form, kind, language, _period = result_pages.filter_form()
    runs = result_queries.course_runs(course.id)
    data = result_queries.course_survey_data(runs, kind, language)
    rates = result_queries.response_rates(kind, [run.id for run in runs])
    view = result_pages.section(data, rates, runs, per_run=True)
    return _page("surveys/results_course.html", 400 if form.errors else 200, course=course, form=form,
                 section=view, kind=kind, answer_language=language)  # fmt: skip


@bp.route("/surveys/results/courses/<int:course_id>/over-time")
@allow(Role.TRAINER, Role.ADMIN)
def course_results_over_time(course_id: int) -> tuple[str, int]:
    course = _course_for_trainer(course_id)
    form, kind, language, period = result_pages.filter_form()
    data = result_queries.course_survey_data(result_queries.course_runs(course.id), kind, language)
    periods, chart = result_pages.over_time(data, period)
    return _page("surveys/results_over_time.html", 400 if form.errors else 200, course=course, form=form,
                 periods=periods, chart=chart, kind=kind, attached=data.attached,
                 kind_title=result_pages.kind_title(kind), answer_language=language)  # fmt: skip


def _prompts(data: result_queries.SurveyData) -> dict[str, str]:
    return {key: localised(item.prompt, current_language()) for key, item in data.texts.items()}


@bp.route("/surveys/results/runs/<int:run_id>/export")
@allow(Role.TRAINER, Role.ADMIN)
def run_results_export(run_id: int) -> Response:
    run = _run_for_trainer(run_id)
    data = result_queries.run_survey_data(run.id)
    rows: list[list[Any]] = []
    for kind in result_queries.KINDS:
        if data[kind].attached:
            group = group_result(data[kind].items, data[kind].responses)
            rows += result_export.result_rows(kind, str(run.id), group, _prompts(data[kind]))
            rows += result_export.rate_rows(kind, str(run.id), result_queries.response_rates(kind, [run.id]))
    return result_pages.download(f"run-{run.id}-survey-results", result_export.RESULT_HEADER, rows)


@bp.route("/surveys/results/courses/<int:course_id>/export")
@allow(Role.TRAINER, Role.ADMIN)
def course_results_export(course_id: int) -> Response:
    course = _course_for_trainer(course_id)
    form, kind, language, _period = result_pages.filter_form()
    refuse_unusable_filters(form)
    runs = result_queries.course_runs(course.id)
    data = result_queries.course_survey_data(runs, kind, language)
    rows = list(
        result_export.result_rows(kind, "all", group_result(data.items, data.responses), _prompts(data))
    )
    for run_id, responses in data.by_run().items():
        rows += result_export.result_rows(
            kind, str(run_id), group_result(data.items, responses), _prompts(data)
        )
    rows += result_export.rate_rows(
        kind, "all", result_queries.response_rates(kind, [run.id for run in runs])
    )
    return result_pages.download(
        f"course-{course.id}-{kind}-survey-results", result_export.RESULT_HEADER, rows
    )
