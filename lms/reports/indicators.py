"""Indicator definitions and the arithmetic on them: pure, no database, no Flask.

The SQL in lms.reports.indicator_queries returns raw sums per cell (`CellTotals`); everything a reader
sees (rates, person-days, the pre/post gain, small-cell suppression) is decided here, so the rules are
tested on hand-computed numbers without an app.
"""

from __future__ import annotations

from dataclasses import dataclass

HOURS_PER_TRAINING_DAY = 8  # one person-day of training = 8 notional learning hours
DEFAULT_SUPPRESSION_THRESHOLD = 5


@dataclass(frozen=True)
class CellTotals:
    """Raw sums for one cell of a breakdown (or the whole scope), as SQL returns them."""

    participants: int = 0  # distinct persons holding a place (enrolled or completed)
    enrolments: int = 0  # places (enrolled or completed); a person in two runs counts twice
    completions: int = 0  # enrolments with status completed
    completed_persons: int = 0  # distinct persons with at least one completion
    certificates: int = 0  # certificates in force (status active: not revoked, not replaced)
    completed_hours: int = 0  # sum of the course's notional hours over completions
    paired: int = 0  # enrolments with a finished pre-test and a finished post-test
    pre_sum: float = 0.0  # sum of the best pre-test percent over the paired enrolments
    post_sum: float = 0.0  # sum of the best post-test percent over the paired enrolments


def completion_rate(completions: int, enrolments: int) -> float | None:
    """Completed enrolments / enrolments, in percent; None when nobody enrolled."""
    if enrolments <= 0:
        return None
    return round(100.0 * completions / enrolments, 1)


def person_days(completed_hours: int | float) -> float:
    """Person-days of training: notional hours of the completed courses / 8 (only completions count)."""
    return round(float(completed_hours) / HOURS_PER_TRAINING_DAY, 1)


def pre_post_gain(paired: int, pre_sum: float, post_sum: float) -> float | None:
    """Mean (post-test percent - pre-test percent) over enrolments that took both; None without pairs."""
    if paired <= 0:
        return None
    return round((post_sum - pre_sum) / paired, 1)


def mean_or_none(total: float, count: int) -> float | None:
    return None if count <= 0 else round(total / count, 1)


@dataclass(frozen=True)
class Indicators:
    """What a row of the indicator report shows; a value is a number, None (not applicable) or the
    suppression text "<N"."""

    label: str
    participants: int | str
    enrolments: int | str
    completions: int | str
    completed_persons: int | str
    completion_rate: float | str | None
    certificates: int | str
    person_days: float | str
    paired: int | str
    pre_mean: float | str | None
    post_mean: float | str | None
    gain: float | str | None

    def values(self) -> list[object]:
        return [
            self.label,
            self.participants,
            self.enrolments,
            self.completions,
            self.completed_persons,
            self.completion_rate,
            self.certificates,
            self.person_days,
            self.paired,
            self.pre_mean,
            self.post_mean,
            self.gain,
        ]


def suppressed_text(threshold: int) -> str:
    return f"<{threshold}"


def indicators(label: str, cell: CellTotals, threshold: int | None = None) -> Indicators:
    """Turn raw sums into shown values. With a threshold N (publication), small cells are hidden:

    - a row describing fewer than N persons shows "<N" in every figure (its rates would give them away);
    - otherwise each count below N shows "<N", and what could be worked back from a hidden count is
      hidden with it: rate and person-days with completions, the test means and gain with the pairs.
    """
    rate = completion_rate(cell.completions, cell.enrolments)
    days = person_days(cell.completed_hours)
    gain = pre_post_gain(cell.paired, cell.pre_sum, cell.post_sum)
    pre_mean = mean_or_none(cell.pre_sum, cell.paired)
    post_mean = mean_or_none(cell.post_sum, cell.paired)
    if threshold is None or threshold <= 1:
        return Indicators(
            label, cell.participants, cell.enrolments, cell.completions, cell.completed_persons,
            rate, cell.certificates, days, cell.paired, pre_mean, post_mean, gain,
        )  # fmt: skip
    hidden = suppressed_text(threshold)

    def count(value: int) -> int | str:
        return hidden if value < threshold else value

    if cell.participants < threshold:
        return Indicators(label, *([hidden] * 11))
    completions_hidden = cell.completions < threshold or cell.completed_persons < threshold
    pairs_hidden = cell.paired < threshold
    return Indicators(
        label=label,
        participants=cell.participants,
        enrolments=count(cell.enrolments),
        completions=count(cell.completions),
        completed_persons=count(cell.completed_persons),
        completion_rate=hidden if completions_hidden else rate,
        certificates=count(cell.certificates),
        person_days=hidden if completions_hidden else days,
        paired=count(cell.paired),
        pre_mean=hidden if pairs_hidden else pre_mean,
        post_mean=hidden if pairs_hidden else post_mean,
        gain=hidden if pairs_hidden else gain,
    )


def suppress_count(value: int, threshold: int | None) -> int | str:
    """One stand-alone count (a chart bar, a month): "<N" when below the threshold."""
    if threshold is None or threshold <= 1 or value >= threshold:
        return value
    return suppressed_text(threshold)


def progress_percent(done: int, total: int) -> int:
    """Lessons done / lessons in the course, rounded down (the trainee sees the same number)."""
    if total <= 0:
        return 0
    return min(100, (done * 100) // total)


def age_band_label(birth_year_band: str | None) -> str | None:
    """Accounts store a band of birth years ("1980-1989"); it is shown as such, with an en dash."""
    if not birth_year_band:
        return None
    return birth_year_band.replace("-", "–")
