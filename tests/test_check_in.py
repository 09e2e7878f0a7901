"""Self check-in: the rotating codes (pure, no app) and the service's refusals, which write nothing."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import func, select

from lms.audit.models import AuditRecord
from lms.auth.models import User
from lms.db import utcnow
from lms.errors import Conflict, LmsError
from lms.extensions import db
from lms.sessions import check_in as codes
from lms.sessions.attendance import record_attendance
from lms.sessions.models import Attendance, AttendanceSource
from lms.sessions.self_check_in import check_in, check_in_typed
from tests.attendance_support import a_session, place, workshop

SECRET = "a" * 64
NOON = datetime(2026, 12, 5, 12, 0, 10, tzinfo=UTC)


# --- pure -----------------------------------------------------------------------------------------------


def test_codes_rotate_every_thirty_seconds_and_differ_per_session() -> None:
    window = codes.window_of(NOON)
    assert window == int(NOON.timestamp()) // 30
    assert codes.window_of(NOON + timedelta(seconds=19)) == window
    assert codes.window_of(NOON + timedelta(seconds=20)) == window + 1
    assert codes.qr_code(SECRET, 1, window) != codes.qr_code(SECRET, 1, window + 1)
    assert codes.qr_code(SECRET, 1, window) != codes.qr_code(SECRET, 2, window)
    assert codes.qr_code(SECRET, 1, window) != codes.qr_code("b" * 64, 1, window)
    assert len(codes.qr_code(SECRET, 1, window)) == 16


def test_the_typed_code_uses_an_unambiguous_alphabet() -> None:
    typed = {codes.typed_code(SECRET, 7, window) for window in range(1000)}
    assert all(len(code) == 6 and set(code) <= set(codes.TYPED_ALPHABET) for code in typed)
    assert not set("01OIL") & set(codes.TYPED_ALPHABET)
    assert len(typed) > 990  # spread: nearly every window has its own


def test_a_code_is_good_for_its_window_and_one_rotation_of_grace() -> None:
    window = codes.window_of(NOON)
    qr, typed = codes.qr_code(SECRET, 3, window), codes.typed_code(SECRET, 3, window)
    assert codes.code_matches(SECRET, 3, qr, NOON)
    assert codes.code_matches(SECRET, 3, qr.upper(), NOON + timedelta(seconds=30))  # previous window
    assert not codes.code_matches(SECRET, 3, qr, NOON + timedelta(seconds=60))  # replayed later: expired
    assert not codes.code_matches(SECRET, 3, qr, NOON - timedelta(seconds=30))  # not yet valid
    assert not codes.code_matches(SECRET, 4, qr, NOON)  # another session
    assert codes.code_matches(SECRET, 3, f" {typed[:3].lower()}-{typed[3:]} ", NOON, typed=True)
    assert not codes.code_matches(SECRET, 3, typed, NOON)  # a typed code is not a QR code
    assert not codes.code_matches(SECRET, 3, "", NOON) and not codes.code_matches(SECRET, 3, "é" * 16, NOON)


def test_the_window_opens_half_an_hour_before_and_late_is_after_a_quarter_hour() -> None:
    starts, ends = NOON, NOON + timedelta(hours=2)
    assert not codes.check_in_open(starts, ends, starts - timedelta(minutes=31))
    assert codes.check_in_open(starts, ends, starts - timedelta(minutes=30))
    assert codes.check_in_open(starts, ends, ends)
    assert not codes.check_in_open(starts, ends, ends + timedelta(seconds=1))
    assert codes.check_in_mark(starts, ends, starts - timedelta(minutes=10)) == codes.CheckInMark(False, 120)
    assert codes.check_in_mark(starts, ends, starts + timedelta(minutes=15)) == codes.CheckInMark(False, 120)
    assert codes.check_in_mark(starts, ends, starts + timedelta(minutes=40)) == codes.CheckInMark(True, 80)


# --- the service ----------------------------------------------------------------------------------------


def current(session: object, moment: datetime | None = None) -> str:
    return codes.qr_code(session.check_in_secret, session.id, codes.window_of(moment or utcnow()))  # type: ignore[attr-defined]


def nothing_written() -> bool:
    attendance = db.session.scalar(select(func.count()).select_from(Attendance))
    audits = db.session.scalar(select(func.count()).select_from(AuditRecord))
    return attendance == 0 and audits == 0


def test_a_participant_checks_in_once(app: object, make_user: Callable[..., User]) -> None:
    _course, run = workshop()
    session = a_session(run, minutes=120)  # started 5 minutes ago
    person = make_user()
    enrolment = place(run, person)
    row = check_in(session, person, current(session))
    assert (row.status, row.minutes, row.source) == ("present", 120, "check_in")
    assert row.recorded_by_id == person.id and enrolment.attended_minutes == 120
    db.session.commit()
    with pytest.raises(Conflict, match="already checked in"):
        check_in(session, person, current(session))
    db.session.rollback()
    assert db.session.scalar(select(func.count()).select_from(Attendance)) == 1


def test_late_check_in_counts_the_rest_of_the_session(app: object, make_user: Callable[..., User]) -> None:
    _course, run = workshop()
    session = a_session(run, starts_at=utcnow().replace(microsecond=0) - timedelta(minutes=30), minutes=120)
    person = make_user()
    place(run, person)
    row = check_in(session, person, current(session))
    assert row.status == "late" and 89 <= row.minutes <= 90


def test_an_absence_marked_before_arrival_gives_way_to_the_check_in(
    app: object, make_user: Callable[..., User]
) -> None:
    _course, run = workshop()
    session = a_session(run, minutes=60)
    person = make_user()
    enrolment = place(run, person)
    record_attendance(session, enrolment, "absent", source=AttendanceSource.ROLL_CALL, actor_id=None)
    assert check_in(session, person, current(session)).status == "present"


@pytest.mark.parametrize(
    "case",
    ["expired", "replayed", "other session", "non-participant", "too early", "after the end", "cancelled"],
)
def test_refusals_write_nothing(app: object, make_user: Callable[..., User], case: str) -> None:
    _course, run = workshop()
    now = utcnow()
    starts = now.replace(microsecond=0) - timedelta(minutes=5)
    if case == "too early":
        starts = now + timedelta(minutes=45)
    elif case == "after the end":
        starts = now - timedelta(hours=3)
    session = a_session(run, starts_at=starts, minutes=120)
    other = a_session(run, minutes=60)
    person = make_user()
    if case != "non-participant":
        place(run, person)
    code = current(session, now)  # the code of `now`, not of a moment later: "replayed" counts from it
    if case == "expired":
        code = current(session, now - timedelta(seconds=90))
    elif case == "other session":
        code = current(other, now)
    elif case == "cancelled":
        session.cancelled_at = now
    db.session.commit()
    when = now + timedelta(seconds=61) if case == "replayed" else now
    with pytest.raises(LmsError) as refused:
        check_in(session, person, code, now=when)
    assert refused.value.message
    db.session.rollback()
    assert nothing_written()


def test_the_typed_code_finds_the_persons_open_session(app: object, make_user: Callable[..., User]) -> None:
    _course, run = workshop()
    session = a_session(run, minutes=60)
    person = make_user()
    place(run, person)
    typed = codes.typed_code(session.check_in_secret, session.id, codes.window_of(utcnow()))
    with pytest.raises(LmsError, match="not valid now"):
        check_in_typed(person, "ABCDEF" if typed != "ABCDEF" else "GHJKMN")
    assert check_in_typed(person, typed.lower()).session_id == session.id
    stranger = make_user()
    with pytest.raises(LmsError, match="None of your sessions"):
        check_in_typed(stranger, typed)
