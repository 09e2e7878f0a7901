"""The whole academy's indicator cells (lms.reports.models.IndicatorCell), kept true by difference (issue 22).

The unfiltered indicator report groups every fact twice (per person, then per cell): 0.45-0.55 s on the L
data set (200,000 places), seconds on XL. Its result is a few hundred numbers, so it is stored: one row per
cell (the total, each country, sex, age band, authority and completion month).

A person's contribution to the cells depends only on their own facts (their sums, their country, sex and
age band, and their places per authority). So `lms.reports.facts.refresh`, which rewrites the facts of
some places, reads the contributions of the persons concerned before and after (`contributions`, one
statement per chunk of persons) and adds the difference to the cells (`apply`, one upsert per changed
cell, in key order so that two PostgreSQL transactions never wait on each other in a cycle). A write that
changes no figure (a practice quiz finished, a profile saved unchanged) changes no cell. `rebuild` and
`differences` recompute every cell from the facts (the full rebuild; `flask lms reports check-facts`).

The same pass keeps the month buckets (lms.reports.models.IndicatorBucket, the date-filtered report): a
person's rows there depend only on their own places too (each place's month, and the month of the
person's previous place and previous completed place, per person and per person at an authority), so
they are read and differenced with the cells. The contributions are summed here in Python from the
persons' facts (one statement per chunk of persons, a few places each), and each write's difference goes
to one of `SLOTS` rows per cell (by its smallest person id): the rows are summed at read time, so two
PostgreSQL writers that change the total no longer queue on one row lock.

Sums of percents are floats: a cell kept by differences can differ from a fresh sum in the last binary
digits (1e-12), never in a figure the report shows.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass
from typing import Any

from sqlalchemy import Connection, func, select
from sqlalchemy.dialects.postgresql import insert as postgresql_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert

from lms.reports.models import IndicatorBucket, IndicatorCell, IndicatorFact

CELL = IndicatorCell.__table__
BUCKET = IndicatorBucket.__table__
CELL_KEY = ("dimension", "key")
BUCKET_KEY = ("month", "dimension", "key", "since")
SLOTS = 8  # rows per cell (issue 22: the PostgreSQL hot row)
FIGURES = ("participants", "enrolments", "completions", "completed_persons", "certificates",
           "completed_hours", "paired", "pre_sum", "post_sum")  # fmt: skip
Key = tuple[str, str]  # (dimension, key)
Cells = dict[Key, list[float]]
Buckets = dict[tuple[str, str, str, str], list[float]]  # (month, dimension, key, since)
CHUNK = 500  # persons per IN list
# Tolerance for "no change" in a float sum: percents are stored with a few decimals at most.
EPSILON = 1e-9


FACT_COLUMNS = ("user_id", "enrolment_id", "enrolled_at", "completed_month", "certificate", "hours", "paired",
                "pre_percent", "post_percent", "country_code", "sex", "age_band", "authority_id")  # fmt: skip


def _facts_of(connection: Connection, users: list[int] | None) -> Any:
    """These persons' facts (None: everyone's), in the table's own order (the person first)."""
    fact = IndicatorFact.__table__
    query = select(*(fact.c[name] for name in FACT_COLUMNS))
    if users is not None:
        query = query.where(fact.c.user_id.in_(users))
    return connection.execute(query.order_by(fact.c.user_id, fact.c.enrolment_id))


def _add(cells: dict[Any, list[float]], key: Any, values: Sequence[float]) -> None:
    cell = cells.get(key)
    if cell is None:
        cells[key] = list(values)
    else:
        for index, value in enumerate(values):
            cell[index] += value


def month_of(moment: Any) -> str:
    """ "YYYYMM" of an enrolment date, in UTC (the report's whole days are UTC days)."""
    return f"{moment.year:04d}{moment.month:02d}"


def _person_cells(places: list[Any], cells: Cells, buckets: Buckets) -> None:
    """One person's contribution to the whole academy's cells and to the month buckets."""
    places.sort(key=lambda row: (row.enrolled_at, row.enrolment_id))
    first = places[0]
    person_keys = [("total", ""), ("country", first.country_code or ""), ("sex", first.sex or ""),
                   ("age_band", first.age_band or "")]  # fmt: skip
    # Whole academy: the person's sums (and per authority), as the report groups them.
    scopes: dict[Any, list[Any]] = {None: places}
    for row in places:
        scopes.setdefault(
            ("authority", "" if row.authority_id is None else str(row.authority_id)), []
        ).append(row)
    for scope, rows in scopes.items():
        done = sum(1 for row in rows if row.completed_month is not None)
        values = [1, len(rows), done, 1 if done else 0, sum(row.certificate or 0 for row in rows),
                  sum(row.hours or 0 for row in rows), sum(row.paired or 0 for row in rows),
                  sum(row.pre_percent or 0.0 for row in rows),
                  sum(row.post_percent or 0.0 for row in rows)]  # fmt: skip
        for key in person_keys if scope is None else [scope]:
            _add(cells, key, values)
        # Per month of enrolment: each place's sums in its month, and its person counted again in the
        # row "since" the month of the scope's previous place (and previous completed place).
        previous = previous_done = ""
        for row in rows:
            month = month_of(row.enrolled_at)
            is_done = row.completed_month is not None
            additive = [0, 1, 1 if is_done else 0, 0, row.certificate or 0, row.hours or 0, row.paired or 0,
                        row.pre_percent or 0.0, row.post_percent or 0.0]  # fmt: skip
            for dimension, key in person_keys if scope is None else [scope]:
                _add(buckets, (month, dimension, key, ""), additive)
                _add(buckets, (month, dimension, key, previous), [1] + [0] * (len(FIGURES) - 1))
                if is_done:
                    _add(buckets, (month, dimension, key, previous_done), [0, 0, 0, 1, 0, 0, 0, 0, 0])
            previous = month
            if is_done:
                previous_done = month
    for row in places:
        if row.completed_month is not None:
            _add(cells, ("month", row.completed_month), [0, 1, 1, 0, 0, 0, 0, 0, 0])
            _add(
                buckets,
                (month_of(row.enrolled_at), "month", row.completed_month, ""),
                [0, 1, 1, 0, 0, 0, 0, 0, 0],
            )


def _chunks(ids: Iterable[int]) -> Iterator[list[int]]:
    ordered = sorted(ids)
    for start in range(0, len(ordered), CHUNK):
        yield ordered[start : start + CHUNK]


def _contributions_of(rows: Iterable[Any], cells: Cells, buckets: Buckets) -> None:
    person: list[Any] = []
    for row in rows:
        if person and person[0].user_id != row.user_id:
            _person_cells(person, cells, buckets)
            person = []
        person.append(row)
    if person:
        _person_cells(person, cells, buckets)


@dataclass
class Contributions:
    """Figures per cell and per bucket (what some persons add, or a difference), and the slot row a
    difference goes to."""

    cells: Cells
    buckets: Buckets
    slot: int = 0


def contributions(connection: Connection, users: Iterable[int] | None) -> Contributions:
    """What these persons (None: everyone) add to each cell and each month bucket, from the facts as they
    stand: one statement per chunk of persons, summed here (a person's places are few)."""
    cells: Cells = {}
    buckets: Buckets = {}
    if users is None:
        _contributions_of(_facts_of(connection, None), cells, buckets)
        return Contributions(cells, buckets)
    users = list(users)
    for chunk in _chunks(users):
        _contributions_of(_facts_of(connection, chunk), cells, buckets)
    return Contributions(cells, buckets, slot_of(users))


def difference(before: Contributions, after: Contributions) -> Contributions:
    """after - before, without the cells and buckets that did not change (to the slot of ``after``)."""
    return Contributions(
        _changed(before.cells, after.cells), _changed(before.buckets, after.buckets), after.slot
    )


def _changed(before: dict[Any, list[float]], after: dict[Any, list[float]]) -> dict[Any, list[float]]:
    """after - before, without the keys that did not change."""
    changed: dict[Any, list[float]] = {}
    for key in sorted(before.keys() | after.keys()):
        old, new = before.get(key), after.get(key)
        delta = [n - o for n, o in zip(new or [0] * len(FIGURES), old or [0] * len(FIGURES), strict=True)]
        scale = max((abs(value) for value in new or old or [1]), default=1)
        if any(abs(value) > EPSILON * max(scale, 1) for value in delta):
            changed[key] = delta
    return changed


def slot_of(users: Iterable[int]) -> int:
    """The row of each cell this write adds to: writers for different persons mostly lock different rows."""
    return min(users, default=0) % SLOTS


def apply(connection: Connection, delta: Contributions) -> None:
    """Add each cell's and bucket's difference to its slot row: one multi-row upsert per table, in key
    order (two PostgreSQL transactions never wait on each other in a cycle)."""
    build = postgresql_insert if connection.dialect.name == "postgresql" else sqlite_insert
    for table, changes in ((CELL, delta.cells), (BUCKET, delta.buckets)):
        if not changes:
            continue
        names = CELL_KEY if table is CELL else BUCKET_KEY
        rows = [
            {
                **dict(zip(names, key, strict=True)),
                "slot": delta.slot,
                **dict(zip(FIGURES, values, strict=True)),
            }
            for key, values in sorted(changes.items())
        ]
        statement = build(table).values(rows)
        statement = statement.on_conflict_do_update(
            index_elements=[table.c[name] for name in (*names, "slot")],
            set_={name: table.c[name] + statement.excluded[name] for name in FIGURES},
        )
        connection.execute(statement)


def rebuild(connection: Connection) -> None:
    """Every cell and bucket recomputed from the facts."""
    everything = contributions(connection, None)
    for table, computed in ((CELL, everything.cells), (BUCKET, everything.buckets)):
        connection.execute(table.delete())
        names = CELL_KEY if table is CELL else BUCKET_KEY
        rows = [
            {**dict(zip(names, key, strict=True)), "slot": 0, **dict(zip(FIGURES, values, strict=True))}
            for key, values in sorted(computed.items())
        ]
        for start in range(0, len(rows), 5000):
            connection.execute(table.insert(), rows[start : start + 5000])


def _summed(connection: Connection, table: Any, names: tuple[str, ...]) -> dict[Any, list[float]]:
    keys = [table.c[name] for name in names]
    rows = connection.execute(select(*keys, *(func.sum(table.c[n]) for n in FIGURES)).group_by(*keys))
    return {tuple(row[: len(names)]): list(row[len(names) :]) for row in rows}


def stored(connection: Connection) -> Contributions:
    """The cells and buckets as stored (their slots summed), without the empty ones (a cell whose last
    place went away stays, at zero)."""
    cells = {key: values for key, values in _summed(connection, CELL, CELL_KEY).items() if any(values)}
    buckets = {key: values for key, values in _summed(connection, BUCKET, BUCKET_KEY).items() if any(values)}
    return Contributions(cells, buckets)


def differences(connection: Connection) -> list[Any]:
    """Cells and buckets whose stored figures differ from the facts' (empty when they are true)."""
    changed = difference(stored(connection), contributions(connection, None))
    return sorted(changed.cells) + sorted(changed.buckets)
