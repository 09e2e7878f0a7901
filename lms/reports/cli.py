"""`flask lms bench generate --size S|M|L`: synthetic data for the benchmark (see docs/performance.md);
`flask lms reports rebuild-facts|check-facts`: the indicator report's fact table (lms/reports/facts.py)."""

from __future__ import annotations

from pathlib import Path

import click
from flask import current_app
from flask_migrate import stamp
from sqlalchemy import inspect

from lms.extensions import db
from lms.reports import facts
from lms.reports.bench.generate import SIZES, generate


@click.group("bench")
def bench_group() -> None:
    """Benchmark data (use a separate instance: LMS_INSTANCE_PATH=instance/bench-L)."""


@bench_group.command("generate")
@click.option("--size", type=click.Choice(sorted(SIZES)), default="S", show_default=True)
@click.option("--seed", type=int, default=7, show_default=True)
@click.option("--create-schema/--no-create-schema", default=True, help="Create missing tables first.")
def generate_command(size: str, seed: int, create_schema: bool) -> None:
    """Fill the database with realistic synthetic trainees, runs, completions and attempts (bulk inserts)."""
    if create_schema:
        empty = not inspect(db.engine).get_table_names()
        db.create_all()
        if empty:  # tables made from the models are the newest revision: later `flask db upgrade` works
            stamp()
    manifest = generate(size, Path(current_app.instance_path), seed=seed)
    click.echo(f"size {size}: {manifest['counts']} in {manifest['seconds']} s")


@click.group("reports")
def reports_group() -> None:
    """The indicator report's fact table."""


@reports_group.command("rebuild-facts")
def rebuild_facts_command() -> None:
    """Recompute every indicator fact from the live tables (after loading rows behind the app's back)."""
    count = facts.rebuild(db.session.connection())
    db.session.commit()
    click.echo(f"{count} indicator facts rebuilt")


@reports_group.command("check-facts")
def check_facts_command() -> None:
    """Compare the fact table with the live tables; exit 1 when they differ (then run rebuild-facts)."""
    stale = facts.differences(db.session.connection())
    if stale:
        click.echo(f"{len(stale)} places have stale indicator facts, e.g. enrolment {sorted(stale)[:10]}")
        raise SystemExit(1)
    click.echo("indicator facts match the live tables")
