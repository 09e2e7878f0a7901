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
        (admin, "/reports/indicators?date_from=2026-03-01&date_to=2026-12-31"),
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
            allowed = ("indicator_fact",) if url == UNFILTERED_INDICATORS else ()
            problems += [f"{url}: {line}" for line in full_scans(plan, allowed)]
    assert problems == []


def test_the_plan_check_catches_a_full_scan(app: Flask) -> None:
    build_world(_TEST_PASSWORD_HASH)
    placeholder = "%s" if db.session.connection().dialect.name == "postgresql" else "?"
    plan = explain(f"SELECT count(*) FROM enrolment WHERE language = {placeholder}", ("en",))  # noqa: S608  # fixed text
    assert full_scans(plan)  # no index on language: the check must say so
