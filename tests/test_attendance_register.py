"""The attendance register (lms/sessions/attendance.py): statuses and minutes, the audit trail with the
previous value, the attended minutes kept on the enrolment, the idempotent roll call, and refused marks
that change nothing."""

from __future__ import annotations

from collections.abc import Callable
from datetime import timedelta

import pytest
from sqlalchemy import event, func, select

from lms.audit.models import AuditRecord
from lms.auth.models import User
from lms.db import utcnow
from lms.enrolment.models import EnrolmentStatus
from lms.enrolment.signals import attendance_changed
from lms.errors import LmsError
from lms.extensions import db
from lms.sessions.attendance import Mark, apply_roll_call, record_attendance
from lms.sessions.models import Attendance, AttendanceSource, ParticipantDetails
from lms.sessions.register_queries import register_lines
from tests.attendance_support import a_session, place, workshop

ROLL = AttendanceSource.ROLL_CALL


def audit_rows() -> list[AuditRecord]:
    return list(
        db.session.scalars(
            select(AuditRecord).where(AuditRecord.action == "attendance.record").order_by(AuditRecord.id)
        )
    )


def test_statuses_count_their_minutes_and_the_enrolment_sums_them(
    app: object, make_user: Callable[..., User]
) -> None:
    _course, run = workshop()
    first, second = a_session(run, minutes=180), a_session(run, minutes=120)
    enrolment = place(run, make_user())
    trainer = make_user("trainer")

    row = record_attendance(first, enrolment, "present", source=ROLL, actor_id=trainer.id)
    assert (row.status, row.minutes) == ("present", 180)
    record_attendance(second, enrolment, "late", minutes=90, source=ROLL, actor_id=trainer.id)
    assert enrolment.attended_minutes == 270
    record_attendance(second, enrolment, "left_early", minutes=30, source=ROLL, actor_id=trainer.id)
    assert enrolment.attended_minutes == 210
    record_attendance(first, enrolment, "excused", source=ROLL, actor_id=trainer.id)
    assert enrolment.attended_minutes == 30
    row = record_attendance(second, enrolment, "absent", minutes=60, source=ROLL, actor_id=trainer.id)
    assert (row.minutes, enrolment.attended_minutes) == (0, 0)
    assert db.session.scalar(select(func.count()).select_from(Attendance)) == 2  # upserted, not added


def test_a_cancelled_session_leaves_the_sum(app: object, make_user: Callable[..., User]) -> None:
    _course, run = workshop()
    kept, cancelled = a_session(run, minutes=60), a_session(run, minutes=120)
    enrolment = place(run, make_user())
    record_attendance(kept, enrolment, "present", source=ROLL, actor_id=None)
    record_attendance(cancelled, enrolment, "present", source=ROLL, actor_id=None)
    assert enrolment.attended_minutes == 180
    cancelled.cancelled_at = utcnow()
    record_attendance(kept, enrolment, "late", minutes=50, source=ROLL, actor_id=None)
    assert enrolment.attended_minutes == 50  # the cancelled session's 120 no longer count


def test_every_change_is_audited_with_who_when_and_the_previous_value(
    app: object, make_user: Callable[..., User]
) -> None:
    _course, run = workshop()
    session = a_session(run, minutes=120)
    enrolment = place(run, make_user())
    trainer = make_user("trainer")
    taken = utcnow() - timedelta(minutes=3)

    record_attendance(session, enrolment, "absent", source=ROLL, actor_id=trainer.id, taken_at=taken)
    record_attendance(session, enrolment, "late", minutes=100, source=ROLL, actor_id=trainer.id)
    record_attendance(session, enrolment, "late", minutes=100, source=ROLL, actor_id=trainer.id)  # no change

    first, second = audit_rows()
    assert first.actor_id == trainer.id and first.at is not None
    assert first.before is None
    assert first.after["status"] == "absent" and first.after["taken_at"] == taken.isoformat()
    assert second.before == {"status": "absent", "minutes": 0, "mode": None}
    assert (second.after["status"], second.after["minutes"]) == ("late", 100)


def test_attendance_changed_is_sent_only_when_the_minutes_move(
    app: object, make_user: Callable[..., User]
) -> None:
    _course, run = workshop()
    session = a_session(run, minutes=60)
    enrolment = place(run, make_user())
    seen: list[int] = []

    def receiver(sender: object, **_extra: object) -> None:
        seen.append(sender.attended_minutes)  # type: ignore[attr-defined]

    with attendance_changed.connected_to(receiver):
        record_attendance(session, enrolment, "present", source=ROLL, actor_id=None)
        record_attendance(session, enrolment, "present", mode="online", source=ROLL, actor_id=None)
        record_attendance(session, enrolment, "absent", source=ROLL, actor_id=None)
    assert seen == [60, 0]


@pytest.mark.parametrize(
    "case",
    ["other run", "withdrawn", "cancelled", "too many minutes", "negative minutes", "unknown status",
     "late without minutes", "naive time", "future time", "unknown mode"],
)  # fmt: skip
def test_refused_marks_change_nothing(app: object, make_user: Callable[..., User], case: str) -> None:
    _course, run = workshop()
    _other_course, other_run = workshop(slug="other")
    session = a_session(run, minutes=60)
    person = make_user()
    enrolment = place(other_run if case == "other run" else run, person)
    kwargs: dict[str, object] = {"source": ROLL, "actor_id": None}
    status = "present"
    if case == "withdrawn":
        enrolment.status = EnrolmentStatus.WITHDRAWN
    elif case == "cancelled":
        session.cancelled_at = utcnow()
    elif case == "too many minutes":
        status, kwargs["minutes"] = "late", 61
    elif case == "negative minutes":
        status, kwargs["minutes"] = "left_early", -1
    elif case == "unknown status":
        status = "asleep"
    elif case == "late without minutes":
        status = "late"
    elif case == "naive time":
        kwargs["taken_at"] = utcnow().replace(tzinfo=None)
    elif case == "future time":
        kwargs["taken_at"] = utcnow() + timedelta(hours=1)
    elif case == "unknown mode":
        kwargs["mode"] = "telepathy"
    db.session.commit()
    with pytest.raises(LmsError) as refused:
        record_attendance(session, enrolment, status, **kwargs)  # type: ignore[arg-type]
    assert refused.value.message
    db.session.rollback()
    assert db.session.scalar(select(func.count()).select_from(Attendance)) == 0
    assert audit_rows() == []
    assert db.session.get(type(enrolment), enrolment.id).attended_minutes == 0


def test_the_same_roll_call_sent_twice_changes_and_audits_nothing_the_second_time(
    app: object, make_user: Callable[..., User]
) -> None:
    _course, run = workshop()
    session = a_session(run, minutes=90)
    one, two, three = (place(run, make_user()) for _ in range(3))
    trainer = make_user("trainer")
    taken = utcnow() - timedelta(minutes=1)
    marks = [
        Mark(one.id, "present", taken_at=taken),
        Mark(two.id, "late", 60, taken_at=taken),
        Mark(three.id, "absent", taken_at=taken),
    ]
    first = apply_roll_call(session, marks, actor_id=trainer.id)
    assert sorted(first.changed) == sorted([one.id, two.id, three.id])
    audited = len(audit_rows())
    again = apply_roll_call(session, marks, actor_id=trainer.id)
    assert again.changed == [] and sorted(again.unchanged) == sorted([one.id, two.id, three.id])
    assert len(audit_rows()) == audited == 3
    assert (one.attended_minutes, two.attended_minutes, three.attended_minutes) == (90, 60, 0)


def test_a_mark_taken_offline_before_a_later_check_in_does_not_overwrite_it(
    app: object, make_user: Callable[..., User]
) -> None:
    _course, run = workshop()
    session = a_session(run, minutes=90)
    enrolment = place(run, make_user())
    offline_at = utcnow() - timedelta(minutes=4)
    record_attendance(session, enrolment, "late", minutes=80, source=AttendanceSource.CHECK_IN, actor_id=None,
                      taken_at=utcnow() - timedelta(minutes=2))  # fmt: skip
    result = apply_roll_call(session, [Mark(enrolment.id, "absent", taken_at=offline_at)], actor_id=None)  # type: ignore[arg-type]
    assert result.newer_kept == [enrolment.id]
    assert enrolment.attended_minutes == 80


def test_a_roll_call_with_a_stranger_is_refused_whole(app: object, make_user: Callable[..., User]) -> None:
    _course, run = workshop()
    session = a_session(run, minutes=90)
    enrolment = place(run, make_user())
    _other_course, other_run = workshop(slug="other")
    stranger = place(other_run, make_user())
    with pytest.raises(LmsError):
        apply_roll_call(session, [Mark(enrolment.id, "present"), Mark(stranger.id, "present")], actor_id=None)  # type: ignore[arg-type]
    db.session.rollback()
    assert db.session.scalar(select(func.count()).select_from(Attendance)) == 0


def test_completion_follows_attendance_and_a_later_change_never_uncompletes(
    app: object, make_user: Callable[..., User]
) -> None:
    _course, run = workshop(completion_requires_lessons=False, min_attendance_percent=80)
    first, second = a_session(run, minutes=100), a_session(run, minutes=100)
    enrolment = place(run, make_user())
    record_attendance(first, enrolment, "present", source=ROLL, actor_id=None)
    assert enrolment.status == EnrolmentStatus.ENROLLED  # 50 %
    record_attendance(second, enrolment, "late", minutes=60, source=ROLL, actor_id=None)
    assert enrolment.status == EnrolmentStatus.COMPLETED  # 80 %
    record_attendance(second, enrolment, "absent", source=ROLL, actor_id=None)
    assert enrolment.status == EnrolmentStatus.COMPLETED and enrolment.attended_minutes == 100


def test_the_register_lines_take_one_query_whatever_the_number_of_participants(
    app: object, make_user: Callable[..., User]
) -> None:
    _course, run = workshop()
    session = a_session(run, minutes=60)
    counts = []
    for size in (2, 12):
        while len(register_lines(session)) < size:
            enrolment = place(run, make_user())
            record_attendance(session, enrolment, "present", source=ROLL, actor_id=None)
        db.session.commit()
        db.session.refresh(session)  # the commit expired it: read it back before counting
        statements: list[str] = []
        count = statements_into(statements)
        event.listen(db.engine, "before_cursor_execute", count)
        try:
            lines = register_lines(session)
        finally:
            event.remove(db.engine, "before_cursor_execute", count)
        assert len(lines) == size and all(line.status == "present" for line in lines), statements
        counts.append(len(statements))
    assert counts[0] == counts[1] == 1


def statements_into(statements: list[str]) -> Callable[..., None]:
    def count(*args: object) -> None:
        statements.append(str(args[2]))

    return count


def test_a_hybrid_session_records_how_each_participant_attends(
    app: object, make_user: Callable[..., User]
) -> None:
    _course, run = workshop()
    session = a_session(run, minutes=60, format="hybrid")
    online, in_room = place(run, make_user()), place(run, make_user())
    db.session.add(ParticipantDetails(enrolment_id=online.id, attendance_mode="online"))
    db.session.commit()
    apply_roll_call(
        session, [Mark(online.id, "present"), Mark(in_room.id, "present", mode="in_person")], actor_id=None
    )  # type: ignore[arg-type]
    modes = {row.enrolment_id: row.mode for row in db.session.scalars(select(Attendance))}
    assert modes == {online.id: "online", in_room.id: "in_person"}
