"""The "Trainings and participant-days" part of the admin indicator report and of its donor exports:
shown rows (with the report's suppression), the chart over periods, and the yearly summary sentence.
The figures come from lms.reports.training_indicators; the definitions are in
lms.reports.training_figures."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from flask_babel import gettext as _
from flask_babel import ngettext
from markupsafe import Markup

from lms.i18n import localized_number
from lms.reports.charts import Bar, column_chart
from lms.reports.forms import modality_choices
from lms.reports.training_figures import (
    PERSON_DIMENSIONS,
    TrainingRow,
    TrainingTables,
    training_row,
)
from lms.reports.training_indicators import sex_filter

PERIODS = ("year", "quarter", "month")
TABLE_DIMENSIONS = (*PERSON_DIMENSIONS, "modality")

# A label for a person dimension's key (sex, country, authority): the page's own (views._dimension_label).
Labeller = Callable[[str, str | None], str]


@dataclass(frozen=True)
class TrainingSection:
    total: TrainingRow
    breakdowns: dict[str, list[TrainingRow]]  # sex, country, authority, modality
    period: str  # year, quarter or month: the chart's and the period table's unit
    periods: list[TrainingRow]
    bars: list[Bar]
    chart: Markup
    summaries: list[str]  # one sentence per year
    sex: str | None = None  # the section's own sex filter (training_indicators.SEX_FILTERS), None: all
    sex_choices: tuple[tuple[str, str], ...] = ()  # (value, label) for its select, "" first (all)


def _modality_label(key: str | None) -> str:
    labels = {choice.value: str(choice.label) for choice in modality_choices() if choice.value}
    return labels.get(key or "", key or _("Not recorded"))


def _label(dimension: str, key: str | None, person_label: Labeller) -> str:
    if dimension == "modality":
        return _modality_label(key)
    if dimension in PERSON_DIMENSIONS:
        return person_label(dimension, key)
    return key or ""


def _rows(
    tables: TrainingTables, dimension: str, person_label: Labeller, threshold: int | None
) -> list[TrainingRow]:
    return [
        training_row(_label(dimension, key, person_label), cell, threshold)
        for key, cell in tables.breakdowns.get(dimension, [])
    ]


def _number(value: int | str) -> str:
    return value if isinstance(value, str) else localized_number(value)


def summary_sentence(row: TrainingRow, threshold: int | None) -> str:
    """ "In 2026: 12 trainings totalling 30 days at 4 locations with 310 participants from 25 authorities."
    (each noun agrees with its number in the page's language), or the suppression notice."""
    if row.hidden:
        return _(
            "In %(year)s: the training figures are about fewer than %(n)s persons and are not shown.",
            year=row.label,
            n=threshold or 0,
        )

    # Literal ngettext calls (the catalogue extraction finds only those); a hidden count ("<5") takes the
    # plural form of its threshold.
    def n(value: int | str) -> int:
        return value if isinstance(value, int) else (threshold or 0)

    return _(
        "In %(year)s: %(trainings)s totalling %(days)s at %(locations)s with %(participants)s from "
        "%(authorities)s.",
        year=row.label,
        trainings=ngettext("%(count)s training", "%(count)s trainings", n(row.trainings),
                           count=_number(row.trainings)),
        days=ngettext("%(count)s day", "%(count)s days", n(row.training_days),
                      count=_number(row.training_days)),
        locations=ngettext("%(count)s location", "%(count)s locations", n(row.locations),
                           count=_number(row.locations)),
        participants=ngettext("%(count)s participant", "%(count)s participants", n(row.participants),
                              count=_number(row.participants)),
        authorities=ngettext("%(count)s authority", "%(count)s authorities", n(row.partners),
                             count=_number(row.partners)),
    )  # fmt: skip


def sex_choices() -> tuple[tuple[str, str], ...]:
    return (
        ("", _("All")),
        ("female", _("Female")),
        ("male", _("Male")),
        ("undisclosed", _("Not disclosed or not recorded")),
    )


def training_section(
    tables: TrainingTables,
    threshold: int | None,
    period: str | None,
    person_label: Labeller,
    sex: str | None = None,
) -> TrainingSection:
    unit = period if period in PERIODS else "quarter"
    periods = _rows(tables, unit, person_label, threshold)
    bars = [
        Bar(row.label, 0.0 if row.hidden else float(row.participant_days), str(row.participant_days))
        for row in periods
    ]
    chart = column_chart(
        "chart-trainings",
        _("Participant-days per period"),
        _("Days attended by participants of trainings, summed per period; the numbers are in the table "
          "beside the chart."),
        bars,
    )  # fmt: skip
    years = _rows(tables, "year", person_label, threshold)
    return TrainingSection(
        total=training_row(_("All"), tables.total, threshold),
        breakdowns={d: _rows(tables, d, person_label, threshold) for d in TABLE_DIMENSIONS},
        period=unit,
        periods=periods,
        bars=bars,
        chart=chart,
        summaries=[summary_sentence(row, threshold) for row in years],
        sex=sex_filter(sex),
        sex_choices=sex_choices(),
    )


TRAINING_HEADER = (
    "trainings", "training_days", "locations", "online_trainings", "training_participants",
    "participant_days", "partner_authorities",
)  # fmt: skip
ENROLMENT_COLUMNS = 11  # the indicator columns of the export that training rows leave empty


def training_export_rows(
    tables: TrainingTables, threshold: int | None, person_label: Labeller
) -> list[list[Any]]:
    """Rows for the indicator export (CSV and XLSX), suppressed like the page: breakdown "trainings" for
    the total, "trainings_<dimension>" for the others; the figures go in the TRAINING_HEADER columns."""
    blank = [None] * ENROLMENT_COLUMNS

    def row(breakdown: str, shown: TrainingRow) -> list[Any]:
        label, *figures = shown.values()
        return [breakdown, label, *blank, *figures]

    rows = [row("trainings", training_row(_("All"), tables.total, threshold))]
    for dimension in (*TABLE_DIMENSIONS, *PERIODS):
        rows += [
            row(f"trainings_{dimension}", shown)
            for shown in _rows(tables, dimension, person_label, threshold)
        ]
    return rows
