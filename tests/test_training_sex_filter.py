"""The trainings' sex filter on the indicator report (issue 20): female, male, undisclosed (also the persons
whose sex is not recorded) or all; the figures are counted from the raw rows as in
tests/test_training_indicators.py, and the page and the export follow the query argument."""

from __future__ import annotations

import csv
import io
from collections.abc import Callable

from flask import Flask

from lms.auth.models import Role, User
from lms.reports.indicator_queries import IndicatorFilters
from lms.reports.training_indicators import training_tables
from tests.conftest import login
from tests.test_training_indicators import COUNTING, _figures, _raw, build_world


def expected_total(sex: str | None) -> object:
    sessions, lines, _modality = _raw()
    held = [s for s in sessions if s.cancelled_at is None]
    held_ids = {s.id for s in held}
    kept = [
        line
        for line in lines
        if line.status in COUNTING
        and line.session_id in held_ids
        and (line.sex == sex if sex in ("female", "male") else line.sex not in ("female", "male"))
    ]
    return _figures(held, kept, True)


def test_each_sex_counts_only_its_attendance(app: Flask) -> None:
    build_world()
    everyone = training_tables(IndicatorFilters()).total
    parts = {sex: training_tables(IndicatorFilters(), sex).total for sex in ("female", "male", "undisclosed")}
    for sex, total in parts.items():
        assert total == expected_total(sex), sex
        assert 0 < total.participants < everyone.participants
    assert sum(t.participants for t in parts.values()) == everyone.participants
    assert sum(t.participant_days for t in parts.values()) == everyone.participant_days
    assert training_tables(IndicatorFilters(), "robot").total == everyone  # anything else: all
    by_sex = training_tables(IndicatorFilters(), "female").breakdowns["sex"]
    assert [key for key, _cell in by_sex] == ["female"]


def test_the_page_and_the_export_follow_the_filter(app: Flask, make_user: Callable[..., User]) -> None:
    build_world()
    client = app.test_client()
    login(client, make_user(Role.ADMIN))
    female = training_tables(IndicatorFilters(), "female").total
    page = client.get("/reports/indicators?period=year&training_sex=female").get_data(as_text=True)
    section = page[page.index('id="trainings-heading"') :]
    assert '<option value="female" selected>' in section
    assert '<input type="hidden" name="period" value="year">' in section
    assert "Only the attendance of these participants counts: Female." in section
    assert client.get("/reports/indicators?training_sex=robot%27").status_code == 200  # odd: all persons
    exported = client.get("/reports/indicators/export?format=csv&training_sex=female").data.decode(
        "utf-8-sig"
    )
    [total] = [row for row in csv.reader(io.StringIO(exported)) if row[0] == "trainings"]
    assert total[-3:] == [str(female.participants), str(female.participant_days), str(female.partners)]
