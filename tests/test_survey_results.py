"""Survey results arithmetic (lms/surveys/results.py, lms/surveys/result_export.py): pure, no app.

The minimum group of five: with four responses every figure, free text included, is NOT_ENOUGH (never a
zero), with five they show; means and shares are checked against numbers worked out by hand.
"""

from __future__ import annotations

import csv
import io
from datetime import date

from lms.csv_export import csv_bytes
from lms.surveys.result_export import RESULT_HEADER, rate_rows, result_rows
from lms.surveys.result_queries import RateRow
from lms.surveys.results import (
    NOT_ENOUGH,
    NOT_ENOUGH_TEXT,
    Answer,
    ItemSpec,
    Response,
    by_period,
    combine_items,
    counts_as_applied,
    group_result,
    item_result,
    respondent_applying,
    respondent_satisfied,
    response_rate,
)

RELEVANT = ItemSpec("relevant", "agreement", "satisfaction")
TRAINERS = ItemSpec("trainers", "agreement", "satisfaction")
RATING = ItemSpec("overall", "rating")
LANGS = ItemSpec("useful_parts", "multiple", None, ("law", "docs", "risk"))
COMMENT = ItemSpec("comment", "text")
ITEMS = [RELEVANT, TRAINERS, RATING, LANGS, COMMENT]

# relevant, trainers, overall, useful parts, comment
ROWS = [
    (5, 4, 9, ("law", "docs"), "Very good"),
    (4, 2, 7, ("law",), "<script>alert(1)</script>"),
    (2, 3, 10, ("risk",), "**bold**"),
    (5, 5, 8, ("law", "risk"), "ok"),
    (3, 4, 6, ("docs",), "more practice"),
]


def _responses(count: int) -> list[Response]:
    out = []
    for n, (relevant, trainers, overall, parts, comment) in enumerate(ROWS[:count]):
        answers = {
            "relevant": Answer(number=relevant),
            "trainers": Answer(number=trainers),
            "overall": Answer(number=overall),
            "useful_parts": Answer(choices=parts),
            "comment": Answer(text=comment),
        }
        out.append(Response(answers, "en", date(2026, 1 + 2 * n, 10)))
    return out


def test_four_responses_hide_every_figure_including_free_text() -> None:
    group = group_result(ITEMS, _responses(4))
    assert group.responses is NOT_ENOUGH and not group.enough
    assert group.satisfied is NOT_ENOUGH
    for item in group.items:
        assert item.n is NOT_ENOUGH
    by_key = {item.key: item for item in group.items}
    assert by_key["relevant"].mean is NOT_ENOUGH and by_key["relevant"].share_satisfied is NOT_ENOUGH
    assert by_key["relevant"].distribution is NOT_ENOUGH
    assert by_key["useful_parts"].distribution is NOT_ENOUGH
    assert by_key["comment"].texts is NOT_ENOUGH
    assert NOT_ENOUGH != 0 and NOT_ENOUGH is not None and str(NOT_ENOUGH) == "not enough responses"


def test_five_responses_show_exact_means_shares_and_distributions() -> None:
    group = group_result(ITEMS, _responses(5))
    assert group.responses == 5
    by_key = {item.key: item for item in group.items}
    relevant = by_key["relevant"]
    assert relevant.n == 5
    assert relevant.mean == 3.8  # (5+4+2+5+3)/5
    assert relevant.share_satisfied == 60.0  # 5, 4, 5 of five
    assert relevant.distribution == [(1, 0), (2, 1), (3, 1), (4, 1), (5, 2)]
    assert by_key["trainers"].mean == 3.6 and by_key["trainers"].share_satisfied == 60.0
    assert by_key["overall"].mean == 8.0 and by_key["overall"].share_satisfied is None
    assert len(by_key["overall"].distribution) == 11
    assert by_key["useful_parts"].distribution == [("law", 3), ("docs", 2), ("risk", 2)]
    assert by_key["useful_parts"].n == 5
    assert (
        item_result(LANGS, [Answer(choices=())] + [Answer(choices=("law",))] * 4).n is NOT_ENOUGH
    )  # empty: no answer
    assert by_key["comment"].texts == sorted(row[4] for row in ROWS)
    # respondents: means of (relevant, trainers) 4.5, 3.0, 2.5, 5.0, 3.5 -> 2 of 5 satisfied
    assert group.satisfied == 40.0
    assert group.applying is None  # no applied item in this form


def test_an_item_answered_by_fewer_than_five_is_hidden_in_a_large_group() -> None:
    responses = _responses(5)
    optional = ItemSpec("extra", "agreement")
    responses[0] = Response({**responses[0].answers, "extra": Answer(number=5)})
    group = group_result([*ITEMS, optional], responses)
    extra = group.items[-1]
    assert extra.n is NOT_ENOUGH and extra.mean is NOT_ENOUGH
    assert group.items[0].n == 5


def test_applied_rules() -> None:
    single = ItemSpec("applied", "single", "applied", ("yes_often", "yes_sometimes", "no"))
    marked = ItemSpec("used", "single", "applied", ("regularly", "never"), positive=("regularly",))
    agreement = ItemSpec("applied_scale", "agreement", "applied")
    assert counts_as_applied(single, Answer(choices=("yes_sometimes",)))
    assert not counts_as_applied(single, Answer(choices=("no",)))
    assert counts_as_applied(marked, Answer(choices=("regularly",)))
    assert not counts_as_applied(marked, Answer(choices=("never",)))
    assert counts_as_applied(agreement, Answer(number=4)) and not counts_as_applied(
        agreement, Answer(number=3)
    )
    answers = [Answer(choices=(c,)) for c in ("yes_often", "no", "yes_sometimes", "no", "yes_often", "no")]
    assert item_result(single, answers).share_applied == 50.0
    assert item_result(single, answers[:4]).share_applied is NOT_ENOUGH
    assert respondent_applying([single], {"applied": Answer(choices=("no",))}) is False
    assert respondent_applying([single], {}) is None
    assert respondent_satisfied([RELEVANT, TRAINERS], {"relevant": Answer(number=4)}) is True


def test_versions_combine_by_key_and_keep_retired_items() -> None:
    v1 = [ItemSpec("relevant", "agreement", "satisfaction"), ItemSpec("old", "text")]
    v2 = [
        ItemSpec("relevant", "agreement", "satisfaction"),
        ItemSpec("old", "text", retired=True),
        ItemSpec("parts", "single", None, ("a", "b")),
    ]
    v3 = [ItemSpec("parts", "single", None, ("b", "c"))]
    combined = combine_items([v1, v2, v3])
    assert [i.key for i in combined] == ["relevant", "old", "parts"]
    assert combined[1].retired and combined[2].options == ("a", "b", "c")


def test_periods_are_groups_of_their_own() -> None:
    responses = _responses(5)
    six = [*responses, Response(responses[0].answers, "en", date(2026, 3, 20))]
    periods = dict(by_period(ITEMS, [Response(r.answers, "en", date(2026, 3, 1)) for r in six]))
    assert periods["2026-Q1"].responses == 6
    spread = dict(by_period(ITEMS, six))
    assert all(group.responses is NOT_ENOUGH for group in spread.values())
    assert dict(by_period(ITEMS, six, "month")).keys() >= {"2026-03"}


def test_response_rate_needs_five_invited() -> None:
    assert response_rate(3, 4) == (NOT_ENOUGH, NOT_ENOUGH, NOT_ENOUGH)
    assert response_rate(3, 5) == (5, 3, 60.0)
    assert response_rate(0, 8) == (8, 0, 0.0)


def _exported(rows: list[list[object]]) -> list[dict[str, str]]:
    text = csv_bytes(RESULT_HEADER, rows).decode("utf-8-sig")
    return list(csv.DictReader(io.StringIO(text)))


def test_export_rows_write_the_text_never_a_number() -> None:
    hidden = _exported(list(result_rows("end_of_course", "7", group_result(ITEMS, _responses(4)), {})))
    values = {row["value"] for row in hidden}
    assert values == {NOT_ENOUGH_TEXT}
    assert not any(row["value"] in ("<script>alert(1)</script>", "Very good") for row in hidden)
    shown = _exported(list(result_rows("end_of_course", "7", group_result(ITEMS, _responses(5)), {})))
    means = {row["item_key"]: row["value"] for row in shown if row["measure"] == "mean"}
    assert means["relevant"] == "3.8"
    assert {row["value"] for row in shown if row["measure"] == "text"} >= {"<script>alert(1)</script>"}
    rates = {
        "run": [RateRow("run", "7", *response_rate(2, 4))],
        "sex": [RateRow("sex", "female", *response_rate(3, 6))],
    }
    rate_values = _exported(list(rate_rows("end_of_course", "7", rates)))
    assert [r["value"] for r in rate_values[:3]] == [NOT_ENOUGH_TEXT] * 3
    assert [r["value"] for r in rate_values[3:]] == ["6", "3", "50.0"]


def test_a_form_without_indicator_items_has_no_such_share_even_when_small() -> None:
    for count in (4, 5):
        group = group_result([RATING, COMMENT], _responses(count))
        assert group.satisfied is None and group.applying is None
