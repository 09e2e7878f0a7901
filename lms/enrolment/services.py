"""Enrolments and lesson completion. Services flush and raise LmsError; the view commits."""

from __future__ import annotations

from blinker import Namespace
from flask_babel import gettext as _
from sqlalchemy import select

from lms.auth.models import User
from lms.courses.models import Course, Lesson
from lms.courses.queries import ordered_lesson_ids
from lms.db import utcnow
from lms.enrolment.models import (
    CourseRun,
    Enrolment,
    EnrolmentMethod,
    EnrolmentStatus,
    LessonCompletion,
    Modality,
)
from lms.enrolment.progress import Progress, compute_progress
from lms.errors import Conflict, Forbidden, NotFound
from lms.extensions import db

ACTIVE_STATUSES = (EnrolmentStatus.ENROLLED, EnrolmentStatus.COMPLETED)

signals = Namespace()
# Sent (inside the transaction, after flush) when an enrolment becomes complete; later features
# such as certificates subscribe instead of enrolment importing them.
enrolment_completed = signals.signal("enrolment-completed")


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
    return db.session.scalar(
        select(Enrolment)
        .join(CourseRun, Enrolment.run_id == CourseRun.id)
        .where(
            Enrolment.user_id == user_id,
            CourseRun.course_id == course_id,
            Enrolment.status.in_(ACTIVE_STATUSES),
        )
        .order_by(Enrolment.enrolled_at.desc(), Enrolment.id.desc())
        .limit(1)
    )


def self_enrol(user: User, run: CourseRun, language: str | None = None) -> Enrolment:
    if run.enrolment_method != EnrolmentMethod.OPEN:
        raise Forbidden(_("This course run does not take self-enrolment."))
    if not run.course.is_published:
        raise NotFound(_("This course is not available."))
    if active_enrolment(user.id, run.course_id) is not None:
        raise Conflict(_("You are already enrolled in this course."))
    course_languages = run.course.languages
    enrolment = Enrolment(
        run_id=run.id,
        user_id=user.id,
        status=EnrolmentStatus.ENROLLED,
        language=language if language in course_languages else run.language,
        last_activity_at=utcnow(),
    )
    db.session.add(enrolment)
    db.session.flush()
    return enrolment


def completed_lesson_ids(enrolment_id: int) -> set[int]:
    return set(
        db.session.scalars(
            select(LessonCompletion.lesson_id).where(LessonCompletion.enrolment_id == enrolment_id)
        )
    )


def enrolment_progress(enrolment: Enrolment, course_id: int) -> Progress:
    lesson_ids = ordered_lesson_ids([course_id])[course_id]
    return compute_progress(lesson_ids, completed_lesson_ids(enrolment.id))


def complete_lesson(enrolment: Enrolment, lesson: Lesson) -> bool:
    """Mark a lesson done for this enrolment; True when newly recorded (a repeat changes nothing)."""
    if enrolment.status not in ACTIVE_STATUSES:
        raise Forbidden(_("This enrolment is no longer active."))
    if lesson.module.course_id != enrolment.run.course_id or not lesson.is_published:
        raise NotFound(_("This lesson is not part of your course."))
    already = db.session.scalar(
        select(LessonCompletion.id).where(
            LessonCompletion.enrolment_id == enrolment.id, LessonCompletion.lesson_id == lesson.id
        )
    )
    now = utcnow()
    enrolment.last_activity_at = now
    if already is not None:
        db.session.flush()
        return False
    db.session.add(LessonCompletion(enrolment_id=enrolment.id, lesson_id=lesson.id, completed_at=now))
    db.session.flush()
    update_completion(enrolment)
    return True


def update_completion(enrolment: Enrolment) -> None:
    """A course is complete when every published lesson is done (quizzes join this rule later)."""
    progress = enrolment_progress(enrolment, enrolment.run.course_id)
    if progress.lessons_complete and enrolment.status == EnrolmentStatus.ENROLLED:
        enrolment.status = EnrolmentStatus.COMPLETED
        enrolment.completed_at = utcnow()
        db.session.flush()
        enrolment_completed.send(enrolment)
