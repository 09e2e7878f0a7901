"""Training indicators (issue 20): every figure is checked against a plain-Python count over the raw rows of
a seeded random world (runs in Chisinau and Tbilisi time, a session that crosses midnight UTC but not local
midnight, cancelled sessions, absent and excused lines), per dimension and under the report's filters; and
the small-number suppression on the page, in the CSV and in the XLSX."""

from __future__ import annotations

import csv
import io
import random
import re
import secrets
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

import openpyxl
import pytest
from flask import Flask
from sqlalchemy import event, select

from lms.auth.models import Role, User
from lms.courses.models import Course
from lms.enrolment.models import CourseRun, Enrolment
from lms.extensions import db
from lms.orgs.models import Authority, Country
from lms.reports.indicator_queries import IndicatorFilters
from lms.reports.training_figures import (
    PersonRow,
    SessionRow,
    TrainingCell,
    aggregate,
    local_date,
    training_row,
)
from lms.reports.training_indicators import _from_json, _to_json, training_tables
from lms.sessions.models import Attendance, TrainingSession
from tests.a11y_support import axe_violations, choose_language, describe
from tests.conftest import browser_sign_in, login
from tests.test_reports_query_plans import explain

ZONES = ("Europe/Chisinau", "Asia/Tbilisi", "UTC")
PLACES = (("Chisinau", "MD"), ("Tbilisi", "GE"), ("Batumi", "GE"))
STATUSES = ("present", "late", "left_early", "absent", "excused")
COUNTING = {"present", "late", "left_early"}

# --- pure -----------------------------------------------------------------------------------------------


def test_the_local_date_decides_the_day() -> None:
    # 23:00-01:00 UTC crosses midnight UTC; in Tbilisi (UTC+4) it is 03:00-05:00 on the 10th.
    assert local_date(datetime(2026, 3, 9, 23, 0, tzinfo=UTC), "Asia/Tbilisi") == date(2026, 3, 10)
    # Chisinau moves to summer time on 29 March 2026: 21:30 UTC on the 28th is 23:30 local, the 28th...
    assert local_date(datetime(2026, 3, 28, 21, 30, tzinfo=UTC), "Europe/Chisinau") == date(2026, 3, 28)
    # ...and 21:30 UTC on the 29th is 00:30 (UTC+3) on the 30th.
    assert local_date(datetime(2026, 3, 29, 21, 30, tzinfo=UTC), "Europe/Chisinau") == date(2026, 3, 30)
    assert local_date(datetime(2026, 3, 9, 23, 0, tzinfo=UTC), "No/Such_Zone") == date(2026, 3, 9)


def test_suppression_is_the_indicator_reports_rule() -> None:
    cell = TrainingCell(
        trainings=2,
        training_days=4,
        locations=1,
        online_trainings=0,
        participants=3,
        participant_days=7,
        partners=2,
    )
    assert training_row("x", cell).values()[1:] == [2, 4, 1, 0, 3, 7, 2]
    assert training_row("x", cell, 5).values()[1:] == ["<5"] * 7  # a row about fewer than 5 persons
    assert training_row("x", cell, 3).values()[1:] == [2, 4, 1, 0, 3, 7, 2]


def test_the_figures_of_a_small_hand_counted_case() -> None:
    def at(day: int, month: int, hour: int) -> datetime:
        return datetime(2026, month, day, hour, tzinfo=UTC)

    sessions = [  # run 1: one day in Tbilisi (S1 is on 9 March in UTC); run 2: two days, one online
        SessionRow(1, 1, at(9, 3, 23), "Asia/Tbilisi", "in_person", "Tbilisi", "GE", "in_person"),
        SessionRow(2, 1, at(10, 3, 6), "Asia/Tbilisi", "in_person", "tbilisi ", "GE", "in_person"),
        SessionRow(3, 2, at(1, 4, 8), "Europe/Chisinau", "online", None, None, "blended"),
        SessionRow(4, 2, at(2, 4, 8), "Europe/Chisinau", "hybrid", "Chisinau", "MD", "blended"),
    ]
    persons = {11: PersonRow(1, 100, "female", "GE"), 12: PersonRow(2, 200, "male", "MD"),
               21: PersonRow(1, 100, "female", "GE"), 22: PersonRow(2, 200, "male", "MD")}  # fmt: skip
    lines = [(1, 11), (2, 11), (1, 12), (3, 21), (4, 21), (4, 22)]
    tables = aggregate(sessions, lines, persons)
    assert tables.total == TrainingCell(trainings=2, training_days=3, locations=2, online_trainings=1,
                                        participants=2, participant_days=5, partners=2)  # fmt: skip
    by = {(d, k): c for d, cells in tables.breakdowns.items() for k, c in cells}
    assert by[("sex", "female")] == TrainingCell(2, 3, 2, 1, 1, 3, 1)
    assert by[("month", "2026-03")] == TrainingCell(1, 1, 1, 0, 2, 2, 2)
    assert by[("modality", "blended")] == TrainingCell(1, 2, 1, 1, 2, 3, 2)
    # Filtered to the Moldovan person: only the trainings they attended, with all their days.
    only_md = aggregate(
        sessions, lines, {k: p for k, p in persons.items() if p.country == "MD"}, persons_filtered=True
    )
    assert only_md.total == TrainingCell(2, 3, 2, 1, 1, 2, 1)


# --- the world --------------------------------------------------------------------------------------------


@dataclass
class World:
    authorities: list[Authority]
    runs: list[CourseRun]


def _session(
    run: CourseRun,
    start: datetime,
    zone: str,
    fmt: str,
    place: tuple[str, str],
    cancelled: bool = False,
    hours: int = 3,
) -> TrainingSession:
    online = fmt == "online"
    session = TrainingSession(
        run_id=run.id,
        title="S",
        starts_at=start,
        ends_at=start + timedelta(hours=hours),
        timezone=zone,
        format=fmt,
        venue_city=None if online else place[0],
        venue_country=None if online else place[1],
        uid=secrets.token_hex(8),
        check_in_secret=secrets.token_hex(16),
        cancelled_at=start if cancelled else None,
    )
    db.session.add(session)
    return session


def build_world(seed: int = 20261205) -> World:
    rng = random.Random(seed)  # noqa: S311 — test data, not security
    for code in ("MD", "GE", "UA"):
        if db.session.get(Country, code) is None:
            db.session.add(Country(code=code, name=f"Country {code}", names={}, groups=[]))
    authorities = [
        Authority(code=f"t-auth-{seed}-{n}", name=f"Training authority {n}", country_code=country)
        for n, country in enumerate(("MD", "MD", "GE", "GE", "UA"))
    ]
    course = Course(slug=f"training-indicators-{seed}", title="Workshops", notional_hours=16)
    db.session.add_all([*authorities, course])
    db.session.flush()
    people = []
    for n in range(30):
        authority = authorities[n % 4]  # the fifth authority gets one person below
        people.append(
            User(
                email=f"trainee{n}-{seed}@ti.test",
                password_hash="x",
                given_name=f"G{n}",
                family_name=f"F{n}",
                sex=("female", "male", "male", None)[n % 4],
                country_code=authority.country_code,
                authority_id=authority.id,
            )
        )
    lonely = User(
        email=f"lonely-{seed}@ti.test",
        password_hash="x",
        given_name="L",
        family_name="One",
        sex="female",
        country_code="UA",
        authority_id=authorities[4].id,
    )
    db.session.add_all([*people, lonely])
    modalities = (
        "in_person",
        "blended",
        "online_scheduled",
        "in_person",
        "blended",
        "in_person",
        "in_person",
    )
    runs = [
        CourseRun(course_id=course.id, title=f"Run {n}", modality=m, starts_on=date(2026, 1, 1))
        for n, m in enumerate(modalities)
    ]
    db.session.add_all(runs)
    db.session.flush()
    sessions: list[TrainingSession] = []
    for index, run in enumerate(runs[:6]):
        first = datetime(
            2025 if index == 5 else 2026,
            rng.randint(1, 12) if index == 5 else rng.randint(1, 6),
            rng.randint(1, 25),
            rng.randint(5, 16),
            0,
            tzinfo=UTC,
        )
        for _n in range(rng.randint(2, 5)):
            start = first + timedelta(days=rng.randint(0, 2), hours=rng.choice((0, 4)))
            fmt = rng.choice(("in_person", "in_person", "hybrid", "online"))
            sessions.append(
                _session(
                    run, start, rng.choice(ZONES), fmt, rng.choice(PLACES), cancelled=rng.random() < 0.15
                )
            )
    # Crosses midnight UTC, not local midnight (03:00-05:00 in Tbilisi on 10 March), and a morning session
    # the same local day: one training day, one participant-day each. On UTC dates they would be two.
    midnight = _session(
        runs[6],
        datetime(2026, 3, 9, 23, 0, tzinfo=UTC),
        "Asia/Tbilisi",
        "in_person",
        ("Tbilisi", "GE"),
        hours=2,
    )
    morning = _session(
        runs[6], datetime(2026, 3, 10, 6, 0, tzinfo=UTC), "Asia/Tbilisi", "in_person", ("tbilisi ", "GE")
    )
    sessions += [midnight, morning]
    db.session.flush()
    for run in runs:
        members = rng.sample(people, rng.randint(8, 16)) + ([lonely] if run is runs[6] else [])
        for person in members:
            # Mostly the person's own authority; sometimes the place counted against another one.
            own = person is lonely or rng.random() < 0.8
            authority_id = person.authority_id if own else rng.choice(authorities[:4]).id
            enrolment = Enrolment(
                run_id=run.id, user_id=person.id, status="enrolled", authority_id=authority_id
            )
            db.session.add(enrolment)
            db.session.flush()
            for session in sessions:
                if session.run_id != run.id:
                    continue
                forced = person is lonely or session in (midnight, morning)
                if forced or rng.random() < 0.85:
                    status = "present" if forced else rng.choice(STATUSES)
                    db.session.add(
                        Attendance(session_id=session.id, enrolment_id=enrolment.id, status=status)
                    )
    db.session.commit()
    return World(authorities, runs)


# --- the figures, counted the plain way from the raw rows ---------------------------------------------------


def _raw() -> tuple[list[Any], list[Any], dict[int, str]]:
    sessions = db.session.execute(select(TrainingSession)).scalars().all()
    lines = db.session.execute(
        select(
            Attendance.session_id,
            Attendance.status,
            Enrolment.run_id,
            Enrolment.authority_id,
            User.id,
            User.sex,
            User.country_code,
        )
        .join(Enrolment, Enrolment.id == Attendance.enrolment_id)
        .join(User, User.id == Enrolment.user_id)
    ).all()
    modality = dict(db.session.execute(select(CourseRun.id, CourseRun.modality)).tuples().all())
    return list(sessions), list(lines), modality


def _day(session: TrainingSession) -> date:
    return session.starts_at.astimezone(ZoneInfo(session.timezone)).date()


def _periods(day: date) -> dict[str, str]:
    return {"year": str(day.year), "quarter": f"{day.year}-Q{(day.month + 2) // 3}", "month": f"{day:%Y-%m}"}


def _figures(held: list[TrainingSession], lines: list[Any], only_attended: bool) -> TrainingCell:
    runs = {s.run_id for s in held}
    if only_attended:
        runs = {line.run_id for line in lines}
    kept = [s for s in held if s.run_id in runs]
    day_of = {s.id: _day(s) for s in held}
    return TrainingCell(
        trainings=len(runs),
        training_days=len({(s.run_id, _day(s)) for s in kept}),
        locations=len(
            {(s.venue_city.strip().lower(), s.venue_country) for s in kept if s.format != "online"}
        ),
        online_trainings=len({s.run_id for s in kept if s.format == "online"}),
        participants=len({line.id for line in lines}),
        participant_days=len({(line.id, line.run_id, day_of[line.session_id]) for line in lines}),
        partners=len({line.authority_id for line in lines if line.authority_id is not None}),
    )


def expected(filters: IndicatorFilters) -> dict[tuple[str, str | None], TrainingCell]:
    sessions, all_lines, modality = _raw()
    held = [
        s
        for s in sessions
        if s.cancelled_at is None
        and (filters.date_from is None or _day(s) >= filters.date_from)
        and (filters.date_to is None or _day(s) <= filters.date_to)
        and (filters.modality is None or modality[s.run_id] == filters.modality)
        and (filters.run_id is None or s.run_id == filters.run_id)
    ]
    held_ids = {s.id for s in held}
    persons_filtered = bool(filters.country_code or filters.authority_id)
    lines = [
        line
        for line in all_lines
        if line.status in COUNTING
        and line.session_id in held_ids
        and (filters.country_code is None or line.country_code == filters.country_code)
        and (filters.authority_id is None or line.authority_id == filters.authority_id)
    ]
    result = {("total", ""): _figures(held, lines, persons_filtered)}
    person_keys: dict[str, Callable[[Any], str | None]] = {
        "sex": lambda line: line.sex,
        "country": lambda line: line.country_code,
        "authority": lambda line: None if line.authority_id is None else str(line.authority_id),
    }
    for dimension, key_of in person_keys.items():
        for key in {key_of(line) for line in lines}:
            group = [line for line in lines if key_of(line) == key]
            runs = {line.run_id for line in group}
            result[(dimension, key)] = _figures([s for s in held if s.run_id in runs], group, False)
    event_keys: dict[str, Callable[[TrainingSession], str]] = {
        "modality": lambda s: modality[s.run_id],
        "year": lambda s: _periods(_day(s))["year"],
        "quarter": lambda s: _periods(_day(s))["quarter"],
        "month": lambda s: _periods(_day(s))["month"],
    }
    for dimension, event_key in event_keys.items():
        for key in {event_key(s) for s in held}:
            part = [s for s in held if event_key(s) == key]
            ids = {s.id for s in part}
            cell = _figures(part, [line for line in lines if line.session_id in ids], persons_filtered)
            if cell.trainings:
                result[(dimension, key)] = cell
    return result


def computed(filters: IndicatorFilters) -> dict[tuple[str, str | None], TrainingCell]:
    tables = training_tables(filters)
    result = {("total", ""): tables.total}
    for dimension, cells in tables.breakdowns.items():
        result.update({(dimension, key): cell for key, cell in cells})
    return result


def test_every_figure_matches_a_count_from_the_raw_rows(app: Flask) -> None:
    world = build_world()
    md_authority = world.authorities[0].id
    cases = [
        IndicatorFilters(),
        IndicatorFilters(date_from=date(2026, 3, 10), date_to=date(2026, 5, 31)),  # starts on the local day
        IndicatorFilters(date_from=date(2026, 1, 1), date_to=date(2026, 12, 31)),
        IndicatorFilters(country_code="GE"),
        IndicatorFilters(authority_id=md_authority),
        IndicatorFilters(modality="blended"),
        IndicatorFilters(modality="in_person", country_code="MD", date_from=date(2025, 6, 1)),
        IndicatorFilters(run_id=world.runs[1].id, authority_id=world.authorities[2].id),
        IndicatorFilters(course_id=world.runs[0].course_id, date_to=date(2026, 3, 9)),
    ]
    for filters in cases:
        want, got = expected(filters), computed(filters)
        assert got == want, filters
    everything = computed(IndicatorFilters())
    total = everything[("total", "")]
    assert total.trainings >= 6 and total.participants > 20 and total.participant_days > total.participants
    assert {key for dimension, key in everything if dimension == "year"} == {"2025", "2026"}
    assert {"female", "male", None} <= {key for dimension, key in everything if dimension == "sex"}


def test_the_midnight_session_is_one_day_with_its_morning(app: Flask) -> None:
    world = build_world()
    cell = training_tables(IndicatorFilters(run_id=world.runs[6].id, date_from=date(2026, 3, 10))).total
    # Two sessions on one local day in Tbilisi (one of them on 9 March in UTC), one location ("Tbilisi"
    # and "tbilisi "): one training day, and each participant attended one day.
    assert (cell.trainings, cell.training_days, cell.locations) == (1, 1, 1)
    assert cell.participant_days == cell.participants > 0
    # The midnight session is not on 9 March, though its UTC start is.
    assert (
        training_tables(IndicatorFilters(run_id=world.runs[6].id, date_to=date(2026, 3, 9))).total.trainings
        == 0
    )


# --- page, CSV and XLSX ------------------------------------------------------------------------------------


def _plural(n: int, word: str) -> str:
    return f"{n} {word}" if n == 1 else f"{n} {'authorities' if word == 'authority' else word + 's'}"


def test_page_csv_and_xlsx_show_the_figures_and_hide_small_groups(
    app: Flask, make_user: Callable[..., User]
) -> None:
    world = build_world()
    admin = make_user(Role.ADMIN)
    client = app.test_client()
    login(client, admin)
    figures = expected(IndicatorFilters())
    year = figures[("year", "2026")]
    page = client.get("/reports/indicators?period=year").get_data(as_text=True)
    sentence = (
        f"In 2026: {_plural(year.trainings, 'training')} totalling {_plural(year.training_days, 'day')} at "
        f"{_plural(year.locations, 'location')} with {_plural(year.participants, 'participant')} from "
        f"{_plural(year.partners, 'authority')}."
    )
    assert sentence in page
    assert "Trainings and participant-days" in page and 'id="chart-trainings-title"' in page

    threshold = 4
    query = f"suppress=y&threshold={threshold}"
    hidden = f"<{threshold}"
    names = {str(a.id): a.name for a in world.authorities}
    small = [
        names[k] for (d, k), cell in figures.items() if d == "authority" and cell.participants < threshold
    ]
    large = [
        names[k] for (d, k), cell in figures.items() if d == "authority" and cell.participants >= threshold
    ]
    assert "Training authority 4" in small and large  # the lonely trainee's authority

    page = client.get(f"/reports/indicators?{query}").get_data(as_text=True)
    section = page[page.index('id="trainings-heading"') :]
    for name in small:
        row = section[section.index(f'<th scope="row" dir="auto">{name}</th>') :].split("</tr>")[0]
        assert row.count(f"&lt;{threshold}") == 7
    for name in large:
        row = section[section.index(f'<th scope="row" dir="auto">{name}</th>') :].split("</tr>")[0]
        assert "&lt;" not in row

    exported = client.get(f"/reports/indicators/export?{query}").data.decode("utf-8-sig")
    csv_rows = list(csv.reader(io.StringIO(exported)))
    header = csv_rows[0]
    assert header[-7:] == [
        "trainings",
        "training_days",
        "locations",
        "online_trainings",
        "training_participants",
        "participant_days",
        "partner_authorities",
    ]
    by_authority = {r[1]: r[-7:] for r in csv_rows if r[0] == "trainings_authority"}
    for name in small:
        assert by_authority[name] == [hidden] * 7
    for name in large:
        cell = next(c for (d, k), c in figures.items() if d == "authority" and names.get(str(k)) == name)
        assert by_authority[name] == [
            str(v)
            for v in (
                cell.trainings,
                cell.training_days,
                cell.locations,
                cell.online_trainings,
                cell.participants,
                cell.participant_days,
                cell.partners,
            )
        ]
    total_row = next(r for r in csv_rows if r[0] == "trainings")
    assert total_row[-1] == str(figures[("total", "")].partners)

    book = client.get(f"/reports/indicators/export?format=xlsx&{query}").data
    sheet = openpyxl.load_workbook(io.BytesIO(book), read_only=True).active
    assert sheet is not None
    xlsx_rows = {(r[0], r[1]): r[-7:] for r in sheet.iter_rows(min_row=2, values_only=True)}
    for name in small:
        assert list(xlsx_rows[("trainings_authority", name)]) == [hidden] * 7
    for name in large:
        assert all(isinstance(v, int | float) for v in xlsx_rows[("trainings_authority", name)])


@pytest.mark.parametrize(
    "query",
    [
        "period=century",
        "period=",
        "date_from=2026-02-31",
        "date_to=9999-99-99&period=year",
        "authority=99999999999999999999",
        "modality=nope&period=quarter",
    ],
)
def test_odd_filters_never_answer_500(app: Flask, make_user: Callable[..., User], query: str) -> None:
    build_world()
    client = app.test_client()
    login(client, make_user(Role.ADMIN))
    assert client.get(f"/reports/indicators?{query}").status_code in (200, 400)
    assert client.get(f"/reports/indicators/export?{query}").status_code in (200, 400)


@pytest.mark.browser
def test_the_section_passes_axe_in_english_and_arabic_at_phone_width(
    app: Flask, make_user: Callable[..., User], live_server: str, page: Any
) -> None:
    build_world()
    admin = make_user(Role.ADMIN)
    page.set_viewport_size({"width": 360, "height": 740})
    browser_sign_in(page, live_server, admin)
    found: dict[str, list[dict[str, Any]]] = {}
    for language in ("en", "ar"):
        choose_language(page, live_server, language)
        page.goto(f"{live_server}/reports/indicators?period=year&suppress=y&threshold=4")
        assert page.locator("#trainings-heading").is_visible()
        assert page.evaluate("document.documentElement.dir") == ("rtl" if language == "ar" else "ltr")
        if violations := axe_violations(page, contrast=language == "en"):
            found[language] = violations
    assert not found, describe(found)


def test_three_queries_on_indexes_whatever_the_size(app: Flask) -> None:
    """A fixed number of statements (more data, same count), and no full scan of the large tables."""
    world = build_world()
    statements: list[tuple[str, Any]] = []

    def record(_conn: Any, _cursor: Any, statement: str, parameters: Any, *_args: Any) -> None:
        if statement.lstrip().upper().startswith("SELECT"):  # not SQLite's BEGIN
            statements.append((statement, parameters))

    def run() -> int:
        statements.clear()
        event.listen(db.engine, "before_cursor_execute", record)
        try:
            training_tables(IndicatorFilters(date_from=date(2026, 1, 1), country_code="GE"))
        finally:
            event.remove(db.engine, "before_cursor_execute", record)
        return len(statements)

    before = run()
    build_world(seed=7)  # twice the runs, sessions, persons and lines
    assert world.runs and run() == before == 3
    for statement, parameters in statements:
        plan = explain(statement, parameters)
        scans = [line for line in plan if re.search(r"\bSCAN (attendance|enrolment|user)\b", line)]
        assert not [line for line in scans if "COVERING INDEX" not in line], (statement, plan)


def test_the_cached_figures_survive_the_round_trip(app: Flask) -> None:
    build_world()
    tables = training_tables(IndicatorFilters())
    assert _from_json(_to_json(tables, datetime.now(UTC)).encode()) == tables
