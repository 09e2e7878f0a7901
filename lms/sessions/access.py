"""Who may manage a run's sessions and who may see a session's meeting link.

Course trainers are assigned in lms.authoring (course_trainer), a feature above this one: the pages ask
lms.authoring.access whether the signed-in person is assigned to the run's course and pass the answer in
(``assigned_to_course``), so that the rule is written here once and imports still point downwards.
"""

from __future__ import annotations

from typing import Any

from lms.auth.models import Role
from lms.sessions.models import TrainingSession


def can_manage_run_sessions(user: Any, *, assigned_to_course: bool) -> bool:
    """Admins, and trainers assigned to the run's course (course_trainer)."""
    if user is None or getattr(user, "is_anonymous", True):
        return False
    return bool(user.has_role(Role.ADMIN) or (user.has_role(Role.TRAINER) and assigned_to_course))


def is_session_trainer(user: Any, session: TrainingSession) -> bool:
    if user is None or getattr(user, "is_anonymous", True):
        return False
    return any(trainer.user_id == user.id for trainer in session.trainers)


def may_see_meeting_link(
    user: Any, session: TrainingSession, *, holds_place: bool, assigned_to_course: bool
) -> bool:
    """Participants with an active place in the run, the session's trainers, the course's trainers and
    admins; never anyone else, never an anonymous visitor."""
    if user is None or getattr(user, "is_anonymous", True):
        return False
    if holds_place or is_session_trainer(user, session):
        return True
    return can_manage_run_sessions(user, assigned_to_course=assigned_to_course)
