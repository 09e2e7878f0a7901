"""Who may take a place in a run, checked under the run's lock: seats and quotas, eligibility, the
enrolment window, duplicates; and the refusals these checks raise.

Seat accounting is safe under concurrency: every change that takes or frees a seat first locks the
run row (PostgreSQL: SELECT ... FOR UPDATE; SQLite: writing transactions start with BEGIN IMMEDIATE,
see lms/app_setup.py), then counts, then writes, all in the caller's single transaction.
"""

from __future__ import annotations

from datetime import date

from flask_babel import gettext as _
from sqlalchemy import func, select

from lms.auth.models import User
from lms.db import utcnow
from lms.enrolment.models import (
    PENDING_STATUSES,
    SEAT_STATUSES,
    CourseRun,
    Enrolment,
    EnrolmentStatus,
    RunAuthorityQuota,
    RunEligibleAuthority,
    RunEligibleCountry,
)
from lms.enrolment.rules import (
    Eligibility,
    Refusal,
    SeatCounts,
    is_eligible,
    window_refusal,
)
from lms.errors import Conflict, Forbidden, LmsError, NotFound
from lms.extensions import db


class NotEligible(Forbidden):
    pass


class EnrolmentWindowClosed(Forbidden):
    pass


class OutsideAuthority(Forbidden):
    pass


class SeatsFull(Conflict):
    pass


class QuotaUsed(Conflict):
    pass


class DuplicateEnrolment(Conflict):
    pass


class WrongState(Conflict):
    pass


def refusal_error(refusal: Refusal) -> LmsError:
    messages: dict[Refusal, tuple[type[LmsError], str]] = {
        Refusal.NOT_ELIGIBLE: (NotEligible, _("This course run is not open to your country or authority.")),
        Refusal.WINDOW_NOT_OPEN: (EnrolmentWindowClosed, _("Enrolment for this run has not opened yet.")),
        Refusal.WINDOW_CLOSED: (EnrolmentWindowClosed, _("Enrolment for this course run is closed.")),
        Refusal.NO_SEATS: (SeatsFull, _("This course run has no free seats.")),
        Refusal.QUOTA_USED: (QuotaUsed, _("The seats of this authority in this course run are all taken.")),
    }  # fmt: skip
    error_class, message = messages[refusal]
    return error_class(message)


def today_utc() -> date:
    return utcnow().date()


def lock_run(run_id: int) -> CourseRun:
    """Serialise seat changes of one run: row lock on PostgreSQL, BEGIN IMMEDIATE on SQLite."""
    run = db.session.scalar(
        select(CourseRun)
        .where(CourseRun.id == run_id)
        .with_for_update()
        .execution_options(populate_existing=True)
    )
    if run is None:
        raise NotFound(_("This course run does not exist."))
    return run


def run_eligibility(run: CourseRun) -> Eligibility:
    countries = db.session.scalars(
        select(RunEligibleCountry.country_code).where(RunEligibleCountry.run_id == run.id)
    ).all()
    authorities = db.session.scalars(
        select(RunEligibleAuthority.authority_id).where(RunEligibleAuthority.run_id == run.id)
    ).all()
    return Eligibility(run.open_to_all, frozenset(countries), frozenset(authorities))


def user_is_eligible(run: CourseRun, user: User) -> bool:
    return is_eligible(run_eligibility(run), user.country_code, user.authority_id)


def check_eligible(run: CourseRun, user: User) -> None:
    if not user_is_eligible(run, user):
        raise refusal_error(Refusal.NOT_ELIGIBLE)


def check_window(run: CourseRun) -> None:
    refusal = window_refusal(today_utc(), run.enrolment_opens_on, run.enrolment_closes_on, run.ends_on)
    if refusal is not None:
        raise refusal_error(refusal)


def seat_counts(run: CourseRun) -> SeatCounts:
    used: dict[int | None, int] = {
        authority_id: count
        for authority_id, count in db.session.execute(
            select(Enrolment.authority_id, func.count(Enrolment.id))
            .where(Enrolment.run_id == run.id, Enrolment.status.in_(SEAT_STATUSES))
            .group_by(Enrolment.authority_id)
        )
    }
    quotas: dict[int, int] = {
        authority_id: seats
        for authority_id, seats in db.session.execute(
            select(RunAuthorityQuota.authority_id, RunAuthorityQuota.seats).where(
                RunAuthorityQuota.run_id == run.id
            )
        )
    }
    return SeatCounts(
        seats_total=run.seats_total,
        used_total=sum(used.values()),
        quotas=quotas,
        used_by_authority={k: v for k, v in used.items() if k is not None},
    )


def check_not_duplicate(run: CourseRun, user: User, ignore_id: int | None = None) -> None:
    """One live place per person per run; and nobody takes a course twice at once.

    A completed enrolment in another run does not count: that is recertification, a fresh record.
    """
    same_run = select(Enrolment.id).where(
        Enrolment.run_id == run.id,
        Enrolment.user_id == user.id,
        Enrolment.status.in_((*PENDING_STATUSES, *SEAT_STATUSES)),
    )
    if ignore_id is not None:
        same_run = same_run.where(Enrolment.id != ignore_id)
    if db.session.scalar(same_run.limit(1)) is not None:
        raise DuplicateEnrolment(
            _("%(name)s already has a place or a request in this course run.", name=user.full_name)
        )
    other_run = (
        select(Enrolment.id)
        .join(CourseRun, Enrolment.run_id == CourseRun.id)
        .where(
            CourseRun.course_id == run.course_id,
            Enrolment.run_id != run.id,
            Enrolment.user_id == user.id,
            Enrolment.status == EnrolmentStatus.ENROLLED,
        )
    )
    if db.session.scalar(other_run.limit(1)) is not None:
        raise DuplicateEnrolment(_("%(name)s is already enrolled in this course.", name=user.full_name))


def check_course_available(run: CourseRun) -> None:
    if not run.course.is_published:
        raise NotFound(_("This course is not available."))
