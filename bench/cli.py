"""`flask lms bench generate --size S|M|L`: synthetic data for the benchmark (see docs/performance.md).

Attached under `flask lms` by `lms.cli.register_cli` when the `bench` package is importable.
"""

from __future__ import annotations

import json
from pathlib import Path

import click
from flask import current_app
from flask_migrate import stamp
from sqlalchemy import delete, inspect, select

from bench.generate import SIZES, generate
from lms.courses.models import Course
from lms.extensions import db
from lms.quizzes.models import Quiz, QuizAttempt


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


@bench_group.command("forget-practice-attempts")
def forget_practice_attempts_command() -> None:
    """Remove the attempts earlier runs left on the bench's practice quiz (`make bench` runs this first).

    The quiz clients start and submit ~2,500 attempts a run on the same eight accounts; a quiz submission
    reads a person's attempts, so each run measured it slower than the last (525 req/s on a fresh data set,
    445 after ten runs: docs/performance.md). Every run now starts from the data set as generated."""
    manifest = json.loads((Path(current_app.instance_path) / "bench.json").read_text())
    practice = (
        select(Quiz.id)
        .join(Course, Quiz.course_id == Course.id)
        .where(Course.slug == manifest["course_slug"], Quiz.slug == manifest["quiz_slug"])
    )
    # The attempt's questions and answers go with it (ON DELETE CASCADE; SQLite's foreign keys are on).
    result = db.session.execute(delete(QuizAttempt).where(QuizAttempt.quiz_id.in_(practice)))
    db.session.commit()
    removed = result.rowcount  # type: ignore[attr-defined]
    if removed and db.engine.dialect.name == "postgresql":
        # PostgreSQL keeps the deleted rows until a vacuum: the next run's submissions read the person's
        # attempts through them (the quiz measured 205 req/s, then 131 in the run after, same code).
        with db.engine.connect().execution_options(isolation_level="AUTOCOMMIT") as connection:
            connection.exec_driver_sql("VACUUM ANALYZE quiz_attempt, attempt_question")
    click.echo(f"{removed} practice attempts removed")
