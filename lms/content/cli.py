from __future__ import annotations

from pathlib import Path

import click
from flask import current_app

from lms.content.loader import load_all
from lms.content.services import sync_course
from lms.enrolment.runs import ensure_default_run
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
    for problem in problems:
        click.echo(str(problem), err=True)
    if problems:
        raise click.ClickException(f"{len(problems)} problem(s) found")
    click.echo(f"{len(specs)} course(s) OK")


@content_group.command("sync")
@click.option("--path", type=click.Path(file_okay=False), help="Folder of courses (default: courses/).")
def sync(path: str | None) -> None:
    """Create or update courses from the files. Refuses to write anything if any course has a problem."""
    specs, problems = load_all(_root(path))
    if problems:
        for problem in problems:
            click.echo(str(problem), err=True)
        raise click.ClickException(f"{len(problems)} problem(s) found; nothing was changed")
    with unit_of_work():
        for spec in specs:
            result = sync_course(spec)
            ensure_default_run(result.course)
            click.echo(f"{result.slug}: {result.outcome}")
