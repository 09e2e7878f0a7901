"""Nominations by focal points and the admin's decisions: nominate, enrol directly, add a colleague's
account, approve, reject (one or many), withdraw."""

from __future__ import annotations

import secrets
from dataclasses import dataclass, field
from enum import StrEnum

from flask_babel import gettext as _
from sqlalchemy import select

from lms.audit.services import record_event
from lms.auth.models import Role, User, UserRole
from lms.auth.services import find_user_by_email, normalise_email
from lms.enrolment.admission import (
    DuplicateEnrolment,
    OutsideAuthority,
    WrongState,
    check_course_available,
    check_eligible,
    check_not_duplicate,
    check_window,
    lock_run,
    refusal_error,
    seat_counts,
)
from lms.enrolment.mail import MailKind, queue_enrolment_mail
from lms.enrolment.models import (
    PENDING_STATUSES,
    CourseRun,
    Enrolment,
    EnrolmentMethod,
    EnrolmentStatus,
)
from lms.enrolment.rules import (
    Refusal,
)
from lms.enrolment.signals import enrolment_decided
from lms.enrolment.transitions import change_status, create_place
from lms.enrolment.waiting_list import promote_waiting, put_on_waiting_list
from lms.errors import Forbidden, LmsError, ValidationFailed
from lms.extensions import db
from lms.orgs.models import Authority


def accepts_nominations(run: CourseRun) -> bool:
    return run.enrolment_method in (EnrolmentMethod.NOMINATION, EnrolmentMethod.REQUEST)


def acts_for(actor: User, authority_id: int | None) -> bool:
    """Admins act for everyone; a focal point only for the staff of their own authority."""
    if actor.has_role(Role.ADMIN):
        return True
    return authority_id is not None and authority_id in actor.focal_point_authority_ids()


def check_acts_for(actor: User, authority_id: int | None) -> None:
    if not acts_for(actor, authority_id):
        raise OutsideAuthority(_("You can only act for the staff of your own authority."))


def may_withdraw(enrolment: Enrolment, actor: User) -> bool:
    """The trainee themselves, an admin, or a focal point of the trainee's authority (as withdraw checks)."""
    return enrolment.user_id == actor.id or acts_for(actor, enrolment.authority_id)


def nominate(
    actor: User, run: CourseRun, nominee: User, justification: str, *, check_dates: bool = True
) -> Enrolment:
    """A focal point nominates a member of their authority's staff; an admin decides."""
    check_acts_for(actor, nominee.authority_id)
    if not accepts_nominations(run):
        raise Forbidden(_("This course run does not take nominations."))
    if not justification or not justification.strip():
        raise ValidationFailed(_("Give a justification for the nomination."))
    check_course_available(run)
    run = lock_run(run.id)
    check_not_duplicate(run, nominee)
    check_eligible(run, nominee)
    if check_dates:
        check_window(run)
    enrolment = create_place(
        run,
        nominee,
        EnrolmentStatus.NOMINATED,
        "nominated",
        actor.id,
        language=nominee.preferred_language,
        justification=justification,
        nominated_by_id=actor.id,
    )
    queue_enrolment_mail(MailKind.NOMINATION_RECEIVED, nominee, run, actor=actor)
    return enrolment


def enrol_directly(actor: User, run: CourseRun, user: User, reason: str | None = None) -> Enrolment:
    """An admin places someone in a run (bulk import); refused when no seat or quota is left."""
    if not actor.has_role(Role.ADMIN):
        raise Forbidden(_("Only an administrator can enrol people directly."))
    check_course_available(run)
    run = lock_run(run.id)
    check_not_duplicate(run, user)
    check_eligible(run, user)
    refusal = seat_counts(run).refusal_for(user.authority_id)
    if refusal is not None:
        raise refusal_error(refusal)
    enrolment = create_place(
        run,
        user,
        EnrolmentStatus.ENROLLED,
        "enrolled",
        actor.id,
        language=user.preferred_language,
        justification=reason,
    )
    queue_enrolment_mail(MailKind.APPROVED, user, run, actor=actor)
    return enrolment


@dataclass(frozen=True)
class NewPerson:
    email: str
    given_name: str
    family_name: str
    authority_id: int
    patronymic: str | None = None
    native_name: str | None = None
    position: str | None = None
    sex: str | None = None
    birth_year_band: str | None = None
    preferred_language: str | None = None


def add_staff_member(actor: User, person: NewPerson) -> User:
    """A focal point (or admin) creates an account for a colleague who has none yet.

    The account gets an unguessable password: the person sets their own through the password reset.
    """
    check_acts_for(actor, person.authority_id)
    if find_user_by_email(person.email) is not None:
        raise DuplicateEnrolment(
            _("An account with this email address already exists: choose the person from your staff list.")
        )
    authority = db.session.get(Authority, person.authority_id)
    if authority is None or authority.is_retired:
        raise ValidationFailed(_("Choose an active authority."))
    user = User(
        email=normalise_email(person.email),
        # Not an argon2 hash, so no password matches it until the person sets one (cheap for imports).
        password_hash=f"!unset:{secrets.token_hex(16)}",
        given_name=person.given_name.strip(),
        family_name=person.family_name.strip(),
        patronymic=(person.patronymic or "").strip() or None,
        native_name=(person.native_name or "").strip() or None,
        position=(person.position or "").strip() or None,
        sex=person.sex or None,
        birth_year_band=person.birth_year_band or None,
        preferred_language=person.preferred_language or None,
        country_code=authority.country_code,
        authority_id=authority.id,
    )
    user.roles = [UserRole(role=Role.TRAINEE)]
    db.session.add(user)
    db.session.flush()
    record_event(
        "user.created_by_focal_point",
        "user",
        user.id,
        actor_id=actor.id,
        after={"email": user.email, "authority_id": authority.id},
    )
    return user


class WhenFull(StrEnum):
    WAIT = "wait"  # put the person on the waiting list
    REFUSE = "refuse"  # raise SeatsFull / QuotaUsed


def approve(
    enrolment: Enrolment, actor: User, reason: str | None = None, when_full: WhenFull = WhenFull.WAIT
) -> Enrolment:
    """Approve a nomination or request: enrolled when a seat (and quota) is free, else waiting."""
    run = lock_run(enrolment.run_id)
    db.session.refresh(enrolment)
    if enrolment.status not in (EnrolmentStatus.NOMINATED, EnrolmentStatus.REQUESTED):
        raise WrongState(_("Only nominations and requests waiting for a decision can be approved."))
    user = enrolment.user
    check_not_duplicate(run, user, ignore_id=enrolment.id)
    refusal = seat_counts(run).refusal_for(enrolment.authority_id)
    if refusal is None:
        change_status(enrolment, EnrolmentStatus.ENROLLED, "approved", actor.id, reason)
        queue_enrolment_mail(MailKind.APPROVED, user, run, reason=reason, actor=actor)
        enrolment_decided.send(enrolment, approved=True, actor_id=actor.id)
        return enrolment
    if when_full == WhenFull.REFUSE:
        raise refusal_error(refusal)
    put_on_waiting_list(enrolment, run, "approved", actor.id, reason)
    queue_enrolment_mail(MailKind.WAITING, user, run, reason=reason, position=enrolment.waiting_position)
    enrolment_decided.send(enrolment, approved=True, actor_id=actor.id)
    return enrolment


def reject(enrolment: Enrolment, actor: User, reason: str) -> Enrolment:
    """Refuse a nomination, request or waiting place, or take back a seat; a reason is required."""
    if not reason or not reason.strip():
        raise ValidationFailed(_("Give a reason for the rejection."))
    run = lock_run(enrolment.run_id)
    db.session.refresh(enrolment)
    if enrolment.status not in (*PENDING_STATUSES, EnrolmentStatus.ENROLLED):
        raise WrongState(_("This enrolment can no longer be rejected."))
    freed = enrolment.status in (EnrolmentStatus.ENROLLED, EnrolmentStatus.WAITING)
    change_status(enrolment, EnrolmentStatus.REJECTED, "rejected", actor.id, reason.strip())
    queue_enrolment_mail(MailKind.REJECTED, enrolment.user, run, reason=reason.strip(), actor=actor)
    enrolment_decided.send(enrolment, approved=False, actor_id=actor.id)
    if freed:
        promote_waiting(run, actor_id=actor.id)
    return enrolment


def withdraw(enrolment: Enrolment, actor: User, reason: str | None = None) -> Enrolment:
    """The trainee (or an admin, or their focal point) gives up a place or a pending request."""
    if enrolment.user_id != actor.id:
        check_acts_for(actor, enrolment.authority_id)
    run = lock_run(enrolment.run_id)
    db.session.refresh(enrolment)
    if enrolment.status not in (*PENDING_STATUSES, EnrolmentStatus.ENROLLED):
        raise WrongState(_("This enrolment cannot be withdrawn."))
    freed = enrolment.status in (EnrolmentStatus.ENROLLED, EnrolmentStatus.WAITING)
    change_status(enrolment, EnrolmentStatus.WITHDRAWN, "withdrawn", actor.id, (reason or "").strip() or None)
    if freed:
        promote_waiting(run, actor_id=actor.id)
    return enrolment


@dataclass
class BulkResult:
    enrolled: int = 0
    waiting: int = 0
    rejected: int = 0
    problems: list[str] = field(default_factory=list)
    # authority name -> its quota, for authorities whose quota (not the run) sent people to the waiting list
    quota_full: dict[str, int] = field(default_factory=dict)


def decide_many(enrolment_ids: list[int], actor: User, approve_them: bool, reason: str | None) -> BulkResult:
    """Approve or reject several in one transaction, oldest first; each refusal is reported, not fatal."""
    result = BulkResult()
    if not approve_them and not (reason or "").strip():
        raise ValidationFailed(_("Give a reason for the rejection."))
    enrolments = db.session.scalars(
        select(Enrolment).where(Enrolment.id.in_(enrolment_ids)).order_by(Enrolment.created_at, Enrolment.id)
    ).all()
    for enrolment in enrolments:
        savepoint = db.session.begin_nested()
        try:
            if approve_them:
                approve(enrolment, actor, reason)
                if enrolment.status == EnrolmentStatus.ENROLLED:
                    result.enrolled += 1
                else:
                    result.waiting += 1
                    _note_full_quota(result, enrolment)
            else:
                reject(enrolment, actor, reason or "")
                result.rejected += 1
        except LmsError as error:
            savepoint.rollback()
            result.problems.append(f"{enrolment.user.full_name}: {error.message}")
        else:
            savepoint.commit()
    return result


def _note_full_quota(result: BulkResult, enrolment: Enrolment) -> None:
    """Waiting while the run shows free seats puzzles the admin: say when the authority's quota is why."""
    counts = seat_counts(enrolment.run)
    authority_id = enrolment.authority_id
    if authority_id is not None and counts.refusal_for(authority_id) == Refusal.QUOTA_USED:
        authority = db.session.get(Authority, authority_id)
        if authority is not None:
            result.quota_full[authority.name] = counts.quotas[authority_id]
