"""What a trainee does with their own place: enrol in an open run (or join its waiting list), ask for a
place, find their active place, change the language they study in."""

from __future__ import annotations

from functools import cache

from flask_babel import gettext as _
from sqlalchemy import Select, bindparam, select
from sqlalchemy.orm import contains_eager

from lms.audit.services import record_event
from lms.auth.models import User
from lms.enrolment.admission import (
    check_course_available,
    check_eligible,
    check_not_duplicate,
    check_window,
    lock_run,
    seat_counts,
)
from lms.enrolment.mail import MailKind, queue_enrolment_mail
from lms.enrolment.models import (
    ACTIVE_STATUSES,
    CourseRun,
    Enrolment,
    EnrolmentMethod,
    EnrolmentStatus,
    status_in,
)
from lms.enrolment.transitions import create_place
from lms.errors import Forbidden, NotFound, ValidationFailed
from lms.extensions import db


def active_enrolment(user_id: int, course_id: int) -> Enrolment | None:
    """The newest enrolment still counting (enrolled or completed) of a user in any run of a course."""
    return db.session.scalar(_active_enrolment(), {"user_id": user_id, "course_id": course_id})


@cache
def _active_enrolment() -> Select[tuple[Enrolment]]:
    # Every lesson completion and quiz page asks this; built once so that it keeps its cache key. With its
    # run (completing a lesson reads it: no second query). The same place as the lesson page's plain-row
    # read (lms.enrolment.queries.study_place_by_course_slug): the newest, by enrolment time then id.
    return (
        select(Enrolment)
        .join(CourseRun, Enrolment.run_id == CourseRun.id)
        .options(contains_eager(Enrolment.run))
        .where(
            Enrolment.user_id == bindparam("user_id"),
            status_in(Enrolment.status, ACTIVE_STATUSES),
            CourseRun.course_id == bindparam("course_id"),
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


def join_open_run(user: User, run: CourseRun, language: str | None = None) -> Enrolment:
    """Self-enrolment: instant when a seat is free, otherwise a place on the waiting list."""
    if run.enrolment_method != EnrolmentMethod.OPEN:
        raise Forbidden(_("This course run does not take self-enrolment."))
    check_course_available(run)
    run = lock_run(run.id)
    check_not_duplicate(run, user)
    check_eligible(run, user)
    check_window(run)
    if seat_counts(run).refusal_for(user.authority_id) is None:
        return create_place(run, user, EnrolmentStatus.ENROLLED, "enrolled", user.id, language=language)
    return create_place(run, user, EnrolmentStatus.WAITING, "waiting", user.id, language=language)


def request_place(
    user: User, run: CourseRun, justification: str | None = None, language: str | None = None
) -> Enrolment:
    """A trainee asks for a place in a run that an admin approves."""
    if run.enrolment_method != EnrolmentMethod.REQUEST:
        raise Forbidden(_("This course run does not take requests."))
    check_course_available(run)
    run = lock_run(run.id)
    check_not_duplicate(run, user)
    check_eligible(run, user)
    check_window(run)
    enrolment = create_place(
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
