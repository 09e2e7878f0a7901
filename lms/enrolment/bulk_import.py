"""Importing trainees from a CSV file without holding the academy's write lock while the file is checked.

The import used to run each row through the single-person services in a savepoint (a dozen queries and
a flush per row) inside the request's writing transaction: a 4,000-row file held SQLite's only write
lock for 46 s, and every trainee's write failed with "database is locked" meanwhile (issue 18). Now:

1. ``plan_import`` (import_plan.py, reading through import_snapshot.py) only reads (on SQLite a
   deferred transaction, which never blocks a writer). The people of the file are matched in a few
   set-based queries (addresses in chunks), the authorities, countries, the run's rules and seats and
   the people's places in the course in one query each; then every row is decided in Python, in file
   order, by the same rules as a single nomination or direct enrolment (lms.enrolment.rules: authority,
   eligibility, window, duplicates, seats), and the messages are written. A dry run ends here, having
   written nothing and locked nothing.
2. ``prepare_write`` (import_write.py), still outside the lock, makes every row of every table and
   converts it for the driver (lms.db.PreparedInsert), with ids chosen ahead, and hashes the audit
   records but for their link to the chain (lms.audit.services.PreparedEvents): most of the work.
3. ``write_plan`` (import_write.py) runs in one writing transaction of bulk statements: people, roles,
   changed people, places, their events, mail, audit records, indicator facts. It first reads again,
   under the lock, what the decisions depended on (``Snapshot``: the run, its rules and seats, the
   actor's roles, the matched people and their places; that no planned new address exists and no
   chosen id was taken); when something changed meanwhile, the plan is made again (``import_trainees``,
   here).

All or nothing holds as before: a problem in any row and nothing is written. Files larger than
``ENROLMENT_IMPORT_JOB_ROWS`` rows run as a background job (``run_queued_import``, the Huey task in
lms.jobs.tasks) whose progress the person who started it follows on a page; files over
``ENROLMENT_IMPORT_MAX_BYTES`` or ``ENROLMENT_IMPORT_MAX_ROWS`` are refused whole.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from typing import Any

from flask_babel import force_locale
from flask_babel import gettext as _
from sqlalchemy import update

from lms.auth.models import Role, User
from lms.db import reading_transactions, utcnow, writing_transactions
from lms.enrolment.csv_import import ParsedFile, RowProblem, parse_csv
from lms.enrolment.import_plan import ImportReport, plan_import
from lms.enrolment.import_snapshot import ImportMode
from lms.enrolment.import_write import (
    IdsTaken,
    PlanOutdated,
    PreparedWrite,
    prepare_write,
    table_of,
    write_plan,
)
from lms.enrolment.models import (
    CourseRun,
    EnrolmentImport,
    ImportStatus,
)
from lms.errors import Conflict, Forbidden, LmsError, NotFound
from lms.extensions import db

log = logging.getLogger(__name__)


PLAN_ATTEMPTS = 3  # plans made again when the data changed between the check and the write


PROBLEMS_KEPT = 500  # problems a background import keeps to show (all are counted)


def import_trainees(
    actor: User,
    run: CourseRun,
    parsed: ParsedFile,
    mode: ImportMode,
    justification: str,
    *,
    dry_run: bool,
) -> ImportReport:
    """Plan and (not a dry run, no problem) write, all or nothing: the page and the CLI.

    Unlike other services this one ends transactions itself, so that the write lock is held for the
    write alone: it rolls back the transaction the caller has open (which must hold nothing unsaved)
    so that the reads run as a reader, and commits the write. A view calling it is marked
    ``@reads_before_writing`` (lms.db), so that the request does not start as a writer either.
    """
    return _import(actor.id, run.id, parsed, mode, justification, dry_run=dry_run)


def _import(
    actor_id: int,
    run_id: int,
    parsed: ParsedFile,
    mode: ImportMode,
    justification: str,
    *,
    dry_run: bool,
    before_write: Callable[[], None] | None = None,
    before_commit: Callable[[ImportReport], None] | None = None,
) -> ImportReport:
    """``before_write`` runs when the plan is ready, ``before_commit`` inside the writing transaction
    (the job records its progress, and itself done together with the write)."""
    prepared: PreparedWrite | None = None
    for _attempt in range(PLAN_ATTEMPTS):
        db.session.rollback()
        with reading_transactions():
            actor = db.session.get(User, actor_id)
            run = db.session.get(CourseRun, run_id)
            if actor is None or run is None:
                raise NotFound(_("This course run does not exist."))
            plan = plan_import(actor, run, parsed, mode, justification, with_mail=not dry_run)
            if not dry_run and not plan.report.problems:
                prepared = prepare_write(plan)
            db.session.rollback()  # the reads end here; nothing was written
        if dry_run or plan.report.problems or prepared is None:
            return plan.report
        if before_write is not None:
            before_write()
        try:
            with writing_transactions():
                write_plan(plan, prepared)
                plan.report.written = True
                if before_commit is not None:
                    before_commit(plan.report)
                db.session.commit()
        except (PlanOutdated, IdsTaken):
            db.session.rollback()
            plan.report.written, plan.report.mail_ids = False, []
            log.info("import into run %s: the data changed while it was checked; checking again", run_id)
            continue
        return plan.report
    raise Conflict(
        _(
            "People or the course run kept changing while the file was being checked: nothing was "
            "imported. Try again."
        )
    )


def queue_import(
    actor: User,
    run: CourseRun,
    data: bytes,
    file_name: str | None,
    mode: ImportMode,
    justification: str,
    *,
    dry_run: bool,
    language: str,
    rows: int,
) -> EnrolmentImport:
    """Keep a large file for the import job; the caller commits, then enqueues the job
    (lms.jobs.tasks.import_trainees) with the row's id."""
    if mode == ImportMode.ENROL and not actor.has_role(Role.ADMIN):
        raise Forbidden(_("Only an administrator can enrol people directly."))
    job = EnrolmentImport(
        run_id=run.id,
        actor_id=actor.id,
        mode=mode,
        dry_run=dry_run,
        justification=justification,
        language=language,
        file_name=(file_name or "")[:255] or None,
        data=data,
        rows_total=rows,
    )
    db.session.add(job)
    db.session.flush()
    return job


def _record(import_id: int, **values: Any) -> None:
    """Progress, on a connection of its own in a short writing transaction: the job's reads go on."""
    table = table_of(EnrolmentImport)
    with writing_transactions(), db.engine.begin() as connection:
        connection.execute(update(table).where(table.c.id == import_id).values(**values))


def run_queued_import(import_id: int) -> list[int]:
    """The job's work: parse, check and write as the page does, recording progress on the import's row.

    Idempotent: an import already finished is left alone, and one that a stopped worker left half-way
    starts again (nothing is written before the one writing transaction, which also marks it done).
    The file is dropped when the import ends. Returns the ids of the mail queued."""
    with reading_transactions():
        job = db.session.get(EnrolmentImport, import_id)
        if job is None or job.status in (ImportStatus.DONE, ImportStatus.FAILED):
            db.session.rollback()
            return []
        data, actor_id, run_id, language = job.data or b"", job.actor_id, job.run_id, job.language
        mode, justification, dry_run = ImportMode(job.mode), job.justification, job.dry_run
        db.session.rollback()
    _record(import_id, status=ImportStatus.CHECKING, rows_checked=0)

    def progress(done: int, total: int) -> None:
        _record(import_id, rows_checked=done, rows_total=total)

    def writing() -> None:
        _record(import_id, status=ImportStatus.WRITING)

    def finish(report: ImportReport) -> None:  # inside the writing transaction
        table = table_of(EnrolmentImport)
        db.session.execute(update(table).where(table.c.id == import_id).values(_finished(report)))

    with force_locale(language):
        try:
            parsed = parse_csv(data, progress=progress)
            progress(len(parsed.rows), len(parsed.rows))
            report = _import(
                actor_id, run_id, parsed, mode, justification,
                dry_run=dry_run, before_write=writing, before_commit=finish,
            )  # fmt: skip
        except LmsError as error:
            db.session.rollback()
            report = ImportReport(problems=[RowProblem(0, error.message)])
        except Exception:
            db.session.rollback()
            stopped = _("The import stopped because of an error: nothing was imported. Try again.")
            failed = {"status": ImportStatus.FAILED, "data": None, "finished_at": utcnow()}
            _record(import_id, **failed, problems=[[0, stopped]], problem_count=1)
            raise
    if not report.written:  # a dry run, or problems: recorded on its own
        _record(import_id, **_finished(report))
    return report.mail_ids


def _finished(report: ImportReport) -> dict[str, Any]:
    """The import row once the job has ended: the counts and the first problems; the file dropped."""
    return {
        "status": ImportStatus.DONE,
        "summary": report.summary(),
        "problems": [[problem.row, problem.message] for problem in report.problems[:PROBLEMS_KEPT]],
        "problem_count": len(report.problems),
        "data": None,
        "finished_at": utcnow(),
    }
