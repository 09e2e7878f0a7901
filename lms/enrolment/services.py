"""Enrolments and lesson completion. Services flush and raise LmsError; the view commits."""

from __future__ import annotations

import secrets
from collections.abc import Collection, Sequence
from dataclasses import dataclass, field
from datetime import date, timedelta
from enum import StrEnum
from functools import cache
from typing import Protocol

from flask_babel import gettext as _
from sqlalchemy import Insert, Select, Update, bindparam, delete, func, select, update
from sqlalchemy.dialects.postgresql import insert as postgresql_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.orm import contains_eager
from sqlalchemy.orm.attributes import set_committed_value

from lms.audit.services import record_event
from lms.auth.models import Role, User, UserRole
from lms.auth.services import find_user_by_email, normalise_email
from lms.courses.models import Course
from lms.courses.queries import ordered_lesson_ids
from lms.db import utcnow
from lms.enrolment.mail import MailKind, queue_enrolment_mail
from lms.enrolment.models import (
    PENDING_STATUSES,
    SEAT_STATUSES,
    CourseRun,
    Enrolment,
    EnrolmentEvent,
    EnrolmentMethod,
    EnrolmentStatus,
    LessonCompletion,
    Modality,
    RunAuthorityQuota,
    RunEligibleAuthority,
    RunEligibleCountry,
)
from lms.enrolment.progress import Progress, compute_progress
from lms.enrolment.rules import (
    Eligibility,
    Refusal,
    SeatCounts,
    is_eligible,
    promotable,
    renumber,
    window_refusal,
)

# The feature's signals live in lms/enrolment/signals.py; enrolment_completed and places_written_in_bulk
# stay importable from here for the code that sends or answers them through this module (bulk_import).
from lms.enrolment.signals import enrolment_completed as enrolment_completed
from lms.enrolment.signals import lesson_completed
from lms.enrolment.signals import places_written_in_bulk as places_written_in_bulk
from lms.errors import Conflict, Forbidden, LmsError, NotFound, ValidationFailed
from lms.extensions import db
from lms.orgs.models import Authority
from lms.quizzes.models import QuizRole
from lms.quizzes.queries import OutlineQuiz, final_assessment_results

ACTIVE_STATUSES = (EnrolmentStatus.ENROLLED, EnrolmentStatus.COMPLETED)


def default_run(course_id: int) -> CourseRun | None:
    return db.session.scalar(
        select(CourseRun).where(CourseRun.course_id == course_id, CourseRun.is_default.is_(True))
    )


def ensure_default_run(course: Course) -> CourseRun:
    """Every course loaded from files has one always-open, self-paced run."""
    run = default_run(course.id)
    if run is None:
        run = CourseRun(
            course_id=course.id,
            title=course.title,
            modality=Modality.SELF_PACED,
            language=course.language,
            enrolment_method=EnrolmentMethod.OPEN,
            is_default=True,
        )
        db.session.add(run)
        db.session.flush()
    return run


def active_enrolment(user_id: int, course_id: int) -> Enrolment | None:
    """The newest enrolment still counting (enrolled or completed) of a user in any run of a course."""
    return db.session.scalar(_active_enrolment(), {"user_id": user_id, "course_id": course_id})


@cache
def _active_enrolment() -> Select[tuple[Enrolment]]:
    # Every lesson page and completion asks this; built once so that it keeps its cache key.
    return (
        select(Enrolment)
        .join(CourseRun, Enrolment.run_id == CourseRun.id)
        .options(contains_eager(Enrolment.run))  # completing a lesson reads the run: no second query
        .where(
            Enrolment.user_id == bindparam("user_id"),
            CourseRun.course_id == bindparam("course_id"),
            Enrolment.status.in_(ACTIVE_STATUSES),
        )
        .order_by(Enrolment.enrolled_at.desc(), Enrolment.id.desc())
        .limit(1)
    )


def self_enrol(user: User, run: CourseRun, language: str | None = None) -> Enrolment:
    """Join an open run: enrolled at once, or on the waiting list when the run or quota is full.

    Refused when already enrolled in the course; a completed enrolment in another run is no obstacle
    (recertification starts a fresh record, the old one is kept).
    """
    if user.email_confirmed_at is None:  # self-registered accounts confirm their address first
        raise Forbidden(
            _("Confirm your email address before you enrol: open the link we sent you, or ask for a new "
              "one on your account page.")
        )  # fmt: skip
    if run.enrolment_method != EnrolmentMethod.OPEN:
        raise Forbidden(_("This course run does not take self-enrolment."))
    if not run.course.is_published:
        raise NotFound(_("This course is not available."))
    return join_open_run(user, run, language)


def completed_lesson_ids(enrolment_id: int) -> set[int]:
    return set(db.session.scalars(_completed_lesson_ids(), {"enrolment_id": enrolment_id}))


@cache
def _completed_lesson_ids() -> Select[tuple[int]]:
    return select(LessonCompletion.lesson_id).where(
        LessonCompletion.enrolment_id == bindparam("enrolment_id")
    )


def enrolment_progress(enrolment: Enrolment, course_id: int) -> Progress:
    lesson_ids = ordered_lesson_ids([course_id])[course_id]
    final = final_assessment_results([enrolment.id]).get(enrolment.id)
    return compute_progress(
        lesson_ids,
        completed_lesson_ids(enrolment.id),
        assessment_required=final is not None,
        assessment_passed=final is not None and final.passed,
    )


def progress_from_outline(
    lesson_ids: Sequence[int], completed: Collection[int], quizzes: Sequence[OutlineQuiz]
) -> Progress:
    """The same figure as enrolment_progress, from what a course or lesson page has already loaded."""
    final = next((row for row in quizzes if row.quiz.role == QuizRole.FINAL), None)
    return compute_progress(
        lesson_ids,
        completed,
        assessment_required=final is not None,
        assessment_passed=final is not None and final.standing is not None and final.standing.passed,
    )


class CompletableLesson(Protocol):
    @property
    def id(self) -> int: ...

    @property
    def is_published(self) -> bool: ...

    @property
    def course_id(self) -> int: ...


def complete_lesson(enrolment: Enrolment, lesson: CompletableLesson) -> bool:
    """Mark a lesson done for this enrolment; True when newly recorded (a repeat changes nothing).

    ``lesson`` is a Lesson or the published snapshot's lesson (lms.courses.published).

    The busiest write of the academy, so it is two plain statements: one records the activity time
    only while the enrolment is still active (the check and the write are one statement, so it holds
    under the write lock whatever was read before), one inserts the completion unless it exists
    (``ON CONFLICT DO NOTHING``: two clicks at once cannot both insert, and need no savepoint).
    Only a new completion is announced (``lesson_completed``), which the progress check answers.
    """
    if lesson.course_id != enrolment.run.course_id or not lesson.is_published:
        raise NotFound(_("This lesson is not part of your course."))
    now = utcnow()
    touched = db.session.execute(_touch_activity(), {"enrolment_id": enrolment.id, "now": now})
    if getattr(touched, "rowcount", 1) != 1:
        raise Forbidden(_("This enrolment is no longer active."))
    set_committed_value(enrolment, "last_activity_at", now)
    values = {"enrolment_id": enrolment.id, "lesson_id": lesson.id, "completed_at": now}
    inserted = db.session.execute(_insert_completion(db.session.get_bind().dialect.name), values).first()
    if inserted is None:  # it was there already
        return False
    lesson_completed.send(enrolment, lesson_id=lesson.id)  # lms.enrolment.completion re-checks completion
    return True


@cache
def _touch_activity() -> Update:
    # Core statements on the tables: the ORM's bulk paths would add their own work per request.
    table = Enrolment.__table__
    return (
        update(table)
        .where(table.c.id == bindparam("enrolment_id"), table.c.status.in_(ACTIVE_STATUSES))
        .values(last_activity_at=bindparam("now"))
    )


@cache
def _insert_completion(dialect: str) -> Insert:
    insert = postgresql_insert if dialect == "postgresql" else sqlite_insert
    table = LessonCompletion.__table__
    return (
        insert(table)
        .on_conflict_do_nothing(index_elements=["enrolment_id", "lesson_id"])
        .returning(table.c.id)
    )


def update_completion(enrolment: Enrolment) -> None:
    """Complete = every published lesson done and the final assessment (when the course has one) passed.

    The one place completion is decided. It is reached from the signals of what feeds progress
    (lesson_completed, attempt_finished, attempts_regraded: lms/enrolment/completion.py); a new source
    (attendance, surveys, packages) sends its own signal and subscribes this there."""
    progress = enrolment_progress(enrolment, enrolment.run.course_id)
    if progress.complete and enrolment.status == EnrolmentStatus.ENROLLED:
        enrolment.status = EnrolmentStatus.COMPLETED
        enrolment.completed_at = utcnow()
        db.session.flush()
        enrolment_completed.send(enrolment)


# --- Course runs with seats, quotas, eligibility, nominations, approvals and a waiting list ---------
#
# Seat accounting is safe under concurrency: every change that takes or frees a seat first locks the
# run row (PostgreSQL: SELECT ... FOR UPDATE; SQLite: writing transactions start with BEGIN IMMEDIATE,
# see lms/app_setup.py), then counts, then writes, all in the caller's single transaction.


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


class WhenFull(StrEnum):
    WAIT = "wait"  # put the person on the waiting list
    REFUSE = "refuse"  # raise SeatsFull / QuotaUsed


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


def _record(
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


def _change_status(
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
    _record(enrolment, action, from_status, actor_id, reason)


def _create(
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
        enrolment.waiting_position = _next_waiting_position(run)
    db.session.add(enrolment)
    db.session.flush()
    _record(enrolment, action, None, actor_id, justification)
    return enrolment


def _next_waiting_position(run: CourseRun) -> int:
    highest = db.session.scalar(
        select(func.max(Enrolment.waiting_position)).where(
            Enrolment.run_id == run.id, Enrolment.status == EnrolmentStatus.WAITING
        )
    )
    return (highest or 0) + 1


def _put_on_waiting_list(
    enrolment: Enrolment, run: CourseRun, action: str, actor_id: int | None, reason: str | None
) -> None:
    enrolment.waiting_position = _next_waiting_position(run)
    _change_status(enrolment, EnrolmentStatus.WAITING, action, actor_id, reason)


def _check_course_available(run: CourseRun) -> None:
    if not run.course.is_published:
        raise NotFound(_("This course is not available."))


def join_open_run(user: User, run: CourseRun, language: str | None = None) -> Enrolment:
    """Self-enrolment: instant when a seat is free, otherwise a place on the waiting list."""
    if run.enrolment_method != EnrolmentMethod.OPEN:
        raise Forbidden(_("This course run does not take self-enrolment."))
    _check_course_available(run)
    run = lock_run(run.id)
    check_not_duplicate(run, user)
    check_eligible(run, user)
    check_window(run)
    if seat_counts(run).refusal_for(user.authority_id) is None:
        return _create(run, user, EnrolmentStatus.ENROLLED, "enrolled", user.id, language=language)
    return _create(run, user, EnrolmentStatus.WAITING, "waiting", user.id, language=language)


def request_place(
    user: User, run: CourseRun, justification: str | None = None, language: str | None = None
) -> Enrolment:
    """A trainee asks for a place in a run that an admin approves."""
    if run.enrolment_method != EnrolmentMethod.REQUEST:
        raise Forbidden(_("This course run does not take requests."))
    _check_course_available(run)
    run = lock_run(run.id)
    check_not_duplicate(run, user)
    check_eligible(run, user)
    check_window(run)
    enrolment = _create(
        run,
        user,
        EnrolmentStatus.REQUESTED,
        "requested",
        user.id,
        language=language,
        justification=justification,
    )
    queue_enrolment_mail(MailKind.REQUEST_RECEIVED, user, run)
    return enrolment


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
    _check_course_available(run)
    run = lock_run(run.id)
    check_not_duplicate(run, nominee)
    check_eligible(run, nominee)
    if check_dates:
        check_window(run)
    enrolment = _create(
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
    _check_course_available(run)
    run = lock_run(run.id)
    check_not_duplicate(run, user)
    check_eligible(run, user)
    refusal = seat_counts(run).refusal_for(user.authority_id)
    if refusal is not None:
        raise refusal_error(refusal)
    enrolment = _create(
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
        _change_status(enrolment, EnrolmentStatus.ENROLLED, "approved", actor.id, reason)
        queue_enrolment_mail(MailKind.APPROVED, user, run, reason=reason, actor=actor)
        return enrolment
    if when_full == WhenFull.REFUSE:
        raise refusal_error(refusal)
    _put_on_waiting_list(enrolment, run, "approved", actor.id, reason)
    queue_enrolment_mail(MailKind.WAITING, user, run, reason=reason, position=enrolment.waiting_position)
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
    _change_status(enrolment, EnrolmentStatus.REJECTED, "rejected", actor.id, reason.strip())
    queue_enrolment_mail(MailKind.REJECTED, enrolment.user, run, reason=reason.strip(), actor=actor)
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
    _change_status(
        enrolment, EnrolmentStatus.WITHDRAWN, "withdrawn", actor.id, (reason or "").strip() or None
    )
    if freed:
        promote_waiting(run, actor_id=actor.id)
    return enrolment


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
            _change_status(
                enrolment, EnrolmentStatus.ENROLLED, "promoted", actor_id, _("A seat became free.")
            )
            queue_enrolment_mail(MailKind.PROMOTED, enrolment.user, run)
            promoted.append(enrolment)
    remaining = [e for e in waiting if e.id not in chosen]
    positions = renumber([e.id for e in remaining])
    for enrolment in remaining:
        enrolment.waiting_position = positions[enrolment.id]
    db.session.flush()
    return promoted


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


def set_run_rules(
    run: CourseRun,
    actor: User,
    *,
    quotas: dict[int, int],
    countries: set[str],
    authority_ids: set[int],
) -> None:
    """Replace a run's quotas and eligibility lists, then fill any seats the change freed."""
    run = lock_run(run.id)
    db.session.execute(delete(RunAuthorityQuota).where(RunAuthorityQuota.run_id == run.id))
    db.session.execute(delete(RunEligibleCountry).where(RunEligibleCountry.run_id == run.id))
    db.session.execute(delete(RunEligibleAuthority).where(RunEligibleAuthority.run_id == run.id))
    for authority_id, seats in sorted(quotas.items()):
        db.session.add(RunAuthorityQuota(run_id=run.id, authority_id=authority_id, seats=seats))
    for code in sorted(countries):
        db.session.add(RunEligibleCountry(run_id=run.id, country_code=code))
    for authority_id in sorted(authority_ids):
        db.session.add(RunEligibleAuthority(run_id=run.id, authority_id=authority_id))
    db.session.flush()
    record_event(
        "course_run.rules_set",
        "course_run",
        run.id,
        actor_id=actor.id,
        after={
            "open_to_all": run.open_to_all,
            "seats_total": run.seats_total,
            "quotas": {str(k): v for k, v in sorted(quotas.items())},
            "countries": sorted(countries),
            "authorities": sorted(authority_ids),
        },
    )
    promote_waiting(run, actor_id=actor.id)


def remind_run_start(days_ahead: int = 7, today: date | None = None) -> int:
    """Queue a "run starting" message for everyone enrolled in runs starting within the next days.

    Each run is reminded once (start_reminder_sent_at); the CLI sends the queue after its commit.
    """
    today = today or today_utc()
    runs = db.session.scalars(
        select(CourseRun).where(
            CourseRun.starts_on.is_not(None),
            CourseRun.starts_on >= today,
            CourseRun.starts_on <= today + timedelta(days=days_ahead),
            CourseRun.start_reminder_sent_at.is_(None),
        )
    ).all()
    queued = 0
    for run in runs:
        enrolments = db.session.scalars(
            select(Enrolment).where(Enrolment.run_id == run.id, Enrolment.status == EnrolmentStatus.ENROLLED)
        ).all()
        for enrolment in enrolments:
            queue_enrolment_mail(MailKind.RUN_STARTING, enrolment.user, run)
            queued += 1
        run.start_reminder_sent_at = utcnow()
    db.session.flush()
    return queued


@enrolment_completed.connect
def _record_completion(enrolment: Enrolment, **_extra: object) -> None:
    """Completion is a state change like any other: it gets its event (the trainee is the actor)."""
    _record(enrolment, "completed", EnrolmentStatus.ENROLLED, enrolment.user_id, None)


# --- Bulk import: lms/enrolment/bulk_import.py -----------------------------------------------------


def export_rows(run: CourseRun, authority_ids: set[int] | None = None) -> list[list[str | None]]:
    """The run's people in the import columns (plus state), for a spreadsheet and back."""
    query = (
        select(Enrolment, User, Authority)
        .join(User, Enrolment.user_id == User.id)
        .outerjoin(Authority, Enrolment.authority_id == Authority.id)
        .where(Enrolment.run_id == run.id)
        .order_by(User.family_name, User.given_name)
    )
    if authority_ids is not None:
        query = query.where(Enrolment.authority_id.in_(authority_ids))
    return [
        [
            user.email,
            user.given_name,
            user.family_name,
            user.patronymic,
            user.native_name,
            user.country_code,
            authority.code if authority else None,
            user.position,
            user.sex,
            user.birth_year_band,
            user.preferred_language,
            enrolment.status,
        ]
        for enrolment, user, authority in db.session.execute(query)
    ]


# --- Creating and editing course runs ----------------------------------------------------------------


@dataclass(frozen=True)
class RunData:
    course_id: int
    title: str
    modality: str
    language: str
    starts_on: date | None
    ends_on: date | None
    enrolment_opens_on: date | None
    enrolment_closes_on: date | None
    seats_total: int | None
    enrolment_method: str
    open_to_all: bool
    countries: frozenset[str] = frozenset()
    authority_ids: frozenset[int] = frozenset()
    quota_codes: dict[str, int] = field(default_factory=dict)


def save_run(actor: User, run: CourseRun | None, data: RunData) -> CourseRun:
    """Create a run or change one; quotas come as authority codes and must all exist."""
    course = db.session.get(Course, data.course_id)
    if course is None:
        raise ValidationFailed(_("Choose a course."))
    if data.enrolment_method not in set(EnrolmentMethod):
        raise ValidationFailed(_("Choose an enrolment method."))
    quota_ids: dict[int, int] = {}
    if data.quota_codes:
        found: dict[str, int] = {
            code: authority_id
            for code, authority_id in db.session.execute(
                select(Authority.code, Authority.id).where(Authority.code.in_(list(data.quota_codes)))
            )
        }
        unknown = sorted(set(data.quota_codes) - set(found))
        if unknown:
            raise ValidationFailed(_("Unknown authority code(s): %(codes)s.", codes=", ".join(unknown)))
        quota_ids = {found[code]: seats for code, seats in data.quota_codes.items()}
    if not data.open_to_all and not data.countries and not data.authority_ids:
        raise ValidationFailed(_("List at least one eligible country or authority, or open the run to all."))
    created = run is None
    if run is None:
        run = CourseRun(course_id=course.id, title=data.title)
        db.session.add(run)
    elif run.course_id != course.id:
        has_people = db.session.scalar(select(Enrolment.id).where(Enrolment.run_id == run.id).limit(1))
        if has_people is not None:
            raise Conflict(_("People are already enrolled: the course of this run cannot change."))
    run.course_id = course.id
    run.title = data.title.strip()
    run.modality = data.modality
    run.language = data.language
    run.starts_on = data.starts_on
    run.ends_on = data.ends_on
    run.enrolment_opens_on = data.enrolment_opens_on
    run.enrolment_closes_on = data.enrolment_closes_on
    run.seats_total = data.seats_total
    run.enrolment_method = data.enrolment_method
    run.open_to_all = data.open_to_all
    db.session.flush()
    record_event(
        "course_run.created" if created else "course_run.updated",
        "course_run",
        run.id,
        actor_id=actor.id,
        after={"title": run.title, "course_id": run.course_id, "method": run.enrolment_method},
    )
    set_run_rules(
        run,
        actor,
        quotas=quota_ids,
        countries=set(data.countries) if not data.open_to_all else set(),
        authority_ids=set(data.authority_ids) if not data.open_to_all else set(),
    )
    return run


def change_study_language(enrolment: Enrolment, language: str, *, actor_id: int | None) -> bool:
    """Switch the language a trainee studies a course in (issue 8); True when it changed.

    The course stays the same for completion, quizzes and reports: only the texts shown change.
    An attempt already started keeps the language it was drawn in.
    """
    course = enrolment.run.course
    if language not in course.languages:
        raise ValidationFailed(_("This course is not available in that language."))
    if enrolment.status not in ACTIVE_STATUSES:
        raise Forbidden(_("This enrolment is no longer active."))
    before = enrolment.language
    if before == language:
        return False
    enrolment.language = language
    db.session.flush()
    record_event(
        "enrolment.language_changed",
        "enrolment",
        enrolment.id,
        actor_id=actor_id,
        before={"language": before},
        after={"language": language},
    )
    return True
