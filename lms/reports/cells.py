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

Sums of percents are floats: a cell kept by differences can differ from a fresh sum in the last binary
digits (1e-12), never in a figure the report shows.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Iterator
from typing import Any

from sqlalchemy import Connection, String, cast, func, literal, select, union_all
from sqlalchemy.dialects.postgresql import insert as postgresql_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert

from lms.reports.models import IndicatorCell, IndicatorFact

CELL = IndicatorCell.__table__
FIGURES = ("participants", "enrolments", "completions", "completed_persons", "certificates",
           "completed_hours", "paired", "pre_sum", "post_sum")  # fmt: skip
Key = tuple[str, str]  # (dimension, key)
Cells = dict[Key, list[float]]
CHUNK = 500  # persons per IN list
# Tolerance for "no change" in a float sum: percents are stored with a few decimals at most.
EPSILON = 1e-9


def _person_sums(users: list[int] | None) -> Any:
    """Per person (kind "p") and per (authority, person) (kind "a") sums, and completed places per month
    (kind "m"), of these persons' facts (None: everyone's)."""
    fact = IndicatorFact

    def sums(kind: str, *keys: Any) -> Any:
        query = select(
            literal(kind).label("kind"),
            *keys,
            func.count(),
            func.count(fact.completed_month),
            func.sum(fact.certificate),
            func.sum(fact.hours),
            func.sum(fact.paired),
            func.sum(fact.pre_percent),
            func.sum(fact.post_percent),
        )
        return query if users is None else query.where(fact.user_id.in_(users))

    text = String(20)
    blank = cast(literal(""), text)
    person = sums("p", func.min(fact.country_code), func.min(fact.sex), func.min(fact.age_band))
    person = person.group_by(fact.user_id)
    authority = sums("a", cast(fact.authority_id, text), blank, blank).group_by(
        fact.authority_id, fact.user_id
    )
    month = select(
        literal("m"), fact.completed_month, blank, blank, func.count(), func.count(), *([literal(0)] * 5)
    ).where(fact.completed_month.is_not(None))
    if users is not None:
        month = month.where(fact.user_id.in_(users))
    return union_all(person, authority, month.group_by(fact.completed_month))


def _add(cells: Cells, key: Key, values: list[float]) -> None:
    cell = cells.get(key)
    if cell is None:
        cells[key] = list(values)
    else:
        for index, value in enumerate(values):
            cell[index] += value


def _cells_of(rows: Iterable[Any], cells: Cells) -> None:
    for kind, first, second, third, places, done, certificates, hours, paired, pre, post in rows:
        if kind == "m":
            _add(cells, ("month", first), [0, places, places, 0, 0, 0, 0, 0, 0])
            continue
        values = [1, places, done, 1 if done else 0, certificates or 0, hours or 0, paired or 0,
                  pre or 0.0, post or 0.0]  # fmt: skip
        if kind == "a":
            _add(cells, ("authority", first or ""), values)
            continue
        _add(cells, ("total", ""), values)
        for dimension, key in (("country", first), ("sex", second), ("age_band", third)):
            _add(cells, (dimension, key or ""), values)


def _chunks(ids: Iterable[int]) -> Iterator[list[int]]:
    ordered = sorted(ids)
    for start in range(0, len(ordered), CHUNK):
        yield ordered[start : start + CHUNK]


def contributions(connection: Connection, users: Iterable[int] | None) -> Cells:
    """What these persons (None: everyone) add to each cell, from the facts as they stand."""
    cells: Cells = defaultdict(lambda: [0] * len(FIGURES))
    if users is None:
        _cells_of(connection.execute(_person_sums(None)), cells)
    else:
        for chunk in _chunks(users):
            _cells_of(connection.execute(_person_sums(chunk)), cells)
    return dict(cells)


def difference(before: Cells, after: Cells) -> Cells:
    """after - before, without the cells that did not change."""
    changed: Cells = {}
    for key in sorted(before.keys() | after.keys()):
        old, new = before.get(key), after.get(key)
        delta = [n - o for n, o in zip(new or [0] * len(FIGURES), old or [0] * len(FIGURES), strict=True)]
        scale = max((abs(value) for value in new or old or [1]), default=1)
        if any(abs(value) > EPSILON * max(scale, 1) for value in delta):
            changed[key] = delta
    return changed


def apply(connection: Connection, delta: Cells) -> None:
    """Add each cell's difference (upserts, in key order)."""
    build = postgresql_insert if connection.dialect.name == "postgresql" else sqlite_insert
    for (dimension, key), values in sorted(delta.items()):
        statement = build(CELL).values(
            dimension=dimension, key=key, **dict(zip(FIGURES, values, strict=True))
        )
        statement = statement.on_conflict_do_update(
            index_elements=[CELL.c.dimension, CELL.c.key],
            set_={name: CELL.c[name] + statement.excluded[name] for name in FIGURES},
        )
        connection.execute(statement)


def rebuild(connection: Connection) -> None:
    """Every cell recomputed from the facts."""
    connection.execute(CELL.delete())
    rows = [
        {"dimension": dimension, "key": key, **dict(zip(FIGURES, values, strict=True))}
        for (dimension, key), values in sorted(contributions(connection, None).items())
    ]
    if rows:
        connection.execute(CELL.insert(), rows)


def stored(connection: Connection) -> Cells:
    """The cells as stored, without the empty ones (a cell whose last place went away stays, at zero)."""
    rows = connection.execute(select(CELL.c.dimension, CELL.c.key, *(CELL.c[n] for n in FIGURES)))
    return {(d, k): list(values) for d, k, *values in rows if values[1]}


def differences(connection: Connection) -> list[Key]:
    """Cells whose stored figures differ from the facts' (empty when the cells are true)."""
    return sorted(difference(stored(connection), contributions(connection, None)))
