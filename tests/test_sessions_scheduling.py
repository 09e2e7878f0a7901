"""When a session may take place and its times between zones (lms/sessions/scheduling.py): pure, no app."""

from __future__ import annotations

from datetime import UTC, date, datetime, time

import pytest

from lms.sessions.scheduling import (
    Finding,
    LocalTimeRefused,
    Problem,
    RunDates,
    Slot,
    check_slot,
    hours_and_minutes,
    in_zone,
    is_ambiguous,
    local_input,
    local_span,
    minutes_of,
    to_utc,
    zone_names,
    zone_of,
)

CHISINAU = "Europe/Chisinau"
TBILISI = "Asia/Tbilisi"
RUN = RunDates(date(2026, 3, 27), date(2026, 3, 31))


def utc(*parts: int) -> datetime:
    return datetime(*parts, tzinfo=UTC)  # type: ignore[misc]


def test_winter_and_summer_time_in_chisinau() -> None:
    assert to_utc(datetime(2026, 3, 28, 9, 0), CHISINAU) == utc(2026, 3, 28, 7, 0)  # EET, +02:00
    assert to_utc(datetime(2026, 3, 30, 9, 0), CHISINAU) == utc(2026, 3, 30, 6, 0)  # EEST, +03:00


def test_a_time_skipped_in_spring_is_refused() -> None:
    # Last Sunday of March 2026: clocks go from 02:00 to 03:00 in Chisinau; 02:30 never happens.
    with pytest.raises(LocalTimeRefused) as refused:
        to_utc(datetime(2026, 3, 29, 2, 30), CHISINAU)
    assert refused.value.problem is Problem.NONEXISTENT_TIME
    assert to_utc(datetime(2026, 3, 29, 3, 0), CHISINAU) == utc(2026, 3, 29, 0, 0)


def test_a_time_repeated_in_autumn_is_its_first_occurrence() -> None:
    # Last Sunday of October 2026: 02:30 happens twice; the first is still summer time (+03:00).
    assert is_ambiguous(datetime(2026, 10, 25, 2, 30), CHISINAU)
    assert not is_ambiguous(datetime(2026, 10, 25, 9, 0), CHISINAU)
    assert to_utc(datetime(2026, 10, 25, 2, 30), CHISINAU) == utc(2026, 10, 24, 23, 30)
    assert to_utc(datetime(2026, 10, 25, 9, 0), CHISINAU) == utc(2026, 10, 25, 7, 0)


def test_unknown_and_odd_zone_names_are_refused() -> None:
    for name in ("Mars/Olympus", "", "../../etc/passwd", "/etc/localtime", "x" * 100):
        assert zone_of(name) is None
        with pytest.raises(LocalTimeRefused) as refused:
            to_utc(datetime(2026, 3, 28, 9, 0), name)
        assert refused.value.problem is Problem.UNKNOWN_ZONE
    assert CHISINAU in zone_names() and TBILISI in zone_names()


def test_a_viewer_in_tbilisi_sees_the_chisinau_session_in_their_own_time() -> None:
    starts = to_utc(datetime(2026, 3, 30, 9, 0), CHISINAU)  # 06:00 UTC in summer time
    assert in_zone(starts, TBILISI).hour == 10  # Tbilisi is +04:00 all year
    assert in_zone(starts, CHISINAU).hour == 9
    assert in_zone(starts, None).hour == 6  # no zone: UTC
    assert in_zone(starts, "Nowhere/Land").hour == 6
    before = to_utc(datetime(2026, 3, 28, 9, 0), CHISINAU)  # winter time: the gap to Tbilisi is 2 hours
    assert in_zone(before, TBILISI).hour == 11
    assert local_input(starts, CHISINAU) == datetime(2026, 3, 30, 9, 0)


def slot(start: datetime, end: datetime, id_: int | None = None, cancelled: bool = False) -> Slot:
    return Slot(id_, start, end, cancelled)


def test_a_good_session_has_no_findings() -> None:
    morning = slot(to_utc(datetime(2026, 3, 28, 9), CHISINAU), to_utc(datetime(2026, 3, 28, 12), CHISINAU))
    assert check_slot(morning, CHISINAU, RUN, []) == []


def test_end_before_or_at_start() -> None:
    start = utc(2026, 3, 28, 9)
    assert check_slot(slot(start, start), CHISINAU, RUN, []) == [Finding(Problem.ENDS_BEFORE_START)]
    assert check_slot(slot(start, utc(2026, 3, 28, 8)), CHISINAU, RUN, []) == [
        Finding(Problem.ENDS_BEFORE_START)
    ]


def test_duration_limits() -> None:
    start = utc(2026, 3, 28, 9)
    assert check_slot(slot(start, utc(2026, 3, 28, 9, 2)), CHISINAU, RUN, []) == [Finding(Problem.TOO_SHORT)]
    assert check_slot(slot(start, utc(2026, 3, 28, 21, 1)), CHISINAU, RUN, []) == [Finding(Problem.TOO_LONG)]


def test_outside_the_run_dates_read_in_the_venue_zone() -> None:
    # 23:30 UTC on the 26th is 01:30 on the 27th in Chisinau: inside the run, although not in UTC.
    early = slot(utc(2026, 3, 26, 23, 30), utc(2026, 3, 27, 1, 0))
    assert check_slot(early, CHISINAU, RUN, []) == []
    assert check_slot(early, "UTC", RUN, []) == [Finding(Problem.BEFORE_RUN)]
    late = slot(utc(2026, 3, 31, 20), utc(2026, 3, 31, 22))  # 23:00-01:00 in Chisinau (summer time)
    assert check_slot(late, CHISINAU, RUN, []) == []  # a session belongs to the day it starts on
    after = slot(utc(2026, 3, 31, 21, 30), utc(2026, 3, 31, 23))  # 00:30-02:00 on 1 April in Chisinau
    assert check_slot(after, CHISINAU, RUN, []) == [Finding(Problem.AFTER_RUN)]
    until_midnight = slot(utc(2026, 3, 31, 19), utc(2026, 3, 31, 21))  # ends 00:00 local: still the 31st
    assert check_slot(until_midnight, CHISINAU, RUN, []) == []
    assert check_slot(after, CHISINAU, RunDates(None, None), []) == []


def test_an_end_before_the_start_is_the_next_day_when_that_makes_one_sitting() -> None:
    day = date(2026, 3, 30)
    starts, ends = local_span(day, time(20), time(1))
    assert (starts, ends) == (datetime(2026, 3, 30, 20), datetime(2026, 3, 31, 1))
    evening = slot(to_utc(starts, CHISINAU), to_utc(ends, CHISINAU))
    assert check_slot(evening, CHISINAU, RUN, []) == [] and minutes_of([evening]) == 300
    assert local_span(day, time(9), time(12)) == (datetime(2026, 3, 30, 9), datetime(2026, 3, 30, 12))
    # 14:00-13:00 would be 23 hours: a typing slip, left on one day and refused as ending before it starts.
    slip = [to_utc(t, CHISINAU) for t in local_span(day, time(14), time(13))]
    assert check_slot(slot(*slip), CHISINAU, RUN, []) == [Finding(Problem.ENDS_BEFORE_START)]
    assert local_span(day, time(20), time(20))[1] == datetime(2026, 3, 30, 20)  # 24 h: refused likewise
    # Across the spring-forward night (29 March, 03:00 -> 04:00): 23:00-05:00 lasts five hours, not six.
    night = [to_utc(t, CHISINAU) for t in local_span(date(2026, 3, 28), time(23), time(5))]
    assert minutes_of([slot(*night)]) == 300


def test_overlap_with_another_session_of_the_run() -> None:
    first = slot(utc(2026, 3, 28, 7), utc(2026, 3, 28, 10), id_=1)
    touching = slot(utc(2026, 3, 28, 10), utc(2026, 3, 28, 11))
    crossing = slot(utc(2026, 3, 28, 9), utc(2026, 3, 28, 11))
    assert check_slot(touching, CHISINAU, RUN, [first]) == []
    assert check_slot(crossing, CHISINAU, RUN, [first]) == [Finding(Problem.OVERLAP, 1)]
    cancelled = slot(utc(2026, 3, 28, 7), utc(2026, 3, 28, 10), id_=1, cancelled=True)
    assert check_slot(crossing, CHISINAU, RUN, [cancelled]) == []
    itself = slot(utc(2026, 3, 28, 8), utc(2026, 3, 28, 10), id_=1)  # an edit is not its own overlap
    assert check_slot(itself, CHISINAU, RUN, [first]) == []


def test_planned_minutes_leave_out_cancelled_sessions_across_the_dst_change() -> None:
    # 01:00-04:00 local on the spring-forward night lasts two hours, not three.
    night = slot(to_utc(datetime(2026, 3, 29, 1), CHISINAU), to_utc(datetime(2026, 3, 29, 4), CHISINAU))
    other = slot(utc(2026, 3, 30, 6), utc(2026, 3, 30, 7, 30))
    gone = slot(utc(2026, 3, 31, 6), utc(2026, 3, 31, 9), cancelled=True)
    assert minutes_of([night, other, gone]) == 120 + 90
    assert hours_and_minutes(630) == (10, 30)
