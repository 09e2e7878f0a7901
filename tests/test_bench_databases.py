"""The bench runner keeps the last SQLite and the last PostgreSQL run in blocks of their own and puts them
side by side in one table (issue 22: every route measured on both databases)."""

from __future__ import annotations

from pathlib import Path

import pytest

from bench import runner

MANIFEST = {"size": "S", "seconds": 1.0, "counts": {"trainees": 1, "runs": 1, "enrolments": 1,
            "completions": 1, "attempts": 1, "certificates": 1}}  # fmt: skip


def results(rps: float) -> list[dict[str, object]]:
    row = {"clients": 1, "requests": 10, "p50": 1.0, "p95": 2.0, "p99": 3.0, "errors": 0, "locked": 0}
    return [
        row | {"route": "floor (/bench/floor)", "rps": 1000.0},
        row | {"route": "lesson page", "rps": rps},
    ]


def test_each_database_has_its_block_and_both_share_a_table(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    output = tmp_path / "performance.md"
    output.write_text(
        "# Performance\n\n<!-- bench:start -->\nstale figures\n<!-- bench:end -->\n\nNotes stay.\n"
    )
    monkeypatch.delenv("LMS_SQLALCHEMY_DATABASE_URI", raising=False)
    runner.write_report(
        output, "sqlite table", MANIFEST, 10, "load average 1.0 before, 2.0 after", results(250)
    )
    monkeypatch.setenv("LMS_SQLALCHEMY_DATABASE_URI", "postgresql+psycopg://postgres@127.0.0.1/bench_s")
    runner.write_report(output, "pg table", MANIFEST, 10, "load average 3.0 before, 4.0 after", results(200))
    text = output.read_text()
    # Not "old": the report names the machine's CPU, and "Xeon(R) Gold" holds it.
    assert "stale figures" not in text and "Notes stay." in text
    assert "sqlite table" in text and "pg table" in text and "SQLite (WAL);" in text and "PostgreSQL;" in text
    both = text.split("<!-- bench-both:start -->", 1)[1].split("<!-- bench-both:end -->", 1)[0]
    assert "| lesson page | 250 | 0.25 | 1.0 | 3.0 | 200 | 0.20 | 1.0 | 3.0 |" in both
    assert "load 1.0 before, 2.0 after" in both and "load 3.0 before, 4.0 after" in both
