"""The data generator writes what it says, with bulk inserts, and leaves a manifest for the runner.

The benchmark tooling is the top-level `bench` package, outside the runtime package (issue 19): `flask lms
bench` exists where it can be imported (a checkout) and is simply absent where it cannot (an installed wheel).
"""

from __future__ import annotations

import ast
import json
import sys
from pathlib import Path

import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import func, select

from bench import generate as generator
from bench import runner
from bench.runner import percentile, table
from lms.auth.models import User
from lms.cli import optional_bench_group
from lms.db import utcnow
from lms.enrolment.models import CourseRun, Enrolment, LessonCompletion
from lms.extensions import db
from lms.quizzes.models import AttemptStatus, Quiz, QuizAttempt
from lms.reports.indicator_queries import IndicatorFilters, indicator_tables
from lms.reports.training_indicators import training_tables
from lms.sessions.models import Attendance, TrainingSession
from tests.conftest import login

PROJECT_ROOT = Path(__file__).resolve().parents[1]


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
    # Runs with sessions (issue 20): sessions and attendance of their places, in bulk, counted.
    assert db.session.scalar(select(func.count(TrainingSession.id))) == counts["sessions"] >= 2
    assert db.session.scalar(select(func.count(Attendance.id))) == counts["attendance"] > 0
    lines = select(Attendance.enrolment_id).where(Attendance.status.in_(("present", "late", "left_early")))
    persons = db.session.scalar(
        select(func.count(func.distinct(Enrolment.user_id))).where(Enrolment.id.in_(lines))
    )
    trainings = training_tables(IndicatorFilters())
    assert trainings.total.trainings >= 1 and trainings.total.participants == persons > 0


def test_the_bench_trainer_may_read_the_report_it_loads(
    app: Flask, client: FlaskClient, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # Trainer pages answer only a trainer assigned to the course (issue 18): the runner's trainer
    # course report got 403 on every request until the generator assigned the bench trainer.
    monkeypatch.setitem(generator.SIZES, "T", generator.Size(trainees=20, runs=2, courses=1, completions=100,
                                                              attempts=20))  # fmt: skip
    monkeypatch.setattr(generator, "BENCH_TRAINEES", 1)
    manifest = generator.generate("T", tmp_path)
    trainer = db.session.scalar(select(User).where(User.email == manifest["trainer"]))
    assert trainer is not None
    login(client, trainer, manifest["password"])
    assert client.get(f"/reports/runs/{manifest['report_run_id']}").status_code == 200


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


def test_the_runner_finds_the_project_root() -> None:
    # It starts gunicorn there and rewrites docs/performance.md there.
    assert runner.PROJECT_ROOT == PROJECT_ROOT
    assert (runner.PROJECT_ROOT / "pyproject.toml").is_file()
    assert (runner.PROJECT_ROOT / "docs" / "performance.md").is_file()


def test_flask_lms_bench_generate_is_there_in_a_checkout(app: Flask) -> None:
    result = app.test_cli_runner().invoke(args=["lms", "bench", "generate", "--help"])
    assert result.exit_code == 0, result.output
    assert "--size [L|M|S|XL]" in result.output


def test_without_the_bench_package_the_command_is_absent(monkeypatch: pytest.MonkeyPatch) -> None:
    # What an installed wheel sees: `bench` cannot be imported.
    monkeypatch.delitem(sys.modules, "bench.cli", raising=False)
    monkeypatch.setitem(sys.modules, "bench", None)
    assert optional_bench_group() is None


def test_a_bench_package_missing_something_it_needs_says_so(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delitem(sys.modules, "bench.cli", raising=False)
    monkeypatch.setitem(sys.modules, "bench.generate", None)
    with pytest.raises(ModuleNotFoundError):
        optional_bench_group()


def test_the_runtime_package_does_not_hold_or_import_the_bench() -> None:
    assert not (PROJECT_ROOT / "lms" / "reports" / "bench").exists()
    importers = []
    for path in sorted((PROJECT_ROOT / "lms").rglob("*.py")):
        for node in ast.walk(ast.parse(path.read_text(), str(path))):
            names = (
                [alias.name for alias in node.names]
                if isinstance(node, ast.Import)
                else [node.module or ""]
                if isinstance(node, ast.ImportFrom) and node.level == 0
                else []
            )
            if any(name == "bench" or name.startswith("bench.") for name in names):
                importers.append(path.relative_to(PROJECT_ROOT).as_posix())
    assert importers == ["lms/cli.py"]  # optional_bench_group(), guarded


def test_the_report_names_the_sessions_of_the_data_set(tmp_path: Path) -> None:
    counts = {
        "trainees": 10,
        "runs": 2,
        "enrolments": 20,
        "completions": 50,
        "attempts": 5,
        "certificates": 1,
    }
    cases = (
        ({"sessions": 97, "attendance": 28362}, "97 training sessions, 28,362 attendance"),
        ({}, "0 training sessions, 0 attendance"),  # an instance generated before sessions existed
    )
    for extra, expected in cases:
        out = tmp_path / "performance.md"
        manifest = {"size": "S", "seconds": 1.0, "counts": counts | extra}
        runner.write_report(out, "| table |", manifest, 10.0, "load average 0.1 before, 0.1 after")
        assert expected in out.read_text()


def test_each_bench_run_starts_without_the_practice_attempts_of_earlier_runs(
    app: Flask, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """`make bench` runs `flask lms bench forget-practice-attempts` first: the quiz clients leave ~2,500
    attempts a run on the same accounts, and each run measured the submission slower than the last."""
    tiny = generator.Size(trainees=40, runs=4, courses=2, completions=400, attempts=80)
    monkeypatch.setitem(generator.SIZES, "T", tiny)
    monkeypatch.setattr(generator, "BENCH_TRAINEES", 2)
    manifest = generator.generate("T", tmp_path)
    practice = db.session.scalar(select(Quiz).where(Quiz.slug == manifest["quiz_slug"]))
    place = db.session.scalar(select(Enrolment).where(Enrolment.run_id.is_not(None)).limit(1))
    assert practice is not None and place is not None
    generated = db.session.scalar(select(func.count(QuizAttempt.id)))
    now = utcnow()
    db.session.add_all(
        QuizAttempt(enrolment_id=place.id, quiz_id=practice.id, number=n, status=AttemptStatus.SUBMITTED,
                    language="en", started_at=now, submitted_at=now, percent=50.0)
        for n in range(1, 4)
    )  # fmt: skip
    db.session.commit()
    assert db.session.scalar(select(func.count(QuizAttempt.id))) == generated + 3

    monkeypatch.setattr(app, "instance_path", str(tmp_path))
    result = app.test_cli_runner().invoke(args=["lms", "bench", "forget-practice-attempts"])
    assert result.exit_code == 0, result.output
    assert "3 practice attempts removed" in result.output
    assert db.session.scalar(select(func.count(QuizAttempt.id))) == generated  # the data set's stay
