"""Training indicators (runs with sessions, issue 20): the definitions and the arithmetic, pure.

lms.reports.training_indicators reads the sessions and the attendance lines from the database; everything
below works on plain values, so the definitions are tested without an app (docs/reports.md, "Trainings
and participant-days"):

- a session's day is its start's local date in the venue's zone (a session from 23:30 to 01:30 local time
  belongs to the day it starts; one from 01:00 to 03:00 Tbilisi time is on that Tbilisi date, even though
  it starts the evening before in UTC);
- training = a run with at least one session (not cancelled) that starts in the period;
- training days of a run = the distinct local dates of its sessions in the period; summed over trainings;
- locations = distinct (city, country) of in-person and hybrid sessions (the city compared without case
  or surrounding spaces); online sessions are not a location (``online_trainings`` counts the trainings
  with an online session);
- participants = distinct persons with an attendance line present, late or left early;
- participant-days = per person and run, the distinct local dates they attended, summed;
- partners = distinct authorities of those participants (the enrolment's authority).

Breakdowns: the person's sex and country and the enrolment's authority group the *attendance*: a group's
trainings are the runs its members attended, with all of those runs' days and locations in the period.
Modality and period (year, quarter, month of the local date) group the *sessions*: a period's trainings,
days and locations are those of its sessions. With a filter on persons (country, authority) the event
figures count only the trainings a matching person attended.
"""

from __future__ import annotations

from collections import Counter, defaultdict
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from functools import lru_cache
from typing import Any, NamedTuple
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from lms.reports.indicators import suppress_count, suppressed_text

ATTENDED = ("present", "late", "left_early")  # lms.sessions.models.AttendanceStatus values that count
VENUE_FORMATS = ("in_person", "hybrid")  # sessions that happen at a place
ONLINE_FORMAT = "online"
PERSON_DIMENSIONS = ("sex", "country", "authority")
EVENT_DIMENSIONS = ("modality", "year", "quarter", "month")
DIMENSIONS = PERSON_DIMENSIONS + EVENT_DIMENSIONS
GROUPED = ("total", *DIMENSIONS)  # the groupings aggregate() counts


@lru_cache(maxsize=256)
def _zone(name: str) -> ZoneInfo:
    try:
        return ZoneInfo(name or "UTC")
    except (ZoneInfoNotFoundError, ValueError):
        return ZoneInfo("UTC")  # a zone the database no longer knows: its UTC date


def local_date(starts_at: datetime, zone: str) -> date:
    """The session's day: its start in the venue's zone."""
    moment = starts_at if starts_at.tzinfo else starts_at.replace(tzinfo=UTC)
    return moment.astimezone(_zone(zone)).date()


def period_keys(day: date) -> dict[str, str]:
    return {
        "year": f"{day.year:04d}",
        "quarter": f"{day.year:04d}-Q{(day.month - 1) // 3 + 1}",
        "month": f"{day.year:04d}-{day.month:02d}",
    }


class SessionRow(NamedTuple):
    """A session (not cancelled) as the database gives it."""

    session_id: int
    run_id: int
    starts_at: datetime
    timezone: str
    format: str
    city: str | None
    country: str | None
    modality: str


class PersonRow(NamedTuple):
    """The person of an attending place: the account's sex and country, the enrolment's authority."""

    user_id: int
    authority_id: int | None
    sex: str | None
    country: str | None


@dataclass(frozen=True)
class TrainingCell:
    trainings: int = 0
    training_days: int = 0
    locations: int = 0
    online_trainings: int = 0
    participants: int = 0
    participant_days: int = 0
    partners: int = 0


@dataclass(frozen=True)
class TrainingTables:
    total: TrainingCell
    breakdowns: dict[str, list[tuple[str | None, TrainingCell]]]  # dimension -> (key, cell), by key


def location_key(city: str | None, country: str | None) -> tuple[str, str] | None:
    city_key = (city or "").strip().casefold()
    if not city_key and not country:
        return None
    return city_key, country or ""


@dataclass
class _Group:
    runs: set[int] = field(default_factory=set)
    participants: int = 0
    person_days: int = 0
    partners: int = 0


@dataclass(frozen=True)
class _Day:
    run_id: int
    day: date
    keys: dict[str, str]  # modality, year, quarter, month
    day_id: int

    @property
    def key_values(self) -> tuple[str, ...]:
        return tuple(self.keys[name] for name in EVENT_DIMENSIONS)


def aggregate(
    sessions: Iterable[SessionRow],
    attendance: Iterable[tuple[int, int]],
    persons: Mapping[int, PersonRow],
    date_from: date | None = None,
    date_to: date | None = None,
    persons_filtered: bool = False,
) -> TrainingTables:
    """Every figure for the total and each breakdown. ``sessions`` may hold more than the period (the SQL
    reads a day more on each side, as zones go 14 hours either way): the local date decides.
    ``attendance``: (session id, enrolment id) of the lines that count (present, late, left early);
    ``persons``: enrolment id -> its person; a line whose enrolment is missing is left out (the person
    filters). ``persons_filtered``: the persons were filtered (country, authority), so the event figures
    count only the trainings a matching person attended."""
    days: dict[int, _Day] = {}  # session id -> its day
    day_ids: dict[tuple[int, date], int] = {}  # (run, local date) -> a number for the person-day keys
    run_days: dict[int, set[date]] = defaultdict(set)
    run_places: dict[int, set[tuple[str, str]]] = defaultdict(set)
    run_online: set[int] = set()
    event_days: dict[tuple[str, str], dict[int, set[date]]] = defaultdict(lambda: defaultdict(set))
    event_places: dict[tuple[str, str], dict[int, set[tuple[str, str]]]] = defaultdict(
        lambda: defaultdict(set)
    )
    event_online: dict[tuple[str, str], set[int]] = defaultdict(set)
    for s in sessions:
        day = local_date(s.starts_at, s.timezone)
        if (date_from is not None and day < date_from) or (date_to is not None and day > date_to):
            continue
        keys = {"modality": s.modality, **period_keys(day)}
        day_id = day_ids.setdefault((s.run_id, day), len(day_ids))
        days[s.session_id] = _Day(s.run_id, day, keys, day_id)
        place = location_key(s.city, s.country) if s.format in VENUE_FORMATS else None
        run_days[s.run_id].add(day)
        for dim_key in (("total", ""), *keys.items()):
            event_days[dim_key][s.run_id].add(day)
            if place is not None:
                event_places[dim_key][s.run_id].add(place)
            if s.format == ONLINE_FORMAT:
                event_online[dim_key].add(s.run_id)
        if place is not None:
            run_places[s.run_id].add(place)
        if s.format == ONLINE_FORMAT:
            run_online.add(s.run_id)

    # One entry per person-day: the same person in two sessions of a run on one local date is one day.
    # The authority (of the enrolment), sex and country are the same on all of a person-day's lines.
    # (person, run and day): an enrolment of the person in that run; a day number stands for (run, date).
    day_of = {session_id: d.day_id for session_id, d in days.items()}
    person_days = {
        (persons[enrolment_id].user_id, day_of[session_id]): enrolment_id
        for session_id, enrolment_id in attendance
        if session_id in day_of and enrolment_id in persons
    }
    # The person-days as columns: person, run, authority, then the key of each of GROUPED's dimensions.
    # Sets of zipped pairs and Counters over a column are the distinct counts, computed in C.
    day_values: dict[int, tuple[Any, ...]] = {d.day_id: (d.run_id, *d.key_values) for d in days.values()}
    person_rows = [persons[enrolment_id] for enrolment_id in person_days.values()]
    users = [p.user_id for p in person_rows]
    authorities = [p.authority_id for p in person_rows]
    event_rows = [day_values[day_id] for _user, day_id in person_days]
    run_column = [row[0] for row in event_rows]
    columns: dict[str, list[Any]] = {
        "total": [""] * len(users),
        "sex": [p.sex for p in person_rows],
        "country": [p.country for p in person_rows],
        "authority": [_text(a) for a in authorities],
        **{name: [row[i] for row in event_rows] for i, name in enumerate(EVENT_DIMENSIONS, start=1)},
    }
    groups: dict[tuple[str, str | None], _Group] = defaultdict(_Group)
    for dimension in GROUPED:
        column = columns[dimension]
        for key, participants in Counter(key for key, _user in set(zip(column, users, strict=True))).items():
            groups[(dimension, key)].participants = participants
        for key, count in Counter(column).items():
            groups[(dimension, key)].person_days = count
        for key, run_id in set(zip(column, run_column, strict=True)):
            groups[(dimension, key)].runs.add(run_id)
        partners = Counter(key for key, a in set(zip(column, authorities, strict=True)) if a is not None)
        for key, count in partners.items():
            groups[(dimension, key)].partners = count

    def people(group: _Group | None) -> dict[str, int]:
        if group is None:
            return {"participants": 0, "participant_days": 0, "partners": 0}
        return {
            "participants": group.participants,
            "participant_days": group.person_days,
            "partners": group.partners,
        }

    def event_cell(dim_key: tuple[str, str]) -> TrainingCell:
        group = groups.get(dim_key)
        by_run = event_days[dim_key]
        runs = set(by_run) if not persons_filtered else set(by_run) & (group.runs if group else set())
        places = event_places[dim_key]
        return TrainingCell(
            trainings=len(runs),
            training_days=sum(len(by_run[r]) for r in runs),
            locations=len(set().union(*(places[r] for r in runs if r in places))),
            online_trainings=len(runs & event_online[dim_key]),
            **people(group),
        )

    def person_cell(group: _Group) -> TrainingCell:
        runs = group.runs
        return TrainingCell(
            trainings=len(runs),
            training_days=sum(len(run_days[r]) for r in runs),
            locations=len(set().union(*(run_places[r] for r in runs if r in run_places))),
            online_trainings=len(runs & run_online),
            **people(group),
        )

    breakdowns: dict[str, list[tuple[str | None, TrainingCell]]] = {name: [] for name in DIMENSIONS}
    for (dimension, key), group in groups.items():
        if dimension in PERSON_DIMENSIONS:
            breakdowns[dimension].append((key, person_cell(group)))
    for dimension, key in event_days:
        if dimension in EVENT_DIMENSIONS:
            cell = event_cell((dimension, key))
            if cell.trainings:
                breakdowns[dimension].append((key, cell))
    for cells in breakdowns.values():
        cells.sort(key=lambda item: (item[0] is None, str(item[0] or "")))
    return TrainingTables(event_cell(("total", "")), breakdowns)


def _text(value: int | None) -> str | None:
    return None if value is None else str(value)


# --- What a reader sees --------------------------------------------------------------------------------


@dataclass(frozen=True)
class TrainingRow:
    """A shown row: a number or the suppression text "<N"."""

    label: str
    trainings: int | str
    training_days: int | str
    locations: int | str
    online_trainings: int | str
    participants: int | str
    participant_days: int | str
    partners: int | str

    def values(self) -> list[object]:
        return [
            self.label,
            self.trainings,
            self.training_days,
            self.locations,
            self.online_trainings,
            self.participants,
            self.participant_days,
            self.partners,
        ]

    @property
    def hidden(self) -> bool:
        return isinstance(self.participants, str)


def training_row(label: str, cell: TrainingCell, threshold: int | None = None) -> TrainingRow:
    """The indicator report's suppression (lms.reports.indicators.indicators), on these figures: a row
    about fewer than N persons shows "<N" in every figure (its trainings and days would point at them);
    otherwise each count of persons below N shows "<N" (participant-days never are: they are at least
    the participants). Trainings, days, locations and partners count events and organisations."""
    if threshold is not None and threshold > 1 and cell.participants < threshold:
        return TrainingRow(label, *([suppressed_text(threshold)] * 7))
    return TrainingRow(
        label,
        cell.trainings,
        cell.training_days,
        cell.locations,
        cell.online_trainings,
        suppress_count(cell.participants, threshold),
        suppress_count(cell.participant_days, threshold),
        cell.partners,
    )
