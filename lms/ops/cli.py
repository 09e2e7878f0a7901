"""`flask lms backup` and `flask lms restore`: thin wrappers over lms.ops.backup."""

from __future__ import annotations

from pathlib import Path

import click
from flask.cli import with_appcontext

from lms.ops.backup import BackupError, create_backup, read_manifest, restore_backup


@click.command("backup")
@with_appcontext
@click.option(
    "--output", "-o", type=click.Path(path_type=Path), default=None,
    help="Folder for a dated archive, or a .tar.gz path (default: instance/backups/).",
)  # fmt: skip
def backup_command(output: Path | None) -> None:
    """Write a consistent snapshot of the database and instance files (safe while the app runs)."""
    try:
        path = create_backup(output)
    except BackupError as error:
        raise click.ClickException(str(error)) from error
    counts = read_manifest(path)["row_counts"]
    click.echo(f"backup written: {path} ({len(counts)} tables, {sum(counts.values())} rows)")


@click.command("restore")
@with_appcontext
@click.argument("archive", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@click.option("--yes", is_flag=True, help="Do not ask for confirmation.")
def restore_command(archive: Path, yes: bool) -> None:
    """Replace the database and instance files by a backup's. Stop the web and job processes first."""
    if not yes:
        click.confirm("This replaces the current database and instance files. Continue?", abort=True)
    try:
        report = restore_backup(archive)
    except BackupError as error:
        raise click.ClickException(str(error)) from error
    click.echo(
        f"restored {sum(report.counts.values())} rows in {len(report.counts)} tables, {report.files} files"
    )
    click.echo(f"integrity: {report.integrity}")
    if not report.ok:
        for table, (expected, found) in sorted(report.mismatches.items()):
            click.echo(f"  {table}: expected {expected} rows, found {found}", err=True)
        raise click.ClickException("the restored data does not match the backup's manifest")
    click.echo("row counts match the backup")
