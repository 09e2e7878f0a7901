"""The whole academy's indicator cells (lms/reports/cells.py, issue 22) give the same figures as grouping
the facts, after any mix of writes, and the unfiltered report reads them in a fixed number of statements
whatever the data size."""

from __future__ import annotations

import importlib.util
import math
import random
import re
from dataclasses import asdict
from datetime import date
from pathlib import Path
from types import ModuleType
from typing import Any

import pytest
from flask import Flask
from sqlalchemy import event, select

from lms.auth.models import User
from lms.enrolment.models import Enrolment, EnrolmentStatus, LessonCompletion
from lms.extensions import db
from lms.quizzes.models import QuizAttempt
from lms.reports import cells, facts
from lms.reports.indicator_queries import (
    IndicatorFilters,
    IndicatorTables,
    grouped_indicator_tables,
    indicator_tables,
)
from lms.reports.models import IndicatorCell
from tests.conftest import _TEST_PASSWORD_HASH
from tests.reports_support import World, _person, add_trainees, at, build_world

MIGRATION = Path(__file__).parent.parent / "migrations" / "versions" / "20261205_0013_indicator_speed.py"
WHOLE = IndicatorFilters()


@pytest.fixture
def world(app: Flask) -> World:
    return build_world(_TEST_PASSWORD_HASH)


def same(fast: IndicatorTables, direct: IndicatorTables) -> None:
    """Equal figures; percent sums within float rounding (a cell kept by differences)."""

    def flat(tables: IndicatorTables) -> list[tuple[str, object, str, float]]:
        rows = [("total", "", name, value) for name, value in asdict(tables.total).items()]
        for dimension, items in tables.breakdowns.items():
            rows += [(dimension, key, n, v) for key, cell in items for n, v in asdict(cell).items()]
        return rows + [("month", month, "completions", n) for month, n in tables.completions_by_month]

    left, right = flat(fast), flat(direct)
    assert [row[:3] for row in left] == [row[:3] for row in right]
    for (*where, a), (*_, b) in zip(left, right, strict=True):
        assert math.isclose(a, b, rel_tol=1e-9, abs_tol=1e-9), (where, a, b)


def check() -> None:
    db.session.flush()
    db.session.expire_all()
    assert cells.differences(db.session.connection()) == []
    same(indicator_tables(WHOLE), grouped_indicator_tables(WHOLE))


def test_random_writes_keep_the_cells_equal_to_the_facts(world: World) -> None:
    rng = random.Random(22)  # noqa: S311 — test data, not security
    add_trainees(world, 12, _TEST_PASSWORD_HASH)
    people = list(db.session.scalars(select(User).where(User.email.like("%@report.test"))))
    for extra in range(4):  # persons without a country, sex or band, with places at the other authority
        person = _person(f"y{extra}", world.a2, "undisclosed", None, _TEST_PASSWORD_HASH)
        person.country_code = None
        people.append(person)
    db.session.flush()
    runs, quizzes = [world.r1, world.r2], world.quizzes
    for step in range(60):
        action = rng.randrange(6)
        places = list(db.session.scalars(select(Enrolment)))
        place = rng.choice(places)
        if action == 0:  # a new place (or nothing when the person already holds both)
            person, run = rng.choice(people), rng.choice(runs)
            held = select(Enrolment.id).where(Enrolment.user_id == person.id, Enrolment.run_id == run.id)
            if db.session.scalar(held) is None:
                authority = rng.choice([world.a1.id, world.a2.id, None])
                day = at(rng.randrange(1, 28))
                db.session.add(Enrolment(run_id=run.id, user_id=person.id, status="enrolled",
                                         authority_id=authority, enrolled_at=day))  # fmt: skip
        elif action == 1:  # completed, withdrawn or enrolled again
            place.status = rng.choice(list(EnrolmentStatus))
            place.completed_at = at(rng.randrange(1, 28), rng.randrange(3, 9))
        elif action == 2:  # the person's profile
            person = rng.choice(people)
            person.sex = rng.choice(["female", "male", None])
            person.country_code = rng.choice(["UA", "MD", None])
            person.birth_year_band = rng.choice(["1970-1979", "1990-1999", None])
        elif action == 3:  # a finished pre- or post-test
            role = rng.choice(["pre_test", "post_test", "final"])
            db.session.add(QuizAttempt(enrolment_id=place.id, quiz_id=quizzes[role].id, number=50 + step,
                                       status="submitted", percent=rng.uniform(0, 100) * 1.0, score=1,
                                       max_score=1, submitted_at=at(9)))  # fmt: skip
        elif action == 4:  # the place's authority
            place.authority_id = rng.choice([world.a1.id, world.a2.id, None])
        else:  # a place deleted (one made here, without attempts: the others have rows pointing at them)
            tested = select(QuizAttempt.enrolment_id)
            bare = select(Enrolment).where(
                Enrolment.id.not_in(tested), Enrolment.id > world.enrolments["p4r2"].id
            )
            for doomed in db.session.scalars(
                bare.where(Enrolment.id.not_in(select(LessonCompletion.enrolment_id))).limit(1)
            ):
                db.session.delete(doomed)
        if step % 5 == 4:
            check()
    check()
    assert indicator_tables(WHOLE).total.participants > 4


def test_a_date_range_that_keeps_everything_is_read_from_the_cells(world: World) -> None:
    for filters in (IndicatorFilters(date_to=date(2099, 1, 1)), IndicatorFilters(date_from=date(2026, 1, 1))):
        same(indicator_tables(filters), grouped_indicator_tables(filters))
    # A range that keeps part of the facts, and any other filter, is grouped from the facts.
    part = IndicatorFilters(date_from=date(2026, 3, 4))
    assert indicator_tables(part).total.enrolments == grouped_indicator_tables(part).total.enrolments == 2
    by_country = IndicatorFilters(country_code="MD")
    assert indicator_tables(by_country).total.participants == 1


def statements_of_the_whole_report() -> list[tuple[str, Any]]:
    seen: list[tuple[str, Any]] = []

    def record(conn: object, cursor: object, statement: str, parameters: Any, *rest: object) -> None:
        if statement.lstrip().upper().startswith("SELECT"):
            seen.append((statement, parameters))

    engine = db.session.get_bind()
    event.listen(engine, "before_cursor_execute", record)
    try:
        indicator_tables(IndicatorFilters(date_to=date(2099, 1, 1)))
    finally:
        event.remove(engine, "before_cursor_execute", record)
    return seen


def test_the_whole_report_reads_the_cells_in_two_statements_whatever_the_size(world: World) -> None:
    small = statements_of_the_whole_report()
    add_trainees(world, 30, _TEST_PASSWORD_HASH)
    large = statements_of_the_whole_report()
    assert len(small) == len(large) == 2  # the first and last enrolment date, then the cells
    assert "indicator_cell" in large[1][0] and "indicator_fact" not in large[1][0]
    if db.session.get_bind().dialect.name == "sqlite":  # the dates from an index alone (the plan)
        connection = db.session.connection()
        for statement, parameters in large:
            rows = connection.exec_driver_sql("EXPLAIN QUERY PLAN " + statement, parameters)
            plan = " ".join(str(row[-1]) for row in rows)
            assert "SCAN indicator_fact" not in plan or "COVERING INDEX" in plan, plan


def _migration() -> ModuleType:
    spec = importlib.util.spec_from_file_location("indicator_speed_migration", MIGRATION)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_the_migrations_first_fill_equals_the_rebuild(world: World) -> None:
    connection = db.session.connection()
    connection.execute(cells.CELL.delete())
    for statement in _migration().fill_statements():
        connection.exec_driver_sql(statement)
    db.session.expire_all()
    assert cells.differences(connection) == []
    assert db.session.get(IndicatorCell, ("total", "", 0)) is not None
    facts.rebuild(connection)
    assert cells.differences(connection) == []


def refresh_statements(place: Enrolment) -> list[tuple[str, Any]]:
    seen: list[tuple[str, Any]] = []

    def record(conn: object, cursor: object, statement: str, parameters: Any, *rest: object) -> None:
        seen.append((statement, parameters))

    engine = db.session.get_bind()
    event.listen(engine, "before_cursor_execute", record)
    try:
        facts.refresh(db.session.connection(), enrolments=[place.id])
    finally:
        event.remove(engine, "before_cursor_execute", record)
    return seen


def test_one_places_refresh_is_a_fixed_number_of_indexed_statements(world: World) -> None:
    """The writer pays for the cells in a few statements whatever the academy's size, each on an index."""
    place = world.enrolments["p2r1"]
    small = refresh_statements(place)
    add_trainees(world, 30, _TEST_PASSWORD_HASH)
    large = refresh_statements(place)
    assert len(small) == len(large) <= 8  # persons (2), before, delete, insert, after; no cell changed
    if db.session.get_bind().dialect.name != "sqlite":
        return
    connection = db.session.connection()
    for statement, parameters in large:
        if not statement.lstrip().upper().startswith(("SELECT", "DELETE", "INSERT")):
            continue
        rows = connection.exec_driver_sql("EXPLAIN QUERY PLAN " + statement, parameters)
        plan = [str(row[-1]) for row in rows]
        scans = [
            line for line in plan if re.search(r"\bSCAN (indicator_fact|enrolment|quiz_attempt)\b", line)
        ]
        assert not [line for line in scans if "COVERING INDEX" not in line], (statement, plan)
