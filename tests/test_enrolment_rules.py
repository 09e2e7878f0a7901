"""Pure enrolment rules: eligibility, the enrolment window, seats and quotas, waiting-list order."""

from __future__ import annotations

from datetime import date

from lms.enrolment.rules import (
    Eligibility,
    Refusal,
    SeatCounts,
    is_eligible,
    promotable,
    renumber,
    window_refusal,
)

TODAY = date(2026, 11, 23)


def test_eligibility_all_or_listed_countries_or_authorities() -> None:
    everyone = Eligibility(True, frozenset(), frozenset())
    assert is_eligible(everyone, None, None)
    listed = Eligibility(False, frozenset({"UA", "MD"}), frozenset({42}))
    assert is_eligible(listed, "UA", 1)
    assert is_eligible(listed, "JO", 42)
    assert not is_eligible(listed, "JO", 7)
    assert not is_eligible(listed, None, None)


def test_window_is_inclusive_and_an_ended_run_takes_nobody() -> None:
    assert window_refusal(TODAY, TODAY, TODAY, None) is None
    assert window_refusal(TODAY, date(2026, 11, 24), None, None) == Refusal.WINDOW_NOT_OPEN
    assert window_refusal(TODAY, None, date(2026, 11, 22), None) == Refusal.WINDOW_CLOSED
    assert window_refusal(TODAY, None, None, date(2026, 11, 1)) == Refusal.WINDOW_CLOSED
    assert window_refusal(TODAY, None, None, None) is None


def test_seats_and_quotas() -> None:
    counts = SeatCounts(seats_total=3, used_total=2, quotas={1: 1}, used_by_authority={1: 1, 2: 1})
    assert counts.refusal_for(2) is None
    assert counts.refusal_for(1) == Refusal.QUOTA_USED
    assert counts.refusal_for(None) is None
    full = counts.take(2)
    assert full.refusal_for(2) == Refusal.NO_SEATS
    unlimited = SeatCounts(seats_total=None, used_total=500, quotas={}, used_by_authority={})
    assert unlimited.refusal_for(9) is None


def test_promotion_follows_the_list_and_skips_authorities_over_quota() -> None:
    counts = SeatCounts(seats_total=4, used_total=2, quotas={1: 1}, used_by_authority={1: 1, 2: 1})
    waiting = [(10, 1), (11, 2), (12, 1), (13, 3), (14, 3)]
    assert promotable(counts, waiting) == [11, 13]
    assert renumber([10, 12, 14]) == {10: 1, 12: 2, 14: 3}
