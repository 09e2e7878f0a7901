"""The indicator fact table (lms/reports/facts.py) stays equal to the live tables after every kind of write
that changes a fact, in the writer's transaction, and nothing else pays for it."""

from __future__ import annotations

import importlib.util
from collections.abc import Callable
from pathlib import Path
from types import ModuleType

import pytest
from click.testing import Result
from flask import Flask
from sqlalchemy import event, select, update

from lms.admin.services import merge_people
from lms.auth.models import Role, User
from lms.certificates import services as certificate_services
from lms.certificates.models import Certificate
from lms.enrolment import completion as enrolment_completion
from lms.enrolment import nominations as enrolment_nominations
from lms.enrolment.models import Enrolment, EnrolmentStatus
from lms.extensions import db
from lms.quizzes.models import QuizAttempt
from lms.reports import cells, facts
from lms.reports.indicator_queries import IndicatorFilters, indicator_tables
from lms.reports.models import IndicatorFact
from tests.conftest import _TEST_PASSWORD_HASH
from tests.reports_support import World, at, build_world

MIGRATION = Path(__file__).parent.parent / "migrations" / "versions" / "20261203_0003_indicator_facts.py"


@pytest.fixture
def world(app: Flask) -> World:
    return build_world(_TEST_PASSWORD_HASH)


@pytest.fixture
def admin(make_user: Callable[..., User]) -> User:
    return make_user(Role.ADMIN)


def fact(enrolment: Enrolment) -> IndicatorFact | None:
    # The refresh writes with Core statements: read the row again rather than the identity map's copy.
    query = select(IndicatorFact).where(IndicatorFact.enrolment_id == enrolment.id)
    return db.session.scalar(query.execution_options(populate_existing=True))


def assert_true() -> None:
    db.session.flush()
    db.session.expire_all()
    assert facts.differences(db.session.connection()) == set()
    assert cells.differences(db.session.connection()) == []  # the whole academy's cells too (issue 22)


def test_the_world_is_copied_with_each_fact(world: World) -> None:
    assert_true()
    assert db.session.scalar(select(db.func.count()).select_from(IndicatorFact)) == 4  # p3 withdrew
    done = fact(world.enrolments["p4r2"])
    assert done is not None
    assert (done.completed_month, done.hours, done.certificate) == ("202604", 16, 1)
    assert (done.paired, done.pre_percent, done.post_percent) == (1, 50.0, 80.0)  # best pre-test
    assert (done.country_code, done.sex, done.age_band, done.modality) == ("MD", "male", None, "in_person")
    revoked = fact(world.enrolments["p1r2"])
    assert revoked is not None and revoked.certificate == 0 and revoked.completed_month == "202604"
    open_place = fact(world.enrolments["p2r1"])
    assert open_place is not None and open_place.completed_month is None and open_place.hours == 0
    assert fact(world.enrolments["p3r1"]) is None


def test_withdrawal_and_a_new_place(world: World, admin: User) -> None:
    enrolment_nominations.withdraw(world.enrolments["p2r1"], admin, "Left the service.")
    db.session.flush()
    assert fact(world.enrolments["p2r1"]) is None
    place = Enrolment(run_id=world.r2.id, user_id=world.people["p3"].id, status="enrolled",
                      authority_id=world.a2.id, enrolled_at=at(20))  # fmt: skip
    db.session.add(place)
    db.session.flush()
    assert fact(place) is not None
    assert_true()
    assert indicator_tables(IndicatorFilters()).total.enrolments == 4


def test_completing_a_place_sets_its_month_and_hours(world: World) -> None:
    place = world.enrolments["p2r1"]
    place.status = EnrolmentStatus.COMPLETED
    place.completed_at = at(28, 5)
    db.session.flush()
    row = fact(place)
    assert row is not None and (row.completed_month, row.hours) == ("202605", 16)
    assert_true()


def test_a_profile_change_moves_the_persons_places(world: World) -> None:
    person = world.people["p1"]
    person.sex = "male"
    person.birth_year_band = "1970-1979"
    db.session.flush()
    for key in ("p1r1", "p1r2"):
        row = fact(world.enrolments[key])
        assert row is not None and (row.sex, row.age_band) == ("male", "1970-1979")
    assert_true()
    assert dict(indicator_tables(IndicatorFilters()).breakdowns["sex"])["male"].participants == 3


def test_certificates_revoked_and_issued(world: World, admin: User) -> None:
    certificate = db.session.scalar(
        select(Certificate).where(
            Certificate.user_id == world.people["p1"].id, Certificate.status == "active"
        )
    )
    assert certificate is not None
    certificate_services.revoke(certificate, admin.id, "Issued in error.", show_reason_publicly=False)
    db.session.flush()
    row = fact(world.enrolments["p1r1"])
    assert row is not None and row.certificate == 0
    assert_true()


def test_finished_attempts_and_a_quiz_role(world: World) -> None:
    place = world.enrolments["p1r1"]
    unfinished = db.session.scalar(
        select(QuizAttempt).where(QuizAttempt.enrolment_id == place.id, QuizAttempt.status == "in_progress")
    )
    assert unfinished is not None
    unfinished.status = "submitted"  # the pre-test of 99 % is finished now...
    db.session.add(QuizAttempt(enrolment_id=place.id, quiz_id=world.quizzes["post_test"].id, number=1,
                               status="submitted", percent=95, score=95, max_score=100))  # fmt: skip
    db.session.flush()
    row = fact(place)
    assert row is not None and (row.paired, row.pre_percent, row.post_percent) == (1, 99.0, 95.0)
    world.quizzes["post_test"].role = "practice"  # ...and the trainer turns the post-test into practice
    db.session.flush()
    assert all(
        r.paired == 0
        for r in db.session.scalars(select(IndicatorFact).execution_options(populate_existing=True))
    )
    assert_true()


def test_course_hours_and_run_modality(world: World) -> None:
    world.course.notional_hours = 24
    world.r1.modality = "blended"
    db.session.flush()
    row = fact(world.enrolments["p1r1"])
    assert row is not None and (row.hours, row.modality) == (24, "blended")
    assert_true()
    assert indicator_tables(IndicatorFilters(modality="blended")).total.enrolments == 2


def test_a_merge_moves_the_places_to_the_kept_person(
    world: World, admin: User, make_user: Callable[..., User]
) -> None:
    kept = make_user(Role.TRAINEE, authority=world.a1, sex="female", birth_year_band="1960-1969")
    merge_people(kept, world.people["p4"], admin.id)
    db.session.flush()
    row = fact(world.enrolments["p4r2"])
    assert row is not None and (row.user_id, row.sex, row.country_code) == (kept.id, "female", "UA")
    assert_true()


def test_a_rolled_back_change_leaves_the_facts_as_they_were(world: World) -> None:
    world.people["p2"].sex = "female"
    db.session.flush()
    db.session.rollback()
    row = fact(world.enrolments["p2r1"])
    assert row is not None and row.sex == "male"
    assert_true()


def test_a_lesson_completion_that_does_not_complete_writes_no_fact(world: World) -> None:
    statements: list[str] = []

    def record(conn: object, cursor: object, statement: str, *rest: object) -> None:
        statements.append(statement)

    place = db.session.get(Enrolment, world.enrolments["p2r1"].id)
    assert place is not None
    event.listen(db.engine, "before_cursor_execute", record)
    try:
        assert enrolment_completion.complete_lesson(place, world.lessons[2]) is True
        db.session.flush()
    finally:
        event.remove(db.engine, "before_cursor_execute", record)
    assert statements and not [s for s in statements if "indicator_fact" in s]


def test_bulk_updates_are_caught_by_the_check_and_mended_by_the_rebuild(
    world: World, app: Flask, admin: User
) -> None:
    db.session.execute(
        update(Enrolment).where(Enrolment.id == world.enrolments["p2r1"].id).values(status="withdrawn")
    )
    db.session.commit()  # behind the listeners' back, as a raw SQL fix would be
    runner = app.test_cli_runner()
    checked: Result = runner.invoke(args=["lms", "reports", "check-facts"])
    assert checked.exit_code == 1 and "1 places have stale indicator facts" in checked.output
    rebuilt = runner.invoke(args=["lms", "reports", "rebuild-facts"])
    assert rebuilt.exit_code == 0 and "3 indicator facts rebuilt" in rebuilt.output
    assert runner.invoke(args=["lms", "reports", "check-facts"]).exit_code == 0


def _migration() -> ModuleType:
    spec = importlib.util.spec_from_file_location("indicator_facts_migration", MIGRATION)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_the_migrations_first_fill_equals_the_fact_definition(world: World) -> None:
    connection = db.session.connection()
    connection.execute(facts.FACT.delete())
    connection.exec_driver_sql(_migration().fill_statement(connection.dialect.name))
    db.session.expire_all()
    assert db.session.scalar(select(db.func.count()).select_from(IndicatorFact)) == 4
    assert facts.differences(connection) == set()
