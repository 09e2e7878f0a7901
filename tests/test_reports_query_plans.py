"""Every report query is served by an index: no full table scan of enrolment, lesson_completion,
quiz_attempt or indicator_fact (the tables that hold 200k, 1M, 200k and 200k rows on the bench data). The
plans are printed (`pytest -s`) so a reviewer can read them; a covering-index scan (the whole index read,
never the table) is allowed, and so is the one scan the unfiltered indicator report is built on: the whole
academy's fact table, read once in its primary-key order (lms/reports/facts.py)."""

from __future__ import annotations

import re
from collections.abc import Callable

from flask import Flask
from sqlalchemy import event

from lms.auth.models import Role, User
from lms.extensions import db
from tests.conftest import _TEST_PASSWORD_HASH, login
from tests.reports_support import build_world

HOT_TABLES = ("enrolment", "lesson_completion", "quiz_attempt", "indicator_fact")
UNFILTERED_INDICATORS = "/reports/indicators"
# A date range that keeps every fact of the test world: reading the whole table in order is the right
# plan for it, as for no filter at all (lms.reports.indicator_queries._date_range tells SQLite so).
WHOLE_RANGE_INDICATORS = "/reports/indicators?date_from=2026-03-01&date_to=2026-12-31"


def full_scans(plan_lines: list[str], allowed: tuple[str, ...] = ()) -> list[str]:
    bad = []
    for line in plan_lines:
        match = re.search(r"\bSCAN (\w+)", line)
        if (
            match
            and match.group(1) in HOT_TABLES
            and match.group(1) not in allowed
            and "COVERING INDEX" not in line
        ):
            bad.append(line)
    return bad


def explain(statement: str, parameters: object) -> list[str]:
    connection = db.session.connection()
    if connection.dialect.name == "postgresql":
        # The fixture's tables are tiny, and PostgreSQL's planner rightly prefers a sequential scan of a
        # few rows; turning that off asks whether an index *could* serve the query, as it must at scale.
        connection.exec_driver_sql("SET LOCAL enable_seqscan = off")
        rows = connection.exec_driver_sql("EXPLAIN " + statement, parameters).all()  # type: ignore[arg-type]
        return [row[0].replace("Seq Scan on", "SCAN") for row in rows]
    rows = connection.exec_driver_sql("EXPLAIN QUERY PLAN " + statement, parameters).all()  # type: ignore[arg-type]
    return [str(row[-1]) for row in rows]


def test_report_queries_use_indexes(app: Flask, make_user: Callable[..., User]) -> None:
    world = build_world(_TEST_PASSWORD_HASH, extra_trainees=5)
    admin = app.test_client()
    login(admin, make_user(Role.ADMIN, Role.TRAINER))
    focal = app.test_client()
    login(focal, make_user(Role.FOCAL_POINT, authority=world.a1))
    pages = [
        (admin, f"/reports/runs/{world.r1.id}?sort=progress&order=desc"),
        (admin, f"/reports/runs/{world.r1.id}?view=stuck&days=7&country=UA"),
        (focal, "/reports/authority?sort=last_activity"),
        (admin, UNFILTERED_INDICATORS),
        (
            admin,
            f"/reports/indicators?date_from=2026-03-01&date_to=2026-03-31&country=UA&course={world.course.id}",
        ),
        (admin, f"/reports/indicators?run={world.r1.id}&course={world.course.id}"),
        (admin, f"/reports/indicators?authority={world.a1.id}"),
        (admin, WHOLE_RANGE_INDICATORS),
        (admin, "/reports/indicators?country=MD"),
    ]
    captured: list[tuple[str, object]] = []

    def record(conn: object, cursor: object, statement: str, parameters: object, *rest: object) -> None:
        if statement.lstrip().upper().startswith("SELECT") or statement.lstrip().upper().startswith("WITH"):
            captured.append((statement, parameters))

    problems = []
    for client, url in pages:
        captured.clear()
        event.listen(db.engine, "before_cursor_execute", record)
        try:
            assert client.get(url).status_code == 200, url
        finally:
            event.remove(db.engine, "before_cursor_execute", record)
        for statement, parameters in captured:
            if not any(table in statement for table in HOT_TABLES):
                continue
            plan = explain(statement, parameters)
            print(f"\n{url}\n  {statement.splitlines()[0][:100]}...\n    " + "\n    ".join(plan))
            whole = url in (UNFILTERED_INDICATORS, WHOLE_RANGE_INDICATORS)
            allowed = ("indicator_fact",) if whole else ()
            problems += [f"{url}: {line}" for line in full_scans(plan, allowed)]
    assert problems == []


def test_the_plan_check_catches_a_full_scan(app: Flask) -> None:
    build_world(_TEST_PASSWORD_HASH)
    placeholder = "%s" if db.session.connection().dialect.name == "postgresql" else "?"
    plan = explain(f"SELECT count(*) FROM enrolment WHERE language = {placeholder}", ("en",))  # noqa: S608  # fixed text
    assert full_scans(plan)  # no index on language: the check must say so


def test_a_date_range_keeps_the_indicator_report_on_its_covering_indexes(app: Flask) -> None:
    """The usual donor question ("this quarter") must not make the report look up every fact row: the
    per-authority sums and the months are read from covering indexes (migration 20261203_0004); on L the
    lookups took the uncached report from 0.45 s to 0.8 s (a two-sided range: 1.2 s). SQLite names the
    index in its plan."""
    from datetime import date

    from lms.reports.indicator_queries import IndicatorFilters, grouped_indicator_tables

    build_world(_TEST_PASSWORD_HASH)
    if db.session.connection().dialect.name != "sqlite":
        return  # PostgreSQL's planner chooses by statistics the fixture cannot imitate
    captured: list[tuple[str, object]] = []

    def record(conn: object, cursor: object, statement: str, parameters: object, *rest: object) -> None:
        captured.append((statement, parameters))

    event.listen(db.engine, "before_cursor_execute", record)
    try:
        # (A range that keeps every fact is read from the stored cells instead: tests/test_reports_cells.py.)
        grouped_indicator_tables(IndicatorFilters(date_from=date(2026, 1, 1), date_to=date(2026, 12, 31)))
    finally:
        event.remove(db.engine, "before_cursor_execute", record)
    plan = explain(*captured[-1])
    print("\n".join(plan))
    assert any("COVERING INDEX ix_indicator_fact_authority" in line for line in plan), plan
    assert any("COVERING INDEX ix_indicator_fact_month" in line for line in plan), plan
