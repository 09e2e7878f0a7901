"""`flask lms reports rebuild-facts|check-facts`: the indicator report's fact table (lms/reports/facts.py).

The benchmark's `flask lms bench generate` lives in the top-level `bench` package (bench/cli.py)."""

from __future__ import annotations

import click

from lms.extensions import db
from lms.reports import cells, facts
from lms.unit_of_work import unit_of_work


@click.group("reports")
def reports_group() -> None:
    """The indicator report's fact table."""


@reports_group.command("rebuild-facts")
def rebuild_facts_command() -> None:
    """Recompute every indicator fact and cell from the live tables (after writing rows behind the app's
    back)."""
    with unit_of_work():
        count = facts.rebuild(db.session.connection())
    click.echo(f"{count} indicator facts rebuilt")


@reports_group.command("check-facts")
def check_facts_command() -> None:
    """Compare the fact table with the live tables; exit 1 when they differ (then run rebuild-facts)."""
    stale = facts.differences(db.session.connection())
    if stale:
        click.echo(f"{len(stale)} places have stale indicator facts, e.g. enrolment {sorted(stale)[:10]}")
        raise SystemExit(1)
    wrong = cells.differences(db.session.connection())
    if wrong:
        click.echo(f"{len(wrong)} indicator cells differ from the facts, e.g. {wrong[:5]}")
        raise SystemExit(1)
    click.echo("indicator facts match the live tables, and the cells the facts")
