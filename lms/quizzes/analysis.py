"""Item analysis over submitted attempts, in one pass over plain rows (pure; tested without an app).

Facility index: the mean fraction of the question's points that trainees scored (0..1; high = easy).
Discrimination index: the Pearson correlation between the score on the question and the score on the rest
of the attempt (the total minus this question), as Moodle reports it; from -1 to 1, higher means the question
separates stronger from weaker trainees. Both come from running sums, so one pass over the rows is enough.
"""

from __future__ import annotations

import math
from collections.abc import Iterable
from dataclasses import dataclass, field


@dataclass(frozen=True)
class ItemRow:
    question_id: int
    fraction: float  # 0..1 of the question's points
    score: float  # points scored on the question
    attempt_score: float  # points scored on the whole attempt


@dataclass
class _Sums:
    n: int = 0
    fraction: float = 0.0
    x: float = 0.0
    y: float = 0.0
    xx: float = 0.0
    yy: float = 0.0
    xy: float = 0.0


@dataclass(frozen=True)
class ItemStatistics:
    question_id: int
    responses: int
    facility: float
    discrimination: float | None  # None when it cannot be computed (too few attempts or no spread)


@dataclass
class _Accumulator:
    sums: dict[int, _Sums] = field(default_factory=dict)

    def add(self, row: ItemRow) -> None:
        s = self.sums.setdefault(row.question_id, _Sums())
        rest = row.attempt_score - row.score
        s.n += 1
        s.fraction += row.fraction
        s.x += row.score
        s.y += rest
        s.xx += row.score * row.score
        s.yy += rest * rest
        s.xy += row.score * rest


def item_statistics(rows: Iterable[ItemRow]) -> dict[int, ItemStatistics]:
    accumulator = _Accumulator()
    for row in rows:
        accumulator.add(row)
    result: dict[int, ItemStatistics] = {}
    for question_id, s in accumulator.sums.items():
        discrimination = None
        if s.n >= 2:
            covariance = s.n * s.xy - s.x * s.y
            spread = (s.n * s.xx - s.x * s.x) * (s.n * s.yy - s.y * s.y)
            if spread > 1e-12:
                discrimination = round(covariance / math.sqrt(spread), 3)
        result[question_id] = ItemStatistics(
            question_id=question_id,
            responses=s.n,
            facility=round(s.fraction / s.n, 3) if s.n else 0.0,
            discrimination=discrimination,
        )
    return result


BUCKETS = 10  # score distribution in tenths: 0-9, 10-19, ..., 90-100
