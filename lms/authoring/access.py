"""Which course a trainer may reach.

`@allow(Role.TRAINER)` lets every trainer use a route; it says nothing about which course. An admin
assigns trainers to courses (`course_trainer`), and every trainer route that takes a course, run, quiz,
question, attempt, module or lesson finds that object's course and calls `require_course_trainer` before it
reads or writes anything (403 for the trainer of another course; admins pass). Lists of courses, runs or
quizzes keep to `trainer_course_ids()`. tests/test_access_matrix.py requests every route whose arguments
name such an object as the trainer of another course, so a new route that forgets the guard fails there.
"""

from __future__ import annotations

from flask import abort
from flask_login import current_user

from lms.authoring import trainers


def require_course_trainer(course_id: int) -> None:
    """In a view: go on only if the signed-in person is an admin or a trainer assigned to this course.

    The refusal is the 403 page (abort), not an LmsError for the unit of work to answer: in a view that
    sends refused forms back with a flashed message (@on_refusal), reaching another course must still be
    a 403, never a redirect.
    """
    if not trainers.can_edit(current_user, course_id):
        refusal = trainers.not_assigned()
        abort(refusal.status_code, refusal.message)


def manages_course(course_id: int) -> bool:
    """For a link on a page anyone may see: would require_course_trainer let the signed-in person pass?"""
    return current_user.is_authenticated and trainers.can_edit(current_user, course_id)


def trainer_course_ids() -> set[int] | None:
    """The courses the signed-in person may see as a trainer; None for an admin (every course)."""
    return trainers.assigned_course_ids(current_user)
