"""The waiting list of a run: joining it at the end, and free seats given to it in order."""

from __future__ import annotations

from flask_babel import gettext as _
from sqlalchemy import select

from lms.enrolment.admission import seat_counts
from lms.enrolment.mail import MailKind, queue_enrolment_mail
from lms.enrolment.models import (
    CourseRun,
    Enrolment,
    EnrolmentStatus,
)
from lms.enrolment.rules import (
    promotable,
    renumber,
)
from lms.enrolment.transitions import change_status, next_waiting_position
from lms.extensions import db


def put_on_waiting_list(
    enrolment: Enrolment, run: CourseRun, action: str, actor_id: int | None, reason: str | None
) -> None:
    enrolment.waiting_position = next_waiting_position(run)
    change_status(enrolment, EnrolmentStatus.WAITING, action, actor_id, reason)


def promote_waiting(run: CourseRun, actor_id: int | None = None) -> list[Enrolment]:
    """Give free seats to the waiting list in order, skipping people whose authority's quota is used.

    The caller has locked the run (all callers in this module do, before counting).
    """
    waiting = db.session.scalars(
        select(Enrolment)
        .where(Enrolment.run_id == run.id, Enrolment.status == EnrolmentStatus.WAITING)
        .order_by(Enrolment.waiting_position, Enrolment.id)
    ).all()
    chosen = set(promotable(seat_counts(run), [(e.id, e.authority_id) for e in waiting]))
    promoted = []
    for enrolment in waiting:
        if enrolment.id in chosen:
            change_status(enrolment, EnrolmentStatus.ENROLLED, "promoted", actor_id, _("A seat became free."))
            queue_enrolment_mail(MailKind.PROMOTED, enrolment.user, run)
            promoted.append(enrolment)
    remaining = [e for e in waiting if e.id not in chosen]
    positions = renumber([e.id for e in remaining])
    for enrolment in remaining:
        enrolment.waiting_position = positions[enrolment.id]
    db.session.flush()
    return promoted
