"""`flask lms bench generate --size S|M|L`: synthetic data for the benchmark (see docs/performance.md).

Attached under `flask lms` by `lms.cli.register_cli` when the `bench` package is importable.
"""

from __future__ import annotations

from pathlib import Path

import click
from flask import current_app
from flask_migrate import stamp
from sqlalchemy import inspect

from bench.generate import SIZES, generate
from lms.extensions import db


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
