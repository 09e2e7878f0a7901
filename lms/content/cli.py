from __future__ import annotations

from pathlib import Path

import click
from flask import current_app

from lms.content.loader import load_all
from lms.content.services import sync_course
from lms.enrolment.runs import ensure_default_run
from lms.surveys.sync import SurveyFilesRefused, check_form_files, sync_forms
from lms.unit_of_work import unit_of_work


@click.group("content")
def content_group() -> None:
    """Course files in courses/ <-> the database."""


def _root(path: str | None) -> Path:
    return Path(path or current_app.config["COURSES_DIR"])


@content_group.command("check")
@click.option("--path", type=click.Path(file_okay=False), help="Folder of courses (default: courses/).")
def check(path: str | None) -> None:
    """Validate every course; print each problem as file:line: message."""
    specs, problems = load_all(_root(path))
    forms, form_problems = check_form_files(_root(path))  # courses/_surveys/ (lms/surveys/sync.py)
    problems += form_problems
    for problem in problems:
        click.echo(str(problem), err=True)
    if problems:
        raise click.ClickException(f"{len(problems)} problem(s) found")
    click.echo(f"{len(specs)} course(s) OK, {len(forms)} survey form(s) OK")


@content_group.command("sync")
@click.option("--path", type=click.Path(file_okay=False), help="Folder of courses (default: courses/).")
def sync(path: str | None) -> None:
    """Create or update courses from the files. Refuses to write anything if any course has a problem."""
    specs, problems = load_all(_root(path))
    problems += check_form_files(_root(path))[1]
    if problems:
        for problem in problems:
            click.echo(str(problem), err=True)
        raise click.ClickException(f"{len(problems)} problem(s) found; nothing was changed")
    try:
        with unit_of_work():
            for spec in specs:
                result = sync_course(spec)
                ensure_default_run(result.course)
                click.echo(f"{result.slug}: {result.outcome}")
            for form_result in sync_forms(_root(path)):  # the survey forms of courses/_surveys/
                click.echo(str(form_result))
    except SurveyFilesRefused as refused:
        for problem in refused.problems:
            click.echo(str(problem), err=True)
        raise click.ClickException(f"{len(refused.problems)} problem(s) found; nothing was changed") from None
