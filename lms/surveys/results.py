"""Survey results from answers: distributions, means with n, shares, free text; the minimum group.

Pure: plain values in, dataclasses out, no database and no Flask (tests/test_survey_results.py).

The rules (docs/surveys.md, "Results and indicators"):

- **Minimum group**: a group (a run's survey, a course in one language, a quarter...) with fewer than
  ``MIN_GROUP`` (5) responses shows no figure at all: every count, mean, share and the free text become
  ``NOT_ENOUGH`` ("not enough responses"), a value of its own that is never a zero. An item of a large
  enough group that fewer than five people answered (an optional item, an item added in a later version)
  is hidden the same way, so every figure shown rests on at least five answers.
- **Mean with n**: agreement items (1-5) and rating items (0-10); n = the answers to that item.
- **Share satisfied** (items marked ``satisfaction``): answers of 4 or 5 on the agreement scale / answers.
- **Share applied** (items marked ``applied``): agreement 4 or 5; a single/multiple choice of an option
  the form marks ``positive`` (a form that marks none: an option key starting with ``yes``, such as
  ``yes_often``); a rating of 7 or more. Over the answers to the item.
- **Respondents** (the donor indicators): a respondent is *satisfied* when the mean of their answers to
  the satisfaction items is 4 or more, and *applying* when at least one of their answers to the applied
  items counts as applied; respondents who answered none of those items are not counted.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date
from typing import Any, Final

MIN_GROUP: Final = 5
NOT_ENOUGH_TEXT: Final = "not enough responses"  # what exports write (pages show it translated)
AGREEMENT_POINTS: Final = (1, 2, 3, 4, 5)
RATING_POINTS: Final = tuple(range(0, 11))
SATISFIED_FROM: Final = 4  # 4 or 5 of 5
APPLIED_RATING_FROM: Final = 7  # 7-10 of 10
YES_PREFIX: Final = "yes"


class NotEnoughResponses:
    """The one value that stands for a hidden figure. Falsy-looking values (0, None) are never used for
    it, so a template or an export cannot show a hidden figure as a zero by accident."""

    _instance: NotEnoughResponses | None = None

    def __new__(cls) -> NotEnoughResponses:
        if cls._instance is None:
            cls._instance = super().__new__(cls)
        return cls._instance

    def __repr__(self) -> str:
        return "NOT_ENOUGH"

    def __str__(self) -> str:
        return NOT_ENOUGH_TEXT


NOT_ENOUGH: Final = NotEnoughResponses()

Number = int | float
Shown = Any  # a figure (int / float), None (not applicable) or NOT_ENOUGH


def is_hidden(value: object) -> bool:
    return value is NOT_ENOUGH


@dataclass(frozen=True)
class ItemSpec:
    """What the results need of a survey item (combined over form versions by ``key``)."""

    key: str
    type: str  # lms.surveys.models.ItemType values
    indicator: str | None = None  # "satisfaction" | "applied" | None
    options: tuple[str, ...] = ()  # option keys in order (single / multiple)
    retired: bool = False
    positive: tuple[str, ...] = ()  # option keys that count as applied (the form's `positive: true`)


@dataclass(frozen=True)
class Answer:
    number: int | None = None
    choices: tuple[str, ...] = ()
    text: str | None = None


@dataclass(frozen=True)
class Response:
    """One anonymous response: its group attributes and its answers by item key."""

    answers: Mapping[str, Answer]
    language: str = "en"
    submitted_on: date | None = None


@dataclass(frozen=True)
class ItemResult:
    key: str
    type: str
    indicator: str | None
    n: Shown  # answers to this item
    distribution: Shown  # list[(point or option key, count)] or NOT_ENOUGH; None for free text
    mean: Shown = None
    share_satisfied: Shown = None  # percent, one decimal
    share_applied: Shown = None
    texts: Shown = None  # list[str] (free text items) or NOT_ENOUGH

    @property
    def hidden(self) -> bool:
        return self.n is NOT_ENOUGH


@dataclass(frozen=True)
class GroupResult:
    responses: Shown  # the number of responses, or NOT_ENOUGH
    items: list[ItemResult] = field(default_factory=list)
    satisfied: Shown = None  # share of respondents satisfied (percent)
    applying: Shown = None  # share of respondents applying (percent)

    @property
    def enough(self) -> bool:
        return self.responses is not NOT_ENOUGH


def share(part: int, whole: int) -> float | None:
    """part / whole in percent, one decimal; None when there is no whole."""
    if whole <= 0:
        return None
    return round(100.0 * part / whole, 1)


def mean(values: Sequence[Number]) -> float | None:
    return round(sum(values) / len(values), 2) if values else None


def counts_as_applied(item: ItemSpec, answer: Answer) -> bool | None:
    """Does this answer to an ``applied`` item say "yes, I applied it"? None: the item type has no rule."""
    if item.type == "agreement":
        return answer.number is not None and answer.number >= SATISFIED_FROM
    if item.type == "rating":
        return answer.number is not None and answer.number >= APPLIED_RATING_FROM
    if item.type in ("single", "multiple"):
        if item.positive:
            return any(choice in item.positive for choice in answer.choices)
        return any(choice.startswith(YES_PREFIX) for choice in answer.choices)
    return None


def _answered(item: ItemSpec, answer: Answer | None) -> bool:
    if answer is None:
        return False
    if item.type in ("agreement", "rating"):
        return answer.number is not None
    if item.type in ("single", "multiple"):
        return bool(answer.choices)
    return bool(answer.text and answer.text.strip())


def _points(item: ItemSpec) -> tuple[Any, ...]:
    if item.type == "agreement":
        return AGREEMENT_POINTS
    if item.type == "rating":
        return RATING_POINTS
    return item.options


def _hidden_item(item: ItemSpec) -> ItemResult:
    numeric = item.type in ("agreement", "rating")
    text = item.type == "text"
    return ItemResult(
        key=item.key,
        type=item.type,
        indicator=item.indicator,
        n=NOT_ENOUGH,
        distribution=None if text else NOT_ENOUGH,
        mean=NOT_ENOUGH if numeric else None,
        share_satisfied=NOT_ENOUGH if item.indicator == "satisfaction" and item.type == "agreement" else None,
        share_applied=NOT_ENOUGH if item.indicator == "applied" and not text else None,
        texts=NOT_ENOUGH if text else None,
    )


def item_result(item: ItemSpec, answers: Sequence[Answer], minimum: int = MIN_GROUP) -> ItemResult:
    """One item over the answers given to it (answers that do not fit the item's type are left out)."""
    given = [a for a in answers if _answered(item, a)]
    if len(given) < minimum:
        return _hidden_item(item)
    n = len(given)
    if item.type == "text":
        texts = sorted((a.text or "").strip() for a in given)
        return ItemResult(item.key, item.type, item.indicator, n, None, texts=texts)
    counted: Counter[Any] = Counter()
    for answer in given:
        if item.type in ("agreement", "rating"):
            counted[answer.number] += 1
        else:
            counted.update(dict.fromkeys(answer.choices, 1))  # a choice counts once per answer
    points = list(_points(item))
    points += sorted((k for k in counted if k not in points), key=str)  # an option no longer on the form
    distribution = [(point, counted.get(point, 0)) for point in points]
    numbers = [a.number for a in given if a.number is not None]
    numeric = item.type in ("agreement", "rating")
    satisfied = None
    if item.indicator == "satisfaction" and item.type == "agreement":
        satisfied = share(sum(1 for v in numbers if v >= SATISFIED_FROM), n)
    applied = None
    if item.indicator == "applied":
        applied = share(sum(1 for a in given if counts_as_applied(item, a)), n)
    return ItemResult(
        key=item.key,
        type=item.type,
        indicator=item.indicator,
        n=n,
        distribution=distribution,
        mean=mean(numbers) if numeric else None,
        share_satisfied=satisfied,
        share_applied=applied,
    )


def respondent_satisfied(items: Iterable[ItemSpec], answers: Mapping[str, Answer]) -> bool | None:
    """Mean of this respondent's answers to the satisfaction items >= 4; None if they answered none."""
    numbers = [
        answers[i.key].number
        for i in items
        if i.indicator == "satisfaction" and i.type == "agreement" and _answered(i, answers.get(i.key))
    ]
    values = [v for v in numbers if v is not None]
    if not values:
        return None
    return sum(values) / len(values) >= SATISFIED_FROM


def respondent_applying(items: Iterable[ItemSpec], answers: Mapping[str, Answer]) -> bool | None:
    """At least one answer to an applied item counts as applied; None if they answered none."""
    verdicts = [
        counts_as_applied(i, answers[i.key])
        for i in items
        if i.indicator == "applied" and _answered(i, answers.get(i.key))
    ]
    known = [v for v in verdicts if v is not None]
    if not known:
        return None
    return any(known)


def respondent_share(verdicts: Iterable[bool | None], minimum: int = MIN_GROUP) -> Shown:
    """Share (percent) of True among the respondents who have a verdict; NOT_ENOUGH below the minimum."""
    known = [v for v in verdicts if v is not None]
    if len(known) < minimum:
        return NOT_ENOUGH
    return share(sum(1 for v in known if v), len(known))


def group_result(
    items: Sequence[ItemSpec], responses: Sequence[Response], minimum: int = MIN_GROUP
) -> GroupResult:
    """Every item of a group of responses; all of it NOT_ENOUGH when the group is below the minimum."""
    has_satisfaction = any(i.indicator == "satisfaction" for i in items)
    has_applied = any(i.indicator == "applied" for i in items)
    if len(responses) < minimum:
        return GroupResult(
            NOT_ENOUGH,
            [_hidden_item(i) for i in items],
            NOT_ENOUGH if has_satisfaction else None,
            NOT_ENOUGH if has_applied else None,
        )
    results = []
    for item in items:
        answers = [r.answers[item.key] for r in responses if item.key in r.answers]
        results.append(item_result(item, answers, minimum))
    satisfied = respondent_share([respondent_satisfied(items, r.answers) for r in responses], minimum)
    applying = respondent_share([respondent_applying(items, r.answers) for r in responses], minimum)
    return GroupResult(
        responses=len(responses),
        items=results,
        satisfied=satisfied if has_satisfaction else None,
        applying=applying if has_applied else None,
    )


def quarter_of(day: date) -> str:
    return f"{day.year}-Q{(day.month - 1) // 3 + 1}"


def month_of(day: date) -> str:
    return f"{day.year}-{day.month:02d}"


def by_period(
    items: Sequence[ItemSpec],
    responses: Sequence[Response],
    period: str = "quarter",
    minimum: int = MIN_GROUP,
) -> list[tuple[str, GroupResult]]:
    """Each quarter (or month) of ``submitted_on`` with responses, oldest first, as a group of its own."""
    label = month_of if period == "month" else quarter_of
    groups: dict[str, list[Response]] = {}
    for response in responses:
        if response.submitted_on is not None:
            groups.setdefault(label(response.submitted_on), []).append(response)
    return [(key, group_result(items, groups[key], minimum)) for key in sorted(groups)]


def response_rate(answered: int, invited: int, minimum: int = MIN_GROUP) -> tuple[Shown, Shown, Shown]:
    """(invited, answered, rate %) for one group of invitations; all NOT_ENOUGH below ``minimum`` invited.

    Invitations name people (they are not anonymous), so a rate per group is allowed; a group of fewer than
    five people is still hidden, as everywhere else."""
    if invited < minimum:
        return NOT_ENOUGH, NOT_ENOUGH, NOT_ENOUGH
    return invited, answered, share(answered, invited)


def combine_items(versions: Sequence[Sequence[ItemSpec]]) -> list[ItemSpec]:
    """The items of several form versions (oldest first), combined by key: a key keeps its place of first
    appearance and the latest version's definition; an item retired in the latest version that has it
    stays (its answers are still results); options are the union, in order of appearance."""
    order: list[str] = []
    latest: dict[str, ItemSpec] = {}
    options: dict[str, list[str]] = {}
    positive: dict[str, list[str]] = {}
    for version in versions:
        for item in version:
            if item.key not in latest:
                order.append(item.key)
                options[item.key], positive[item.key] = [], []
            latest[item.key] = item
            options[item.key] += [o for o in item.options if o not in options[item.key]]
            positive[item.key] += [o for o in item.positive if o not in positive[item.key]]
    return [
        ItemSpec(
            key=key,
            type=latest[key].type,
            indicator=latest[key].indicator,
            options=tuple(options[key]),
            retired=latest[key].retired,
            positive=tuple(positive[key]),
        )
        for key in order
    ]


def shown_text(value: object) -> object:
    """A figure for an export cell: NOT_ENOUGH becomes its text, never a number."""
    return NOT_ENOUGH_TEXT if value is NOT_ENOUGH else value
