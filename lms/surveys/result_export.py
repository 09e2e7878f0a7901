"""Survey results as rows for a CSV or XLSX download (lms.csv_export, lms.reports.exports write them).

One long table, a row per figure: a spreadsheet filters it by survey, item and measure. A hidden figure
is written as the text "not enough responses", never as a number or an empty cell; free text is written
as text (the CSV writer neutralises anything that looks like a formula).
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from typing import Any

from lms.surveys.results import NOT_ENOUGH, GroupResult, ItemResult, shown_text

RESULT_HEADER = ("survey", "run", "item_key", "item_type", "prompt", "measure", "point_or_option", "value")


def _item_rows(prefix: list[Any], item: ItemResult, prompt: str) -> Iterator[list[Any]]:
    head = [*prefix, item.key, item.type, prompt]
    yield [*head, "answers", "", shown_text(item.n)]
    for measure, value in (("mean", item.mean), ("share_satisfied_percent", item.share_satisfied),
                           ("share_applied_percent", item.share_applied)):  # fmt: skip
        if value is not None:
            yield [*head, measure, "", shown_text(value)]
    if item.distribution is NOT_ENOUGH:
        yield [*head, "count", "", shown_text(NOT_ENOUGH)]
    elif item.distribution is not None:
        for point, count in item.distribution:
            yield [*head, "count", str(point), count]
    if item.texts is NOT_ENOUGH:
        yield [*head, "text", "", shown_text(NOT_ENOUGH)]
    elif item.texts is not None:
        for text in item.texts:
            yield [*head, "text", "", text]


def result_rows(kind: str, run: str, group: GroupResult, prompts: Mapping[str, str]) -> Iterator[list[Any]]:
    """The rows of one group (a run's survey, or a course's runs together: ``run`` is "all")."""
    prefix: list[Any] = [kind, run]
    yield [*prefix, "", "", "", "responses", "", shown_text(group.responses)]
    for measure, value in (("respondents_satisfied_percent", group.satisfied),
                           ("respondents_applying_percent", group.applying)):  # fmt: skip
        if value is not None:
            yield [*prefix, "", "", "", measure, "", shown_text(value)]
    for item in group.items:
        yield from _item_rows(prefix, item, prompts.get(item.key, ""))


def rate_rows(kind: str, run: str, rates: Mapping[str, list[Any]]) -> Iterator[list[Any]]:
    """Response rates (lms.surveys.result_queries.RateRow) by run, sex, country and authority."""
    for dimension, rows in rates.items():
        for row in rows:
            point = f"{dimension}:{row.key if row.key is not None else ''}"
            for measure, value in (("invited", row.invited), ("answered", row.answered),
                                   ("response_rate_percent", row.rate)):  # fmt: skip
                yield [kind, run, "", "", "", measure, point, shown_text(value)]
