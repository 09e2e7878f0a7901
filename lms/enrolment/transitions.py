"""A place's records: creating one, changing its state, and the event (and audit record) of each."""

from __future__ import annotations

from sqlalchemy import func, select

from lms.audit.services import record_event
from lms.auth.models import User
from lms.db import utcnow
from lms.enrolment.models import (
    ACTIVE_STATUSES,
    CourseRun,
    Enrolment,
    EnrolmentEvent,
    EnrolmentStatus,
)
from lms.enrolment.signals import place_released, place_taken
from lms.extensions import db


def record_transition(
    enrolment: Enrolment, action: str, from_status: str | None, actor_id: int | None, reason: str | None
) -> None:
    db.session.add(
        EnrolmentEvent(
            enrolment_id=enrolment.id,
            action=action,
            from_status=from_status,
            to_status=enrolment.status,
            actor_id=actor_id,
            reason=reason,
        )
    )
    record_event(
        f"enrolment.{action}",
        "enrolment",
        enrolment.id,
        actor_id=actor_id,
        before={"status": from_status} if from_status else None,
        after={"status": enrolment.status, "run_id": enrolment.run_id, "user_id": enrolment.user_id},
        reason=reason,
    )


def change_status(
    enrolment: Enrolment, to_status: str, action: str, actor_id: int | None, reason: str | None = None
) -> None:
    from_status = enrolment.status
    enrolment.status = to_status
    if to_status == EnrolmentStatus.ENROLLED:
        enrolment.enrolled_at = utcnow()
        enrolment.last_activity_at = enrolment.enrolled_at
    if to_status != EnrolmentStatus.WAITING:
        enrolment.waiting_position = None
    db.session.flush()
    record_transition(enrolment, action, from_status, actor_id, reason)
    if to_status == EnrolmentStatus.ENROLLED and from_status != EnrolmentStatus.ENROLLED:
        place_taken.send(enrolment)
    elif from_status in RELEASING and to_status not in (*ACTIVE_STATUSES, EnrolmentStatus.WAITING):
        place_released.send(enrolment, previous=from_status)


# A place leaving one of these for a state without a seat or claim (withdrawn, rejected) sends
# place_released (the calendar cancellations of the sessions it had been invited to).
RELEASING = (EnrolmentStatus.ENROLLED, EnrolmentStatus.WAITING)


def create_place(
    run: CourseRun,
    user: User,
    status: str,
    action: str,
    actor_id: int | None,
    *,
    language: str | None = None,
    justification: str | None = None,
    nominated_by_id: int | None = None,
) -> Enrolment:
    now = utcnow()
    enrolment = Enrolment(
        run_id=run.id,
        user_id=user.id,
        status=status,
        authority_id=user.authority_id,
        language=language if language in run.course.languages else run.language,
        justification=(justification or "").strip() or None,
        nominated_by_id=nominated_by_id,
        created_at=now,
        enrolled_at=now,
        last_activity_at=now if status == EnrolmentStatus.ENROLLED else None,
    )
    if status == EnrolmentStatus.WAITING:
        enrolment.waiting_position = next_waiting_position(run)
    db.session.add(enrolment)
    db.session.flush()
    record_transition(enrolment, action, None, actor_id, justification)
    if status == EnrolmentStatus.ENROLLED:
        place_taken.send(enrolment)
    return enrolment


def next_waiting_position(run: CourseRun) -> int:
    highest = db.session.scalar(
        select(func.max(Enrolment.waiting_position)).where(
            Enrolment.run_id == run.id, Enrolment.status == EnrolmentStatus.WAITING
        )
    )
    return (highest or 0) + 1
