"""Which trainer may edit which course: the assignments an admin makes and the checks that read them.

Services flush and raise LmsError subclasses; the unit of work commits.
"""

from __future__ import annotations

from flask_babel import gettext as _
from sqlalchemy import select

from lms.audit.services import record_event
from lms.auth.models import Role, User, UserRole
from lms.authoring.models import CourseTrainer
from lms.courses.models import Course
from lms.errors import Conflict, Forbidden, NotFound, ValidationFailed
from lms.extensions import db

# --- who may edit --------------------------------------------------------------------------------------


def can_edit(user: User, course_id: int) -> bool:
    if user.has_role(Role.ADMIN):
        return True
    if not user.has_role(Role.TRAINER):
        return False
    return (
        db.session.scalar(
            select(CourseTrainer.id).where(
                CourseTrainer.course_id == course_id, CourseTrainer.user_id == user.id
            )
        )
        is not None
    )


def require_course_trainer(user: User, course_id: int) -> None:
    """The one object-level rule of every trainer route (lms/authoring/access.py): admins, and trainers an
    admin assigned to this course (course_trainer); Forbidden for anyone else, other courses' trainers too."""
    if not can_edit(user, course_id):
        raise not_assigned()


def not_assigned() -> Forbidden:
    return Forbidden(_("You are not assigned to this course. Ask an administrator to assign you."))


def assigned_course_ids(user: User) -> set[int] | None:
    """The courses this person may see and change as a trainer; None for an admin (every course)."""
    if user.has_role(Role.ADMIN):
        return None
    if not user.has_role(Role.TRAINER):
        return set()
    return set(db.session.scalars(select(CourseTrainer.course_id).where(CourseTrainer.user_id == user.id)))


def editable_course(user: User, course_id: int) -> Course:
    """The course, when this user may edit it; NotFound/Forbidden otherwise."""
    course = db.session.get(Course, course_id)
    if course is None:
        raise NotFound(_("No such course."))
    require_course_trainer(user, course.id)
    return course


def editable_courses(user: User) -> list[Course]:
    query = select(Course).order_by(Course.title)
    if not user.has_role(Role.ADMIN):
        query = query.join(CourseTrainer, CourseTrainer.course_id == Course.id).where(
            CourseTrainer.user_id == user.id
        )
    return list(db.session.scalars(query))


def trainers_by_course() -> dict[int, list[User]]:
    rows = db.session.execute(
        select(CourseTrainer.course_id, User)
        .join(User, User.id == CourseTrainer.user_id)
        .order_by(User.family_name)
    ).all()
    result: dict[int, list[User]] = {}
    for course_id, user in rows:
        result.setdefault(course_id, []).append(user)
    return result


def trainer_candidates() -> list[User]:
    return list(
        db.session.scalars(
            select(User)
            .join(UserRole, UserRole.user_id == User.id)
            .where(UserRole.role == Role.TRAINER)
            .order_by(User.family_name, User.given_name)
            .distinct()
        )
    )


def _require_admin(actor: User) -> None:
    if not actor.has_role(Role.ADMIN):
        raise Forbidden(_("Only an administrator can assign trainers."))


def assign_trainer(actor: User, course: Course, trainer: User) -> CourseTrainer:
    _require_admin(actor)
    if not trainer.has_role(Role.TRAINER):
        raise ValidationFailed(_("%(name)s is not a trainer.", name=trainer.full_name))
    existing = db.session.scalar(
        select(CourseTrainer).where(CourseTrainer.course_id == course.id, CourseTrainer.user_id == trainer.id)
    )
    if existing is not None:
        raise Conflict(_("%(name)s is already assigned to this course.", name=trainer.full_name))
    link = CourseTrainer(course_id=course.id, user_id=trainer.id, assigned_by_id=actor.id)
    db.session.add(link)
    db.session.flush()
    record_event(
        "authoring.trainer_assigned", "course", course.id, actor_id=actor.id, after={"trainer_id": trainer.id}
    )
    return link


def unassign_trainer(actor: User, course: Course, trainer: User) -> None:
    _require_admin(actor)
    link = db.session.scalar(
        select(CourseTrainer).where(CourseTrainer.course_id == course.id, CourseTrainer.user_id == trainer.id)
    )
    if link is None:
        raise NotFound(_("This trainer is not assigned to this course."))
    db.session.delete(link)
    db.session.flush()
    record_event(
        "authoring.trainer_unassigned",
        "course",
        course.id,
        actor_id=actor.id,
        before={"trainer_id": trainer.id},
    )
