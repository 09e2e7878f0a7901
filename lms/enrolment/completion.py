"""Progress and completion are re-checked here, in one place, whenever something that feeds them happens.

Each source of progress sends its own signal from the service where it happens; this module subscribes
``update_completion`` (lms.enrolment.services, the one function that decides completion) to each of them.
A new source (face-to-face attendance, surveys, packages) sends its signal and gets one subscriber here.
The receivers are connected when this module is imported: ``init_enrolment`` (lms/enrolment/setup.py,
called by every app: web, CLI, jobs) imports it. See docs/architecture.md "Signals".
"""

from __future__ import annotations

from collections.abc import Iterable

from sqlalchemy import select

from lms.enrolment.models import Enrolment
from lms.enrolment.services import update_completion
from lms.enrolment.signals import lesson_completed
from lms.extensions import db
from lms.quizzes.models import QuizAttempt
from lms.quizzes.signals import attempt_finished, attempts_regraded


@lesson_completed.connect
def _after_lesson_completed(enrolment: Enrolment, **_extra: object) -> None:
    update_completion(enrolment)


@attempt_finished.connect
def _after_attempt_finished(attempt: QuizAttempt, *, enrolment_id: int, **_extra: object) -> None:
    enrolment = db.session.get(Enrolment, enrolment_id)  # usually in the session already: no query
    if enrolment is not None:
        update_completion(enrolment)


@attempts_regraded.connect
def _after_attempts_regraded(_question: object, *, enrolment_ids: Iterable[int], **_extra: object) -> None:
    for enrolment in db.session.scalars(select(Enrolment).where(Enrolment.id.in_(list(enrolment_ids)))):
        update_completion(enrolment)
