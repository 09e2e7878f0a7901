"""`flask lms surveys check|sync`: the survey form files of courses/_surveys/ (docs/surveys.md)."""

from __future__ import annotations

from pathlib import Path

import click
from flask import current_app

from lms.db import writing_transactions
from lms.surveys.invitations import send_due
from lms.surveys.sync import SurveyFilesRefused, check_form_files, sync_forms
from lms.unit_of_work import unit_of_work


@click.group("surveys")
def surveys_group() -> None:
    """Survey forms: the files in courses/_surveys/ <-> the database."""


def _courses(path: str | None) -> Path:
    return Path(path or current_app.config["COURSES_DIR"])


@surveys_group.command("check")
@click.option("--path", type=click.Path(file_okay=False), help="Folder of courses (default: courses/).")
def check(path: str | None) -> None:
    """Validate every survey form file; print each problem as file:line: message."""
    specs, problems = check_form_files(_courses(path))
    for problem in problems:
        click.echo(str(problem), err=True)
    if problems:
        raise click.ClickException(f"{len(problems)} problem(s) found")
    click.echo(f"{len(specs)} survey form(s) OK")


@surveys_group.command("sync")
@click.option("--path", type=click.Path(file_okay=False), help="Folder of courses (default: courses/).")
def sync(path: str | None) -> None:
    """Create or update the survey forms from their files; a problem in any file changes nothing."""
    try:
        with unit_of_work():
            results = sync_forms(_courses(path))
    except SurveyFilesRefused as refused:
        for problem in refused.problems:
            click.echo(str(problem), err=True)
        raise click.ClickException(f"{len(refused.problems)} problem(s) found; nothing was changed") from None
    for result in results:
        click.echo(str(result))


@surveys_group.command("send-due")
def send_due_command() -> None:
    """Follow-up invitations that are due, invitation mails not sent yet, one reminder (what the hourly
    job does; safe to run at any time: nothing is created or mailed twice)."""
    with writing_transactions(), unit_of_work():  # SQLite: BEGIN IMMEDIATE, beside the web's writers
        outcome = send_due()
    click.echo(
        f"{outcome.created} follow-up invitation(s) created, {outcome.invited} invitation(s) and "
        f"{outcome.reminded} reminder(s) queued, {outcome.failed} failed"
    )
