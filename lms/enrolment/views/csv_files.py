"""Admins and focal points: a run's CSV import (checked, written, or handed to the import job for a large
file), the job's progress page, and the CSV export."""

from __future__ import annotations

from flask import abort, flash, redirect, render_template, url_for
from flask_babel import gettext as _
from flask_login import current_user
from werkzeug.wrappers import Response

from lms.auth.access import allow
from lms.auth.models import Role
from lms.db import reads_before_writing
from lms.enrolment import (
    bulk_import,
    import_plan,
    import_snapshot,
)
from lms.enrolment import runs as course_runs
from lms.enrolment.csv_import import COLUMNS, parse_csv, write_csv
from lms.enrolment.forms import (
    ImportForm,
)
from lms.enrolment.models import (
    CourseRun,
    EnrolmentImport,
    ImportStatus,
)
from lms.enrolment.queued_import import commit_queued_import
from lms.enrolment.views.base import _focal_authority_ids, _refused, _run_or_404, bp
from lms.extensions import db
from lms.i18n import current_language
from lms.jobs.tasks import enqueue_import
from lms.unit_of_work import refusal_kept

IMPORT_PROGRESS_REFRESH_SECONDS = 3


@bp.route("/runs/<int:run_id>/import", methods=["GET", "POST"])
@allow(Role.ADMIN, Role.FOCAL_POINT)
@reads_before_writing  # a file is checked as a reader: the write lock is taken for the write only
def import_csv(run_id: int) -> Response | tuple[str, int]:
    course_run = _run_or_404(run_id)
    form = ImportForm()
    if not current_user.has_role(Role.ADMIN):
        form.mode.choices = [c for c in form.mode.choices or [] if getattr(c, "value", None) == "nominate"]
    report, status = None, 200
    if form.validate_on_submit():
        answer = _import_file(course_run, form)
        if isinstance(answer, Response):
            return answer
        report, status = answer
    elif form.errors:
        status = 422
    return render_template(
        "enrolment/import.html",
        run=course_run,
        form=form,
        report=report,
        columns=COLUMNS,
        limits=import_plan.SizeLimits.from_config(),
    ), status


def _import_file(
    course_run: CourseRun, form: ImportForm
) -> Response | tuple[import_plan.ImportReport | None, int]:
    """Check (and unless a dry run, write) the file: its report and the page's status, or the way to the
    progress page of a file large enough for the import job."""
    limits = import_plan.SizeLimits.from_config()
    data = form.file.data.read(limits.max_bytes + 1)  # no more than the bound says is needed
    rows, too_large = import_plan.check_size(data, limits)
    dry_run = not form.run_import.data
    mode = import_snapshot.ImportMode(form.mode.data)
    justification = form.justification.data or ""
    with refusal_kept() as refusal:
        if too_large is not None:
            report = import_plan.ImportReport(problems=[too_large])
        elif rows > limits.job_rows:
            return _start_import_job(
                course_run, data, form.file.data.filename, mode, justification, dry_run, rows
            )
        else:
            report = bulk_import.import_trainees(
                current_user, course_run, parsed=parse_csv(data), mode=mode,
                justification=justification, dry_run=dry_run,
            )  # fmt: skip
    if refusal.error is not None:
        return None, _refused(refusal)
    if report.written:  # committed by the service
        flash(_("Imported %(count)s row(s).", count=len(report.outcomes)), "success")
    elif not dry_run or too_large is not None:
        flash(_("Nothing was imported: correct the problems listed below and try again."), "error")
        return report, 422
    return report, 200


def _start_import_job(
    course_run: CourseRun,
    data: bytes,
    file_name: str | None,
    mode: import_snapshot.ImportMode,
    justification: str,
    dry_run: bool,
    rows: int,
) -> Response:
    """A large file: kept for the import job, and the person follows it on its progress page."""
    import_id = commit_queued_import(
        current_user, course_run, data, file_name, mode, justification,
        dry_run=dry_run, language=current_language(), rows=rows,
    )  # fmt: skip
    enqueue_import(import_id)
    return redirect(url_for("enrolment.import_progress", run_id=course_run.id, import_id=import_id), 303)


@bp.route("/runs/<int:run_id>/imports/<int:import_id>")
@allow(Role.ADMIN, Role.FOCAL_POINT)
def import_progress(run_id: int, import_id: int) -> tuple[str, int, dict[str, str]]:
    """A background import's progress and result, for the person who started it (and admins)."""
    course_run = _run_or_404(run_id)
    job = db.session.get(EnrolmentImport, import_id)
    if job is None or job.run_id != run_id:
        abort(404)
    if job.actor_id != current_user.id and not current_user.has_role(Role.ADMIN):
        abort(403)
    finished = job.status in (ImportStatus.DONE, ImportStatus.FAILED)
    # Without script the page still follows the job: the browser reloads it while it runs.
    headers = {} if finished else {"Refresh": str(IMPORT_PROGRESS_REFRESH_SECONDS)}
    return (
        render_template("enrolment/import_progress.html", run=course_run, job=job, finished=finished),
        200,
        headers,
    )


@bp.route("/runs/<int:run_id>/export.csv")
@allow(Role.ADMIN, Role.FOCAL_POINT)
def export_csv(run_id: int) -> Response:
    course_run = _run_or_404(run_id)
    ids = None if current_user.has_role(Role.ADMIN) else _focal_authority_ids()
    data = write_csv(course_runs.export_rows(course_run, ids), columns=(*COLUMNS, "status"))
    return Response(
        data,
        mimetype="text/csv; charset=utf-8",
        headers={"Content-Disposition": f'attachment; filename="run-{run_id}.csv"'},
    )
