"""Scheduling, changing and cancelling sessions (lms/sessions/services.py) and reading them (queries.py)."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import UTC, date, datetime, timedelta
from typing import Any

import pytest
from blinker import Signal
from sqlalchemy import event, select

from lms.audit.models import AuditRecord
from lms.auth.models import Role, User
from lms.enrolment import self_service
from lms.enrolment.models import Enrolment
from lms.errors import Conflict, ValidationFailed
from lms.extensions import db
from lms.sessions import queries
from lms.sessions.access import can_manage_run_sessions, may_see_meeting_link
from lms.sessions.models import ParticipantDetails, TrainingSession
from lms.sessions.services import cancel_session, schedule_session, set_attendance_mode, update_session
from lms.sessions.signals import session_cancelled, session_changed, session_scheduled
from tests.enrolment_support import make_course
from tests.sessions_support import CHISINAU, in_person, online, workshop_run

# Far ahead: the run must still take enrolments when the suite runs (2027 stopped working after March 2027).
# 2038 has 2027's calendar, so the weekdays and the spring change fall on the same dates.
DAY = date(2038, 3, 26)  # Friday before the spring change (Sunday 28 March 2038)


@contextmanager
def recording(signal: Signal) -> Iterator[list[tuple[Any, dict[str, Any]]]]:
    sent: list[tuple[Any, dict[str, Any]]] = []

    def receiver(sender: Any, **kwargs: Any) -> None:
        sent.append((sender, kwargs))

    signal.connect(receiver)
    try:
        yield sent
    finally:
        signal.disconnect(receiver)


@pytest.fixture
def run(app: Any) -> Any:
    return workshop_run(make_course(), DAY, days=3)


def test_schedule_a_session_in_the_venue_zone(run: Any, make_user: Callable[..., User]) -> None:
    trainer = make_user(Role.TRAINER)
    with recording(session_scheduled) as sent:
        session = schedule_session(
            run,
            in_person(DAY, agenda_md="**Risk analysis**", trainer_ids=frozenset({trainer.id})),
            actor_id=None,
        )
    db.session.commit()
    assert session.starts_at == datetime(2038, 3, 26, 7, 0, tzinfo=UTC)  # 09:00 EET
    assert session.minutes == 180
    assert session.uid.endswith("@127.0.0.1") or "@" in session.uid
    assert len(session.check_in_secret) == 64 and session.sequence == 0
    assert "<strong>Risk analysis</strong>" in session.agenda_html
    assert [t.user_id for t in session.trainers] == [trainer.id]
    assert run.session_minutes == 180
    assert [s for s, _ in sent] == [session]
    audit = db.session.scalars(select(AuditRecord).where(AuditRecord.action == "training_session.scheduled"))
    assert len(list(audit)) == 1


def test_refusals_change_nothing(run: Any, make_user: Callable[..., User]) -> None:
    schedule_session(run, in_person(DAY), actor_id=None)
    db.session.commit()
    trainee = make_user(Role.TRAINEE)
    bad = [
        (in_person(DAY, 10, 13), "overlaps"),
        (in_person(DAY, 14, 13), "end after it starts"),
        (in_person(DAY - timedelta(days=1)), "before the run"),
        (in_person(DAY + timedelta(days=3)), "after the run"),
        (in_person(DAY, 14, 17, timezone="Mars/Olympus"), "time zone"),
        (in_person(DAY + timedelta(days=2), 2, 4), "does not exist"),  # 28 March 2038, 02:00-03:00 skipped
        (in_person(DAY, 14, 17, venue_name=" "), "venue"),
        (online(DAY, 14, 17, meeting_url=None), "meeting link"),
        (online(DAY, 14, 17, meeting_url="javascript:alert(1)"), "https://"),
        (in_person(DAY, 14, 17, trainer_ids=frozenset({trainee.id})), "trainer role"),
        (in_person(DAY, 14, 17, title="  "), "title"),
        (in_person(DAY, 14, 17, capacity=0), "capacity"),
        (in_person(DAY, 14, 17, venue_country="ZZ"), "country"),
    ]
    for data, words in bad:
        with pytest.raises(ValidationFailed) as refused:
            schedule_session(run, data, actor_id=None)
        assert words in refused.value.message, (words, refused.value.message)
        db.session.rollback()
    assert db.session.scalar(select(db.func.count()).select_from(TrainingSession)) == 1
    assert run.session_minutes == 180


def test_changes_raise_the_sequence_and_are_announced(run: Any) -> None:
    session = schedule_session(run, in_person(DAY), actor_id=None)
    db.session.commit()
    with recording(session_changed) as changed:
        update_session(session, in_person(DAY, title="Renamed", agenda_md="New"), actor_id=None)
    assert session.sequence == 0 and changed == []  # title and agenda: no calendar update
    with recording(session_changed) as changed:
        update_session(session, in_person(DAY, 10, 12, title="Renamed", agenda_md="New"), actor_id=None)
    assert session.sequence == 1
    assert changed == [(session, {"changed": ("starts_at",)})]
    assert run.session_minutes == 120
    with recording(session_changed) as changed:
        update_session(session, online(DAY, 10, 12, title="Renamed", agenda_md="New"), actor_id=None)
    assert session.sequence == 2 and session.venue_name is None
    assert set(changed[0][1]["changed"]) >= {"format", "meeting_url", "venue_name"}
    with recording(session_cancelled) as cancelled:
        cancel_session(session, actor_id=None)
    assert session.sequence == 3 and cancelled == [(session, {})]
    assert run.session_minutes == 0
    with pytest.raises(Conflict):
        cancel_session(session, actor_id=None)
    with pytest.raises(Conflict):
        update_session(session, in_person(DAY), actor_id=None)


def test_a_cancelled_session_frees_its_time(run: Any) -> None:
    first = schedule_session(run, in_person(DAY), actor_id=None)
    cancel_session(first, actor_id=None)
    again = schedule_session(run, in_person(DAY), actor_id=None)  # the same slot, now free
    assert again.id != first.id and run.session_minutes == 180


def test_hybrid_choice(run: Any, make_user: Callable[..., User]) -> None:
    person = make_user(Role.TRAINEE)
    enrolment = self_service.self_enrol(person, run)
    schedule_session(run, in_person(DAY), actor_id=None)
    with pytest.raises(ValidationFailed):  # no hybrid session yet
        set_attendance_mode(enrolment, "online", actor_id=person.id)
    schedule_session(
        run, in_person(DAY, 14, 17, format="hybrid", meeting_url="https://meet.example.org/x"), actor_id=None
    )
    with pytest.raises(ValidationFailed):
        set_attendance_mode(enrolment, "teleport", actor_id=person.id)
    set_attendance_mode(enrolment, "online", actor_id=person.id)
    set_attendance_mode(enrolment, "in_person", actor_id=person.id)
    details = db.session.get(ParticipantDetails, enrolment.id)
    assert details is not None and details.attendance_mode == "in_person"
    assert queries.attendance_mode(enrolment.id) == "in_person"


def count_queries() -> Any:
    counted: list[str] = []

    def before(*args: Any) -> None:
        counted.append(str(args[2]))

    return counted, before


@contextmanager
def queries_counted() -> Iterator[list[str]]:
    counted, before = count_queries()
    engine = db.engine
    event.listen(engine, "before_cursor_execute", before)
    try:
        yield counted
    finally:
        event.remove(engine, "before_cursor_execute", before)


def test_reading_sessions_takes_a_fixed_number_of_queries(run: Any, make_user: Callable[..., User]) -> None:
    trainer = make_user(Role.TRAINER)
    people = [make_user(Role.TRAINEE) for _ in range(3)]
    for person in people:
        self_service.self_enrol(person, run)
    counts, n = [], 0
    for size in (1, 3):
        for _index in range(size):
            day = DAY + timedelta(days=n % 3)
            schedule_session(
                run, in_person(day, 8 + n, 9 + n, trainer_ids=frozenset({trainer.id})), actor_id=None
            )
            n += 1
        db.session.commit()
        db.session.expire_all()
        with queries_counted() as counted:
            sessions = queries.run_sessions(run.id)
            queries.trainer_names(sessions)
            queries.participants(sessions[0])
            queries.trainer_sessions(trainer.id, set(), now=datetime(2038, 1, 1, tzinfo=UTC))
            queries.staff_sessions({people[0].authority_id or 0}, now=datetime(2038, 1, 1, tzinfo=UTC))
            queries.next_session_for(people[0].id, now=datetime(2038, 1, 1, tzinfo=UTC))
            queries.run_panel(run, people[0], assigned_to_course=False)
        counts.append(len(counted))
    assert counts[0] == counts[1]


def test_who_holds_a_place_sees_the_next_session(run: Any, make_user: Callable[..., User]) -> None:
    person, other = make_user(Role.TRAINEE), make_user(Role.TRAINEE)
    enrolment = self_service.self_enrol(person, run)
    first = schedule_session(run, in_person(DAY), actor_id=None)
    second = schedule_session(run, in_person(DAY + timedelta(days=1)), actor_id=None)
    early = datetime(2038, 1, 1, tzinfo=UTC)
    line = queries.next_session_for(person.id, now=early)
    assert line is not None and line.session.id == first.id and line.run.id == run.id
    cancel_session(first, actor_id=None)
    line = queries.next_session_for(person.id, now=early)
    assert line is not None and line.session.id == second.id
    assert queries.next_session_for(other.id, now=early) is None
    assert queries.next_session_for(person.id, now=datetime(2038, 4, 1, tzinfo=UTC)) is None
    assert [e.id for e in queries.participants(second)] == [enrolment.id]
    enrolment.status = "withdrawn"
    assert queries.next_session_for(person.id, now=early) is None
    assert queries.participants(second) == []


def test_who_sees_the_meeting_link(run: Any, make_user: Callable[..., User]) -> None:
    trainer, outsider, admin = make_user(Role.TRAINER), make_user(Role.TRAINEE), make_user(Role.ADMIN)
    session = schedule_session(run, online(DAY, trainer_ids=frozenset({trainer.id})), actor_id=None)

    class Anonymous:
        is_anonymous = True

    assert may_see_meeting_link(trainer, session, holds_place=False, assigned_to_course=False)
    assert may_see_meeting_link(outsider, session, holds_place=True, assigned_to_course=False)
    assert not may_see_meeting_link(outsider, session, holds_place=False, assigned_to_course=False)
    assert not may_see_meeting_link(outsider, session, holds_place=False, assigned_to_course=True)  # no role
    assert may_see_meeting_link(admin, session, holds_place=False, assigned_to_course=False)
    assert not may_see_meeting_link(Anonymous(), session, holds_place=True, assigned_to_course=True)
    other_trainer = make_user(Role.TRAINER)
    assert can_manage_run_sessions(other_trainer, assigned_to_course=True)
    assert not can_manage_run_sessions(other_trainer, assigned_to_course=False)
    assert can_manage_run_sessions(admin, assigned_to_course=False)
    assert not can_manage_run_sessions(outsider, assigned_to_course=True)


def test_session_zone_is_kept(run: Any) -> None:
    session = schedule_session(run, in_person(DAY, timezone="Asia/Tbilisi"), actor_id=None)
    assert session.timezone == "Asia/Tbilisi"
    assert session.starts_at == datetime(2038, 3, 26, 5, 0, tzinfo=UTC)
    assert session.timezone != CHISINAU
    assert db.session.scalar(select(Enrolment).limit(1)) is None
