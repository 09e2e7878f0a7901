"""Who may join a course run, and whether a seat is free: pure decisions over plain values."""

from __future__ import annotations

import enum
from collections.abc import Collection, Sequence
from dataclasses import dataclass
from datetime import date


class Refusal(enum.StrEnum):
    NOT_ELIGIBLE = "not_eligible"
    WINDOW_NOT_OPEN = "window_not_open"
    WINDOW_CLOSED = "window_closed"
    NO_SEATS = "no_seats"
    QUOTA_USED = "quota_used"


@dataclass(frozen=True)
class Eligibility:
    open_to_all: bool
    countries: frozenset[str]
    authority_ids: frozenset[int]


def is_eligible(rule: Eligibility, country_code: str | None, authority_id: int | None) -> bool:
    """Everyone when the run is open to all; otherwise a listed country OR a listed authority."""
    if rule.open_to_all:
        return True
    if country_code is not None and country_code in rule.countries:
        return True
    return authority_id is not None and authority_id in rule.authority_ids


def window_refusal(
    today: date, opens_on: date | None, closes_on: date | None, ends_on: date | None
) -> Refusal | None:
    """The enrolment window is inclusive at both ends; a run that has ended takes nobody."""
    if opens_on is not None and today < opens_on:
        return Refusal.WINDOW_NOT_OPEN
    if closes_on is not None and today > closes_on:
        return Refusal.WINDOW_CLOSED
    if ends_on is not None and today > ends_on:
        return Refusal.WINDOW_CLOSED
    return None


@dataclass(frozen=True)
class SeatCounts:
    seats_total: int | None  # None: unlimited
    used_total: int
    quotas: dict[int, int]  # authority id -> its cap
    used_by_authority: dict[int, int]

    def refusal_for(self, authority_id: int | None) -> Refusal | None:
        if self.seats_total is not None and self.used_total >= self.seats_total:
            return Refusal.NO_SEATS
        quota = self.quotas.get(authority_id) if authority_id is not None else None
        if quota is not None and self.used_by_authority.get(authority_id or 0, 0) >= quota:
            return Refusal.QUOTA_USED
        return None

    def take(self, authority_id: int | None) -> SeatCounts:
        used = dict(self.used_by_authority)
        if authority_id is not None:
            used[authority_id] = used.get(authority_id, 0) + 1
        return SeatCounts(self.seats_total, self.used_total + 1, self.quotas, used)


def promotable(counts: SeatCounts, waiting: Sequence[tuple[int, int | None]]) -> list[int]:
    """Waiting entries (id, authority id) in list order -> the ids that now get a seat.

    Someone whose authority has used its quota is skipped, not blocking those behind them.
    """
    chosen: list[int] = []
    for entry_id, authority_id in waiting:
        if counts.seats_total is not None and counts.used_total >= counts.seats_total:
            break
        if counts.refusal_for(authority_id) is None:
            chosen.append(entry_id)
            counts = counts.take(authority_id)
    return chosen


def renumber(ids_in_order: Collection[int]) -> dict[int, int]:
    """Waiting-list positions 1..n after entries left or joined."""
    return {entry_id: position for position, entry_id in enumerate(ids_in_order, start=1)}
