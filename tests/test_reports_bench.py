"""The data generator writes what it says, with bulk inserts, and leaves a manifest for the runner."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from flask import Flask
from sqlalchemy import func, select

from lms.enrolment.models import CourseRun, Enrolment, LessonCompletion
from lms.extensions import db
from lms.quizzes.models import QuizAttempt
from lms.reports.bench import generate as generator
from lms.reports.bench.runner import percentile, table
from lms.reports.queries import IndicatorFilters, indicator_tables


def test_generate_a_tiny_data_set(app: Flask, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    tiny = generator.Size(trainees=40, runs=4, courses=2, completions=400, attempts=80)
    monkeypatch.setitem(generator.SIZES, "T", tiny)
    monkeypatch.setattr(generator, "BENCH_TRAINEES", 2)
    manifest = generator.generate("T", tmp_path)
    counts = manifest["counts"]
    assert counts["trainees"] == 40 and counts["runs"] == 4
    assert (
        counts["enrolments"]
        == db.session.scalar(
            select(func.count(Enrolment.id)).where(
                Enrolment.run_id.in_(select(CourseRun.id).where(CourseRun.is_default.is_(False)))
            )
        )
        == 80
    )  # completions / 5
    assert db.session.scalar(select(func.count(LessonCompletion.id))) >= counts["completions"] > 200
    assert db.session.scalar(select(func.count(QuizAttempt.id))) == counts["attempts"] > 0
    saved = json.loads((tmp_path / "bench.json").read_text())
    assert saved["trainees"] == ["bench-trainee-0@bench.test", "bench-trainee-1@bench.test"]
    assert saved["quiz_slug"] == "bench-practice" and saved["lesson_ids"]
    assert indicator_tables(IndicatorFilters()).total.participants > 0


def test_runner_table_and_percentiles() -> None:
    assert percentile([5.0, 1.0, 3.0, 2.0, 4.0], 0.5) == 3.0
    assert percentile([], 0.99) == 0.0
    rendered = table([
        {"route": "floor", "clients": 8, "requests": 100, "rps": 200.0, "p50": 1, "p95": 2, "p99": 3,
         "errors": 0, "locked": 0},
        {"route": "page", "clients": 8, "requests": 50, "rps": 50.0, "p50": 1, "p95": 2, "p99": 3,
         "errors": 0, "locked": 0},
    ])  # fmt: skip
    assert "| page | 8 | 50 | 50 | 0.25 |" in rendered
