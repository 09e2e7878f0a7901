"""Survey indicators of the admin indicator report (lms/reports/survey_indicators.py): figures checked
against a count made independently here on generated data, and the suppression on the page, in the CSV
and in the XLSX."""

from __future__ import annotations

import csv
import io
import random
from collections import defaultdict
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import pytest
from flask import Flask
from openpyxl import load_workbook

from lms.auth.models import Role, User
from lms.extensions import db
from lms.orgs.models import Authority
from lms.reports.indicator_queries import IndicatorFilters
from lms.reports.survey_indicators import survey_row, survey_section, survey_tables
from lms.surveys.results import NOT_ENOUGH, NOT_ENOUGH_TEXT
from tests.conftest import login
from tests.survey_results_support import (
    attach,
    end_of_course_form,
    follow_up_form,
    invite,
    make_course,
    make_run,
    respond,
)

SEED = 21


@dataclass
class Record:
    """What the test itself knows about one invited person, to count the expected figures."""

    sex: str
    country: str
    authority: str
    modality: str
    kind: str
    answered: bool
    value: Any = None  # relevance 1-5 (end of course) or the option chosen (follow-up)


def _generate(make_user: Callable[..., User], make_authority: Callable[..., Authority]) -> list[Record]:
    chance = random.Random(SEED)  # noqa: S311 — generated test data, not a secret
    authorities = [make_authority("UA"), make_authority("MD")]
    course = make_course()
    runs = [make_run(course, "self_paced"), make_run(course, "in_person")]
    end_form, follow_form = end_of_course_form(), follow_up_form()
    records = []
    for run in runs:
        end, follow = attach(run, end_form), attach(run, follow_form)
        for n in range(14):
            authority = authorities[n % 2 if run is runs[0] else chance.randrange(2)]
            sex = ("female", "male")[chance.randrange(2)]
            person = make_user(authority=authority, sex=sex)
            for attached in (end, follow):
                answered = chance.random() < 0.75
                invite(attached, person, answered=answered)
                record = Record(
                    sex, authority.country_code, str(authority.id), run.modality, attached.kind, answered
                )
                if answered and attached.kind == "end_of_course":
                    record.value = chance.randint(1, 5)
                    respond(attached, {"relevant": record.value, "overall": 7}, sex=sex,
                            country=authority.country_code, authority_id=authority.id)  # fmt: skip
                elif answered:
                    record.value = chance.choice(["regularly", "sometimes", "no"])
                    respond(attached, {"applied": (record.value,)}, sex=sex, country=authority.country_code,
                            authority_id=authority.id)  # fmt: skip
                records.append(record)
    db.session.commit()
    return records


def _expected(records: list[Record], floor: int = 5) -> dict[tuple[str, str | None], list[Any]]:
    """Raw counts per group, then the shown figures, computed without the code under test."""
    groups: dict[tuple[str, str | None], list[Record]] = defaultdict(list)
    for record in records:
        groups[("total", None)].append(record)
        for dimension in ("sex", "country", "authority", "modality"):
            groups[(dimension, getattr(record, dimension))].append(record)
        groups[("period", "2026-Q1")].append(record)
    shown = {}
    for key, members in groups.items():
        row: list[Any] = []
        for kind in ("end_of_course", "follow_up"):
            invited = [m for m in members if m.kind == kind]
            answered = [m for m in invited if m.answered]
            if len(invited) < floor:
                row += [NOT_ENOUGH] * 3
            else:
                row += [len(invited), len(answered), round(100 * len(answered) / len(invited), 1)]
            if len(answered) < floor:
                row += [NOT_ENOUGH] * 2
            else:
                yes = sum(
                    1 for m in answered if (m.value >= 4 if kind == "end_of_course" else m.value != "no")
                )
                row += [len(answered), round(100 * yes / len(answered), 1)]
        shown[key] = row
    return shown


@pytest.fixture
def records(
    app: Flask, make_user: Callable[..., User], make_authority: Callable[..., Authority]
) -> list[Record]:
    return _generate(make_user, make_authority)


def _figures(row: Any) -> list[Any]:
    return row.values()[1:]


def test_figures_match_an_independent_count(app: Flask, records: list[Record]) -> None:
    expected = _expected(records)
    with app.test_request_context():
        tables = survey_tables(IndicatorFilters(), "quarter")
        assert _figures(survey_row("All", tables.total)) == expected[("total", None)]
        for dimension in ("sex", "country", "authority", "modality", "period"):
            cells = tables.breakdowns[dimension]
            assert set(cells) == {key for (d, key) in expected if d == dimension}, dimension
            for key, cell in cells.items():
                assert _figures(survey_row(key or "", cell)) == expected[(dimension, key)], (dimension, key)


def test_publication_threshold_raises_the_floor(app: Flask, records: list[Record]) -> None:
    expected = _expected(records, floor=10)
    with app.test_request_context():
        tables = survey_tables(IndicatorFilters())
        for key, cell in tables.breakdowns["sex"].items():
            shown = _figures(survey_row(key or "", cell, threshold=10))
            for got, want in zip(shown, expected[("sex", key)], strict=True):
                if want is NOT_ENOUGH:
                    assert got is NOT_ENOUGH
                else:  # an answered count under 10 is "<10", and the rate that would give it back too
                    assert got == want or got == "<10"


def test_filters_keep_to_the_run_and_the_modality(app: Flask, records: list[Record]) -> None:
    in_person = [r for r in records if r.modality == "in_person"]
    with app.test_request_context():
        tables = survey_tables(IndicatorFilters(modality="in_person"))
        assert _figures(survey_row("All", tables.total)) == _expected(in_person)[("total", None)]
        section = survey_section(IndicatorFilters(country_code="ZZ"), None, "month", lambda d, k: k or "")
        assert _figures(section.total) == [NOT_ENOUGH] * 10


def test_page_csv_and_xlsx_show_the_figures_and_hide_small_groups(
    app: Flask, make_user: Callable[..., User], make_authority: Callable[..., Authority]
) -> None:
    records = _generate(make_user, make_authority)
    # one more run with three answers only: its modality group is under five everywhere
    course = make_course()
    run = make_run(course, "blended")
    end = attach(run, end_of_course_form())
    for value in (5, 5, 4):
        person = make_user(sex="female")
        invite(end, person, answered=True)
        respond(end, {"relevant": value}, sex="female", country="UA", authority_id=person.authority_id)
        records.append(
            Record("female", "UA", str(person.authority_id), "blended", "end_of_course", True, value)
        )
    db.session.commit()
    expected = _expected(records)
    admin = make_user(Role.ADMIN)
    client = app.test_client()
    login(client, admin)
    page = client.get("/reports/indicators").get_data(as_text=True)
    assert "Evaluation surveys" in page and "Not enough responses" in page
    total_share = expected[("total", None)][4]
    assert f"{total_share}%" in page
    text = client.get("/reports/indicators/surveys/export?format=csv").get_data(as_text=True)
    rows = list(csv.reader(io.StringIO(text.lstrip("\ufeff"))))
    header, body = rows[0], rows[1:]
    assert header[:3] == ["breakdown", "group", "end_of_course_invited"]
    total = body[0]
    assert total[0] == "total"
    assert [float(v) if v.replace(".", "").isdigit() else v for v in total[2:]] == [
        NOT_ENOUGH_TEXT if v is NOT_ENOUGH else float(v) for v in expected[("total", None)]
    ]
    blended = next(r for r in body if r[0] == "modality" and r[1] == "Blended")
    assert blended[2:] == [NOT_ENOUGH_TEXT] * 10  # three invited and answered: never a zero
    book = load_workbook(io.BytesIO(client.get("/reports/indicators/surveys/export?format=xlsx").data))
    cells = list(book.active.iter_rows(values_only=True))
    row = next(r for r in cells if r[0] == "modality" and r[1] == "Blended")
    assert list(row[2:]) == [NOT_ENOUGH_TEXT] * 10
    assert cells[1][6] == expected[("total", None)][4]
    assert client.get("/reports/indicators/surveys/export?date_from=2026-13-45").status_code == 400


def test_only_admins_download_survey_indicators(app: Flask, make_user: Callable[..., User]) -> None:
    for role in (Role.TRAINER, Role.FOCAL_POINT, Role.TRAINEE):
        client = app.test_client()
        login(client, make_user(role))
        assert client.get("/reports/indicators/surveys/export").status_code == 403
    assert app.test_client().get("/reports/indicators/surveys/export").status_code == 302
