"""Attaches each feature's click group under `flask lms`."""

from __future__ import annotations

import click
from flask import Flask

from lms.admin.cli import admin_group
from lms.audit.cli import audit_group
from lms.authoring.cli import authoring_group
from lms.certificates.cli import certificates_group
from lms.content.cli import content_group
from lms.demo.cli import demo_group
from lms.enrolment.cli import enrolment_group
from lms.jobs.cli import jobs_group
from lms.notifications.cli import mail_group
from lms.ops.cli import backup_command, restore_command
from lms.orgs.cli import orgs_group
from lms.packages.cli import packages_group
from lms.reports.cli import reports_group
from lms.sessions.cli import sessions_group
from lms.surveys.cli import surveys_group


@click.group("lms")
def lms_group() -> None:
    """Academy LMS administration commands."""


def register_cli(app: Flask) -> None:
    for group in (
        orgs_group, content_group, audit_group, certificates_group, mail_group, demo_group, admin_group,
        enrolment_group, jobs_group, authoring_group, backup_command, restore_command, reports_group,
        surveys_group, sessions_group, packages_group,
    ):  # fmt: skip
        if group.name not in lms_group.commands:
            lms_group.add_command(group)
    bench = optional_bench_group()
    if bench is not None and bench.name not in lms_group.commands:
        lms_group.add_command(bench)
    app.cli.add_command(lms_group)


def optional_bench_group() -> click.Group | None:
    """`flask lms bench` from the top-level `bench` package (bench/cli.py), or None where there is none.

    The benchmark tooling is not part of the runtime package and the wheel does not ship it. A checkout run
    from the project root has it (`FLASK_APP=lms` puts the root on sys.path, so does `python -m ...`); an
    installed deployment does not, and there the command is simply absent (docs/performance.md).
    """
    try:
        # Imported here: an optional development package that a deployment does not have.
        from bench.cli import bench_group
    except ModuleNotFoundError as error:
        if error.name not in ("bench", "bench.cli"):
            raise  # the bench package is there but something it needs is not: say so
        return None
    return bench_group
