"""`flask lms sessions ...`: thin wrappers over the sessions feature's services."""

from __future__ import annotations

import click

from lms.db import writing_transactions
from lms.sessions.erasure import erase_due
from lms.unit_of_work import unit_of_work


@click.group("sessions")
def sessions_group() -> None:
    """Sessions of runs, calendars and international events."""


@sessions_group.command("erase-personal-data")
def erase_personal_data() -> None:
    """Erase the passport data and needs of international events whose retention time is over (the
    daily job does the same; safe to run again)."""
    with writing_transactions(), unit_of_work():
        erased = erase_due()
    for run in erased:
        click.echo(f"run {run.run_id}: details of {run.count} participants erased")
    click.echo(f"runs erased: {len(erased)}")
