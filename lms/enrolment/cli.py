"""`flask lms enrolment ...`: run-start reminders and CSV import, thin wrappers over the services."""

from __future__ import annotations

from pathlib import Path

import click

from lms.auth.services import find_user_by_email
from lms.db import writing_transactions
from lms.enrolment import runs
from lms.enrolment.bulk_import import import_trainees
from lms.enrolment.csv_import import parse_csv
from lms.enrolment.import_plan import SizeLimits, check_size
from lms.enrolment.import_snapshot import ImportMode
from lms.enrolment.models import CourseRun
from lms.extensions import db
from lms.notifications.services import send_due_mail
from lms.unit_of_work import unit_of_work


@click.group("enrolment")
def enrolment_group() -> None:
    """Course runs, nominations and enrolments."""


@enrolment_group.command("remind-run-start")
@click.option(
    "--days", default=7, show_default=True, help="Remind about runs starting within this many days."
)
def remind_run_start(days: int) -> None:
    """Mail everyone enrolled in a run that starts soon (once per run), then send the queue."""
    with writing_transactions():
        with unit_of_work():
            queued = runs.remind_run_start(days_ahead=days)
        # After the commit, outside the unit of work: send_due_mail claims each message in its own
        # short transaction, committed before the SMTP call (a crash never sends one twice).
        sent, failed = send_due_mail()
    click.echo(f"reminders queued: {queued}; sent: {sent}, failed (will retry): {failed}")


@enrolment_group.command("import")
@click.argument("run_id", type=int)
@click.argument("csv_file", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@click.option("--as", "actor_email", required=True, help="Email of the admin or focal point importing.")
@click.option("--mode", type=click.Choice([m.value for m in ImportMode]), default="nominate")
@click.option("--justification", required=True)
@click.option("--dry-run/--write", default=True, show_default=True)
def import_command(
    run_id: int, csv_file: Path, actor_email: str, mode: str, justification: str, dry_run: bool
) -> None:
    """Import trainees from a CSV file into a run (all or nothing; a dry run by default).

    The file is checked without holding the write lock; the write is one short transaction."""
    actor = find_user_by_email(actor_email)
    run = db.session.get(CourseRun, run_id)
    if actor is None or run is None:
        raise click.ClickException("unknown user or run")
    data = csv_file.read_bytes()
    _rows, too_large = check_size(data, SizeLimits.from_config())
    if too_large is not None:
        raise click.ClickException(too_large.message)
    # Not in a unit of work: import_trainees checks the file with no lock held and writes it in its
    # own one short transaction (all or nothing); the mail it queued is sent after that commit.
    report = import_trainees(actor, run, parse_csv(data), ImportMode(mode), justification, dry_run=dry_run)
    if report.written:
        send_due_mail()
    for outcome in report.outcomes:
        click.echo(f"row {outcome.row}: {outcome.email} ({outcome.account}) -> {outcome.status}")
    for problem in report.problems:
        click.echo(f"row {problem.row}: {problem.message}", err=True)
    if report.problems:
        raise click.ClickException("nothing was imported")
    click.echo(f"imported {len(report.outcomes)} row(s)" if report.written else "dry run: nothing written")
