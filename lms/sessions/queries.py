"""Reading sessions for pages, each in a fixed number of queries (tests count them at two sizes)."""

from __future__ import annotations

from collections.abc import Collection
from dataclasses import dataclass
from datetime import datetime
from functools import cache
from typing import Any, Generic, Protocol, TypeVar

from sqlalchemy import Select, bindparam, or_, select
from sqlalchemy.orm import joinedload, selectinload

from lms.auth.models import Role, User, UserRole
from lms.db import utcnow
from lms.enrolment.models import ACTIVE_STATUSES, CourseRun, Enrolment
from lms.extensions import db
from lms.sessions.access import can_manage_run_sessions, may_see_meeting_link
from lms.sessions.models import ParticipantDetails, SessionFormat, SessionTrainer, TrainingSession


@dataclass(frozen=True)
class SessionLine:
    """A session with its run, and for a focal point's list the member of staff who attends it."""

    session: TrainingSession
    run: CourseRun
    person: User | None = None


def run_sessions(run_id: int, *, include_cancelled: bool = True) -> list[TrainingSession]:
    """A run's sessions in time order, their trainers loaded (two queries)."""
    query = (
        select(TrainingSession)
        .where(TrainingSession.run_id == run_id)
        .options(selectinload(TrainingSession.trainers))
        .order_by(TrainingSession.starts_at, TrainingSession.id)
    )
    if not include_cancelled:
        query = query.where(TrainingSession.cancelled_at.is_(None))
    return list(db.session.scalars(query))


def trainer_names(sessions: Collection[TrainingSession]) -> dict[int, str]:
    """user id -> full name of every session trainer of these sessions (one query)."""
    ids = {trainer.user_id for session in sessions for trainer in session.trainers}
    if not ids:
        return {}
    return {user.id: user.full_name for user in db.session.scalars(select(User).where(User.id.in_(ids)))}


def participants(session: TrainingSession) -> list[Enrolment]:
    """The active places (enrolled or completed) of the session's run, people loaded (one query)."""
    return list(
        db.session.scalars(
            select(Enrolment)
            .join(User, User.id == Enrolment.user_id)
            .options(joinedload(Enrolment.user))
            .where(Enrolment.run_id == session.run_id, Enrolment.status.in_(ACTIVE_STATUSES))
            .order_by(User.family_name, User.given_name, Enrolment.id)
        ).unique()
    )


def active_place(user_id: int, run_id: int) -> Enrolment | None:
    """The person's active place in the run (what shows a meeting link and the hybrid choice)."""
    return db.session.scalar(
        select(Enrolment)
        .where(
            Enrolment.user_id == user_id, Enrolment.run_id == run_id, Enrolment.status.in_(ACTIVE_STATUSES)
        )
        .order_by(Enrolment.id.desc())
        .limit(1)
    )


def attendance_mode(enrolment_id: int) -> str | None:
    return db.session.scalar(
        select(ParticipantDetails.attendance_mode).where(ParticipantDetails.enrolment_id == enrolment_id)
    )


def has_hybrid_session(sessions: Collection[TrainingSession]) -> bool:
    return any(s.format == SessionFormat.HYBRID and s.cancelled_at is None for s in sessions)


def next_session_for(user_id: int, now: datetime | None = None) -> SessionLine | None:
    """The next session (not cancelled, not over) of a run where the person holds an active place: the
    dashboard's "Next session". One query."""
    row = db.session.execute(
        select(TrainingSession, CourseRun)
        .join(CourseRun, CourseRun.id == TrainingSession.run_id)
        .join(Enrolment, Enrolment.run_id == CourseRun.id)
        .where(
            Enrolment.user_id == user_id,
            Enrolment.status.in_(ACTIVE_STATUSES),
            TrainingSession.cancelled_at.is_(None),
            TrainingSession.ends_at > (now or utcnow()),
        )
        .order_by(TrainingSession.starts_at, TrainingSession.id)
        .limit(1)
    ).first()
    return SessionLine(row[0], row[1]) if row is not None else None


class RunOfPlace(Protocol):
    """What the next session needs of a run: a CourseRun or the dashboard's plain row of it."""

    @property
    def id(self) -> int: ...
    @property
    def title(self) -> str: ...
    @property
    def sessions_end_at(self) -> datetime | None: ...


RunT = TypeVar("RunT", bound=RunOfPlace)


@dataclass(frozen=True)
class NextSession(Generic[RunT]):
    """A session with the run it was found from (the caller's object: a CourseRun or a plain row)."""

    session: TrainingSession
    run: RunT


def next_session_of_runs(runs: Collection[RunT], now: datetime | None = None) -> NextSession[RunT] | None:
    """The same "Next session" from runs already read (the dashboard's active places): no join of the
    person's places, a statement built once, and none at all when no run has a session still to end
    (``course_run.sessions_end_at``, kept by lms.sessions.services; issue 22). At most one query.
    The runs may be plain rows (the dashboard's, lms.enrolment.queries.DashboardRun, issue 22)."""
    now = now or utcnow()
    by_id = {run.id: run for run in runs if run.sessions_end_at is not None and run.sessions_end_at > now}
    if not by_id:
        return None
    session = db.session.scalars(_next_session_of_runs(), {"run_ids": list(by_id), "now": now}).first()
    return NextSession(session, by_id[session.run_id]) if session is not None else None


@cache
def _next_session_of_runs() -> Select[tuple[TrainingSession]]:
    # Built once (a statement object keeps its cache key): the dashboard is the trainee's home page.
    return (
        select(TrainingSession)
        .where(
            TrainingSession.run_id.in_(bindparam("run_ids", expanding=True)),
            TrainingSession.cancelled_at.is_(None),
            TrainingSession.ends_at > bindparam("now"),
        )
        .order_by(TrainingSession.starts_at, TrainingSession.id)
        .limit(1)
    )


def trainer_sessions(
    user_id: int, course_ids: Collection[int] | None, now: datetime | None = None, limit: int = 100
) -> list[SessionLine]:
    """Upcoming sessions a trainer gives: those naming them, and those of runs of their courses
    (``course_ids`` from lms.authoring; None for an admin: every course). One query."""
    named = select(SessionTrainer.session_id).where(SessionTrainer.user_id == user_id)
    mine = TrainingSession.id.in_(named)
    if course_ids is None:
        condition = None
    elif course_ids:
        condition = or_(mine, CourseRun.course_id.in_(list(course_ids)))
    else:
        condition = mine
    query = (
        select(TrainingSession, CourseRun)
        .join(CourseRun, CourseRun.id == TrainingSession.run_id)
        .where(TrainingSession.cancelled_at.is_(None), TrainingSession.ends_at > (now or utcnow()))
        .order_by(TrainingSession.starts_at, TrainingSession.id)
        .limit(limit)
    )
    if condition is not None:
        query = query.where(condition)
    return [SessionLine(session, run) for session, run in db.session.execute(query)]


def staff_sessions(
    authority_ids: Collection[int], now: datetime | None = None, limit: int = 200
) -> list[SessionLine]:
    """Upcoming sessions attended by the staff of these authorities (their places' authority), with the
    person. One query."""
    if not authority_ids:
        return []
    rows = db.session.execute(
        select(TrainingSession, CourseRun, User)
        .join(CourseRun, CourseRun.id == TrainingSession.run_id)
        .join(Enrolment, Enrolment.run_id == CourseRun.id)
        .join(User, User.id == Enrolment.user_id)
        .where(
            Enrolment.authority_id.in_(list(authority_ids)),
            Enrolment.status.in_(ACTIVE_STATUSES),
            TrainingSession.cancelled_at.is_(None),
            TrainingSession.ends_at > (now or utcnow()),
        )
        .order_by(TrainingSession.starts_at, User.family_name, User.given_name)
        .limit(limit)
    )
    return [SessionLine(session, run, person) for session, run, person in rows]


def trainer_choices() -> list[User]:
    """People with the trainer role, for the session form's trainer list (one query)."""
    return list(
        db.session.scalars(
            select(User)
            .where(User.id.in_(select(UserRole.user_id).where(UserRole.role == Role.TRAINER)))
            .order_by(User.family_name, User.given_name)
        )
    )


@dataclass(frozen=True)
class RunPanel:
    """What the run page shows of its sessions for the person looking (five queries at most)."""

    sessions: list[TrainingSession]
    trainer_names: dict[int, str]
    link_visible: frozenset[int]  # ids of the sessions whose meeting link this person may see
    place: Enrolment | None  # their active place in the run
    hybrid: bool  # a hybrid session exists: participants choose how they attend
    mode: str | None  # their choice
    manages: bool  # may manage the run's sessions


def run_panel(run: CourseRun, user: Any, *, assigned_to_course: bool) -> RunPanel:
    sessions = run_sessions(run.id)
    signed_in = user is not None and not getattr(user, "is_anonymous", True)
    place = active_place(user.id, run.id) if signed_in and sessions else None
    visible = frozenset(
        s.id
        for s in sessions
        if may_see_meeting_link(user, s, holds_place=place is not None, assigned_to_course=assigned_to_course)
    )
    hybrid = has_hybrid_session(sessions)
    return RunPanel(
        sessions=sessions,
        trainer_names=trainer_names(sessions),
        link_visible=visible,
        place=place,
        hybrid=hybrid,
        mode=attendance_mode(place.id) if place is not None and hybrid else None,
        manages=can_manage_run_sessions(user, assigned_to_course=assigned_to_course),
    )
