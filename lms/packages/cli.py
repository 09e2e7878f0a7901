"""`flask lms packages import <course-slug> <module-slug> <zip>`: a SCORM package into a published module."""

from __future__ import annotations

from pathlib import Path

import click
from sqlalchemy import select

from lms.courses.models import Course
from lms.db import writing_transactions
from lms.errors import LmsError
from lms.extensions import db
from lms.packages import queries
from lms.packages.services import import_package
from lms.unit_of_work import unit_of_work


@click.group("packages")
def packages_group() -> None:
    """SCORM 1.2 and 2004 packages (docs/packages.md)."""


@packages_group.command("import")
@click.argument("course_slug")
@click.argument("module_slug")
@click.argument("zip_path", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@click.option(
    "--slug", help="The package's short name (default: from its title); an existing one gets a new version."
)
def import_command(course_slug: str, module_slug: str, zip_path: Path, slug: str | None) -> None:
    """Import ZIP_PATH as a package of the module (or a new version of the package SLUG)."""
    try:
        with writing_transactions(), unit_of_work():  # SQLite: BEGIN IMMEDIATE (version numbers)
            course = db.session.scalar(select(Course).where(Course.slug == course_slug))
            if course is None:
                raise click.ClickException(f"no course '{course_slug}'")
            module = queries.module_by_slug(course.id, module_slug)
            if module is None:
                raise click.ClickException(f"no module '{module_slug}' in course '{course_slug}'")
            result = import_package(module, zip_path, actor=None, slug=slug)
            message = (
                f"{course_slug}/{result.package.slug}: {result.outcome}, version {result.version.number}, "
                f"SCORM {result.version.scorm_version}, {len(result.version.items)} item(s)"
            )
    except LmsError as error:
        raise click.ClickException(error.message) from None
    click.echo(message)
