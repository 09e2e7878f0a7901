"""`flask lms authoring export|import`: the same course folders the browser exports and imports."""

from __future__ import annotations

from pathlib import Path

import click
from sqlalchemy import select

from lms.authoring import course_folders, drafts, exporter
from lms.authoring.lesson_files import rerender_lessons
from lms.courses.models import Course
from lms.errors import LmsError
from lms.extensions import db
from lms.unit_of_work import unit_of_work


@click.group("authoring")
def authoring_group() -> None:
    """Course folders <-> courses edited in the browser."""


@authoring_group.command("export")
@click.argument("slug")
@click.argument("destination", type=click.Path(file_okay=False))
@click.option("--draft", is_flag=True, help="Export the draft instead of the published course.")
def export_command(slug: str, destination: str, draft: bool) -> None:
    """Write the course as DESTINATION/<slug>/ in the format `flask lms content sync` reads."""
    course = db.session.scalar(select(Course).where(Course.slug == slug))
    if course is None:
        raise click.ClickException(f"no course '{slug}'")
    folder = Path(destination) / slug
    if folder.exists() and any(folder.iterdir()):
        raise click.ClickException(f"{folder} exists and is not empty")
    with unit_of_work():  # exporting a draft may have created it
        exporter.write_folder(course_folders.export_files(course, draft=draft), folder)
    click.echo(f"{slug}: written to {folder}")


@authoring_group.command("import")
@click.argument("folder", type=click.Path(file_okay=False, exists=True))
def import_command(folder: str) -> None:
    """Create or update (and publish) a course from FOLDER, with its assets/. Refuses on any problem."""
    try:
        with unit_of_work():  # a refusal leaves the block rolled back
            course = course_folders.import_folder(Path(folder))
    except drafts.PublishRefused as error:
        for problem in error.problems:
            click.echo(problem, err=True)
        raise click.ClickException(error.message) from None
    except LmsError as error:
        raise click.ClickException(error.message) from None
    click.echo(f"{course.slug}: imported")


@authoring_group.command("render-lessons")
@click.argument("slugs", nargs=-1)
def render_lessons_command(slugs: tuple[str, ...]) -> None:
    """Render the stored HTML of every lesson again (of the courses SLUGS, or all), e.g. so that lessons
    published before image sizes were measured get `width`/`height` on their images."""
    query = select(Course).order_by(Course.slug)
    if slugs:
        query = query.where(Course.slug.in_(slugs))
    courses = list(db.session.scalars(query))
    missing = set(slugs) - {course.slug for course in courses}
    if missing:
        raise click.ClickException(f"no course {', '.join(sorted(missing))}")
    with unit_of_work():
        for course in courses:
            changed = rerender_lessons(course)
            click.echo(f"{course.slug}: {changed} lesson text(s) changed")
