"""The indicator report filtered by dates, from the month buckets (lms/reports/models.py IndicatorBucket,
issue 22): the same figures as grouping the facts on any range, including its edges and the distinct
persons, in a number of statements that does not grow with the data; and the cells' slot rows."""

from __future__ import annotations

import importlib.util
import random
import re
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from types import ModuleType
from typing import Any

import pytest
from flask import Flask
from sqlalchemy import event, func, select
from sqlalchemy.exc import OperationalError

from lms.auth.models import User
from lms.enrolment.models import CourseRun, Enrolment
from lms.extensions import db
from lms.quizzes.models import QuizAttempt
from lms.reports import cells, facts
from lms.reports.indicator_queries import (
    IndicatorFilters,
    _whole_months,
    grouped_indicator_tables,
    indicator_tables,
)
from lms.reports.models import IndicatorBucket, IndicatorCell
from tests.conftest import _TEST_PASSWORD_HASH
from tests.reports_support import World, _person, add_trainees, build_world
from tests.test_reports_cells import same

MIGRATION = Path(__file__).parent.parent / "migrations" / "versions" / "20261205_0016_indicator_buckets.py"
FIRST = date(2025, 1, 1)  # the seeded places span 2025-01-01 .. 2026-02-28
DAYS = 424


@pytest.fixture
def world(app: Flask) -> World:
    return build_world(_TEST_PASSWORD_HASH)


def _moment(rng: random.Random) -> datetime:
    """A day of the span, often a month's first or last day, at its first or last second or midday."""
    day = FIRST + timedelta(days=rng.randrange(DAYS))
    if rng.random() < 0.4:
        day = (
            day.replace(day=1)
            if rng.random() < 0.5
            else (day.replace(day=28) + timedelta(days=4)).replace(day=1) - timedelta(days=1)
        )
    clock = rng.choice([(0, 0, 0), (23, 59, 59), (12, 0, 0)])
    return datetime(day.year, day.month, day.day, *clock, tzinfo=UTC)


def seed(world: World, rng: random.Random, persons: int = 24) -> None:
    """Persons with one to five places over fourteen months, at both authorities or none, some completed
    (a few completed on an earlier place than a later open one), a few with pre/post tests."""
    runs = [world.r1, world.r2]
    for number in range(4):
        run = CourseRun(course_id=world.course.id, title=f"R{number + 3}", modality="online")
        db.session.add(run)
        runs.append(run)
    db.session.flush()
    for number in range(persons):
        person = _person(f"b{number}", rng.choice([world.a1, world.a2]), rng.choice(["female", "male"]),
                         rng.choice(["1970-1979", "1990-1999", None]), _TEST_PASSWORD_HASH)  # fmt: skip
        if number % 7 == 0:
            person.country_code = None
        db.session.flush()
        for run in rng.sample(runs, rng.randint(1, 5)):
            enrolled = _moment(rng)
            done = rng.random() < 0.5
            place = Enrolment(
                run_id=run.id,
                user_id=person.id,
                status=rng.choice(["completed", "completed", "enrolled", "withdrawn"])
                if done
                else "enrolled",
                authority_id=rng.choice([world.a1.id, world.a2.id, None]),
                enrolled_at=enrolled,
                completed_at=enrolled + timedelta(days=rng.randrange(0, 60)) if done else None,
            )
            db.session.add(place)
            db.session.flush()
            if rng.random() < 0.3:
                for role, percent in (("pre_test", rng.uniform(0, 100)), ("post_test", rng.uniform(0, 100))):
                    db.session.add(QuizAttempt(enrolment_id=place.id, quiz_id=world.quizzes[role].id,
                                               number=1, status="submitted", percent=percent, score=1,
                                               max_score=1))  # fmt: skip
    db.session.commit()


def ranges(rng: random.Random, count: int) -> list[IndicatorFilters]:
    """Random ranges, with ends on months' first and last days and the days next to them."""
    chosen = []
    for _ in range(count):
        low, high = sorted(
            [_moment(rng).date() + timedelta(days=rng.choice([0, 0, -1, 1])) for _ in range(2)]
        )
        chosen.append(IndicatorFilters(date_from=None if rng.random() < 0.1 else low,
                                       date_to=None if rng.random() < 0.1 else high))  # fmt: skip
    return chosen


def test_random_date_ranges_give_the_figures_of_the_facts(world: World) -> None:
    rng = random.Random(2205)  # noqa: S311 — test data, not security
    seed(world, rng)
    assert cells.differences(db.session.connection()) == []
    bucketed = 0
    for filters in [
        *ranges(rng, 60),
        IndicatorFilters(date_from=date(2025, 2, 1), date_to=date(2025, 2, 28)),  # one whole month
        IndicatorFilters(date_from=date(2025, 1, 31), date_to=date(2025, 3, 1)),  # a month and two days
        IndicatorFilters(date_from=date(2025, 2, 2), date_to=date(2025, 3, 31)),
        IndicatorFilters(date_from=date(2025, 3, 1), date_to=date(2026, 1, 31)),
    ]:
        bucketed += _whole_months(filters) is not None
        same(indicator_tables(filters), grouped_indicator_tables(filters))
    assert bucketed > 40  # most ranges cover a whole month: the buckets answer them


def test_the_buckets_follow_writes_that_move_places_between_months(world: World) -> None:
    rng = random.Random(2206)  # noqa: S311 — test data, not security
    seed(world, rng, persons=12)
    places = list(db.session.scalars(select(Enrolment).where(Enrolment.user_id.in_(select(User.id).where(
        User.email.like("b%"))))))  # fmt: skip
    for step in range(30):
        place = rng.choice(places)
        action = step % 3
        if action == 0:  # a place moved to another month (the person's first place may change)
            place.enrolled_at = _moment(rng)
        elif action == 1:
            place.status = rng.choice(["completed", "enrolled", "withdrawn"])
            place.completed_at = place.enrolled_at + timedelta(days=3)
        else:
            place.authority_id = rng.choice([world.a1.id, world.a2.id, None])
        db.session.flush()
    db.session.expire_all()
    assert cells.differences(db.session.connection()) == []
    for filters in ranges(rng, 20):
        same(indicator_tables(filters), grouped_indicator_tables(filters))


def statements_of(filters: IndicatorFilters) -> list[tuple[str, Any]]:
    seen: list[tuple[str, Any]] = []

    def record(conn: object, cursor: object, statement: str, parameters: Any, *rest: object) -> None:
        seen.append((statement, parameters))

    engine = db.session.get_bind()
    event.listen(engine, "before_cursor_execute", record)
    try:
        indicator_tables(filters)
    finally:
        event.remove(engine, "before_cursor_execute", record)
    return seen


def test_a_date_filtered_report_is_a_fixed_number_of_statements_whatever_the_size(world: World) -> None:
    seed(world, random.Random(2207), persons=6)  # noqa: S311
    partial = IndicatorFilters(date_from=date(2025, 3, 5), date_to=date(2025, 11, 12))
    small = statements_of(partial)
    add_trainees(world, 30, _TEST_PASSWORD_HASH)
    seed(world, random.Random(2208), persons=20)  # noqa: S311
    large = statements_of(partial)
    # The first and last enrolment date (is it the whole academy?), the buckets of March to October, the
    # days added at the end (Nov 1-12) and the days taken away at the start (Mar 1-4).
    small, large = [s for s in small if s[0] != "BEGIN"], [s for s in large if s[0] != "BEGIN"]
    assert len(small) == len(large) == 4
    assert "indicator_bucket" in large[1][0] and "indicator_fact" not in large[1][0]
    if db.session.get_bind().dialect.name != "sqlite":
        return
    connection = db.session.connection()
    for statement, parameters in large:  # every fact read through an index range or a key probe
        plan = [
            str(row[-1]) for row in connection.exec_driver_sql("EXPLAIN QUERY PLAN " + statement, parameters)
        ]
        full = [line for line in plan if re.search(r"\bSCAN indicator_(fact|bucket)\b", line)]
        assert not [line for line in full if "COVERING INDEX" not in line], (statement, plan)


def test_writes_for_different_persons_add_to_different_slot_rows(world: World) -> None:
    """The PostgreSQL hot row: each cell is spread over slot rows, summed when read."""
    seed(world, random.Random(2209), persons=16)  # noqa: S311
    slots = db.session.scalars(select(IndicatorCell.slot).where(IndicatorCell.dimension == "total"))
    assert len(set(slots)) > 2
    assert db.session.scalar(select(func.count(func.distinct(IndicatorBucket.slot)))) > 2
    assert cells.differences(db.session.connection()) == []
    whole = IndicatorFilters()
    same(indicator_tables(whole), grouped_indicator_tables(whole))
    person = db.session.scalars(select(User).where(User.email.like("b3-%"))).one()
    assert cells.slot_of([person.id, person.id + 9]) == person.id % cells.SLOTS


def test_on_postgresql_writers_in_different_slots_do_not_queue_on_the_total(world: World) -> None:
    """Two transactions that each complete a place: with persons in different slots the second goes
    through while the first is still open; in the same slot it waits for the first's row lock."""
    if db.session.get_bind().dialect.name != "postgresql":
        pytest.skip("row locks: PostgreSQL (SQLite has one writer at a time)")
    seed(world, random.Random(2211), persons=24)  # noqa: S311
    open_places = list(
        db.session.execute(select(Enrolment.id, Enrolment.user_id).where(Enrolment.status == "enrolled"))
    )
    first_id, first_user = open_places[0]
    other = next(i for i, user in open_places if user % cells.SLOTS != first_user % cells.SLOTS)
    same_slot = next(
        i for i, user in open_places if user != first_user and user % cells.SLOTS == first_user % cells.SLOTS
    )
    db.session.commit()

    def complete(connection: Any, place: int) -> None:
        done = datetime(2025, 6, 1, tzinfo=UTC)
        table = Enrolment.__table__
        connection.execute(
            table.update().where(table.c.id == place).values(status="completed", completed_at=done)
        )
        facts.refresh(connection, enrolments=[place])

    with db.engine.connect() as writer, db.engine.connect() as second:
        complete(writer, first_id)
        second.exec_driver_sql("SET lock_timeout = '5s'")
        complete(second, other)  # another slot: no wait
        second.rollback()
        second.exec_driver_sql("SET lock_timeout = '300ms'")
        with pytest.raises(OperationalError, match="lock"):
            complete(second, same_slot)  # the same slot: waits for the first writer
        second.rollback()
        writer.rollback()


def _migration() -> ModuleType:
    spec = importlib.util.spec_from_file_location("indicator_buckets_migration", MIGRATION)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_the_migrations_fill_equals_the_rebuild(world: World) -> None:
    seed(world, random.Random(2210))  # noqa: S311
    connection = db.session.connection()
    connection.execute(cells.BUCKET.delete())
    connection.exec_driver_sql(_migration().fill_statement(connection.dialect.name))
    assert cells.differences(connection) == []
    assert connection.scalar(select(func.count()).select_from(cells.BUCKET)) > 100
    facts.rebuild(connection)
    assert cells.differences(connection) == []
