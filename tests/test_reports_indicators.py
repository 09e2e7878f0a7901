"""Each indicator against numbers worked out by hand (see tests/reports_support.py for the world)."""

from __future__ import annotations

from flask import Flask

from lms.reports.indicator_queries import IndicatorFilters, indicator_tables
from lms.reports.indicators import (
    CellTotals,
    completion_rate,
    indicators,
    person_days,
    pre_post_gain,
    progress_percent,
    suppress_count,
)
from tests.conftest import _TEST_PASSWORD_HASH
from tests.reports_support import build_world

# --- pure arithmetic ------------------------------------------------------------------------------------


def test_rates_days_and_gain_by_hand() -> None:
    assert completion_rate(3, 4) == 75.0
    assert completion_rate(2, 3) == 66.7
    assert completion_rate(0, 0) is None
    assert person_days(48) == 6.0  # 3 completions x 16 h / 8
    assert person_days(12) == 1.5
    assert pre_post_gain(2, 90.0, 140.0) == 25.0
    assert pre_post_gain(0, 0.0, 0.0) is None
    assert progress_percent(2, 4) == 50
    assert progress_percent(1, 3) == 33
    assert progress_percent(5, 0) == 0


def test_suppression_hides_small_cells_and_what_reveals_them() -> None:
    cell = CellTotals(participants=2, enrolments=3, completions=2, completed_persons=1, certificates=1,
                      completed_hours=32, paired=1, pre_sum=40, post_sum=60)  # fmt: skip
    open_row = indicators("UA", cell)
    assert (open_row.completed_persons, open_row.completion_rate, open_row.gain) == (1, 66.7, 20.0)
    row = indicators("UA", cell, threshold=2)
    assert row.participants == 2 and row.enrolments == 3 and row.completions == 2
    assert row.completed_persons == "<2"
    assert row.completion_rate == "<2" and row.person_days == "<2"  # could be worked back from them
    assert row.certificates == "<2"
    assert row.paired == "<2" and row.gain == "<2" and row.pre_mean == "<2"
    tiny = indicators("MD", CellTotals(participants=1, enrolments=1, completions=1, completed_persons=1), 5)
    assert tiny.values()[1:] == ["<5"] * 11
    assert suppress_count(3, 5) == "<5" and suppress_count(7, 5) == 7 and suppress_count(3, None) == 3


# --- the SQL against the hand-built world --------------------------------------------------------------


def test_totals_count_persons_once_and_skip_withdrawn_and_revoked(app: Flask) -> None:
    build_world(_TEST_PASSWORD_HASH)
    tables = indicator_tables(IndicatorFilters())
    total = indicators("All", tables.total)
    assert total.participants == 3  # p1 (twice), p2, p4; p3 withdrew
    assert total.enrolments == 4
    assert total.completions == 3
    assert total.completed_persons == 2
    assert total.completion_rate == 75.0
    assert total.certificates == 2  # p1's revoked certificate in R2 does not count
    assert total.person_days == 6.0
    assert total.paired == 2
    assert (total.pre_mean, total.post_mean, total.gain) == (45.0, 70.0, 25.0)  # p4's best pre-test: 50
    assert tables.completions_by_month == [("2026-03", 1), ("2026-04", 2)]


def test_breakdowns_by_country_authority_sex_and_age_band(app: Flask) -> None:
    world = build_world(_TEST_PASSWORD_HASH)
    tables = indicator_tables(IndicatorFilters())
    country = {key: indicators(str(key), cell) for key, cell in tables.breakdowns["country"]}
    assert set(country) == {"UA", "MD"}
    ua, md = country["UA"], country["MD"]
    assert (ua.participants, ua.enrolments, ua.completions, ua.completed_persons) == (2, 3, 2, 1)
    assert (ua.completion_rate, ua.certificates, ua.person_days, ua.gain) == (66.7, 1, 4.0, 20.0)
    assert (md.participants, md.enrolments, md.completions, md.certificates, md.gain) == (1, 1, 1, 1, 30.0)

    authority = {key: cell for key, cell in tables.breakdowns["authority"]}
    assert authority[str(world.a1.id)].participants == 2
    assert authority[str(world.a2.id)].participants == 1

    sex = {key: cell for key, cell in tables.breakdowns["sex"]}
    assert (sex["female"].participants, sex["female"].enrolments, sex["female"].completions) == (1, 2, 2)
    assert (sex["male"].participants, sex["male"].enrolments, sex["male"].completions) == (2, 2, 1)

    band = {key: cell for key, cell in tables.breakdowns["age_band"]}
    assert band["1980-1989"].participants == 1
    assert band["1990-1999"].participants == 1  # p3 withdrew, so only p2
    assert band[None].participants == 1  # p4 gave no band


def test_filters_narrow_the_scope(app: Flask) -> None:
    world = build_world(_TEST_PASSWORD_HASH)
    in_person = indicator_tables(IndicatorFilters(modality="in_person")).total
    assert (in_person.participants, in_person.enrolments, in_person.completions, in_person.certificates) == (
        2, 2, 2, 1,
    )  # fmt: skip
    run1 = indicator_tables(IndicatorFilters(run_id=world.r1.id)).total
    assert (run1.participants, run1.completions) == (2, 1)
    md = indicator_tables(IndicatorFilters(country_code="MD")).total
    assert md.participants == 1
    a1 = indicator_tables(IndicatorFilters(authority_id=world.a1.id, course_id=world.course.id)).total
    assert a1.enrolments == 3
    from datetime import date

    early = indicator_tables(IndicatorFilters(date_from=date(2026, 3, 3), date_to=date(2026, 3, 4))).total
    assert (early.enrolments, early.participants) == (2, 2)  # p1 in R2 (3 March) and p2 (4 March)


def test_suppression_on_the_fixture(app: Flask) -> None:
    build_world(_TEST_PASSWORD_HASH)
    tables = indicator_tables(IndicatorFilters())
    country = {key: indicators(str(key), cell, threshold=2) for key, cell in tables.breakdowns["country"]}
    assert country["MD"].participants == "<2" and country["MD"].completion_rate == "<2"
    assert country["UA"].participants == 2 and country["UA"].completed_persons == "<2"
    assert country["UA"].completion_rate == "<2"
    assert indicators("All", tables.total, threshold=2).participants == 3


def test_cached_tables_survive_the_round_trip(app: Flask) -> None:
    from lms.db import utcnow
    from lms.reports.indicator_queries import _tables_from_json, _tables_to_json

    build_world(_TEST_PASSWORD_HASH)
    tables = indicator_tables(IndicatorFilters())
    now = utcnow()
    again, computed_at = _tables_from_json(_tables_to_json(tables, now).encode())
    assert again == tables and computed_at == now
