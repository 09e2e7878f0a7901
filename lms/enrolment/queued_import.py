"""A large CSV file handed to the import job (the page lms/enrolment/views/csv_files.py import_csv)."""

from __future__ import annotations

from lms.auth.models import User
from lms.db import begin_writing
from lms.enrolment import bulk_import, import_snapshot
from lms.enrolment.models import CourseRun
from lms.extensions import db


def commit_queued_import(
    actor: User,
    run: CourseRun,
    data: bytes,
    file_name: str | None,
    mode: import_snapshot.ImportMode,
    justification: str,
    *,
    dry_run: bool,
    language: str,
    rows: int,
) -> int:
    """Keep the file for the import job and commit it now; returns the import's id for the caller to enqueue.

    The one commit inside this request, on purpose: the job reads the kept file on its own connection
    (in immediate mode it runs at once, inside the request), so the row must be committed before the
    job is enqueued. The page checked the file as a reader (@reads_before_writing): begin_writing ends
    that read, and the write lock is held for this insert only.
    """
    begin_writing()
    job = bulk_import.queue_import(
        actor, run, data, file_name, mode, justification, dry_run=dry_run, language=language, rows=rows
    )
    import_id = job.id
    db.session.commit()
    return import_id
