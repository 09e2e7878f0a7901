"""Reading a lesson of a course whose lessons complete on reading: the one write a GET of the courses
feature makes (docs/architecture.md, "Unit of work")."""

from __future__ import annotations

from lms.courses.published import PublishedLesson
from lms.db import begin_writing
from lms.enrolment import completion as enrolment_completion
from lms.enrolment.models import Enrolment


def complete_on_reading(enrolment: Enrolment, lesson: PublishedLesson) -> None:
    """The trainee opened the lesson, which in this course is what completes it.

    A lazy state change kept in the GET on purpose: moving it to a POST would need the page's script
    (or a second click) to say what opening the page already says, and a page read offline or
    without script would never count. ``begin_writing`` ends the page's read transaction (SQLite
    takes its write lock for the write only) and sets ``g.write_intent``, so the unit of work commits
    this GET after the view. A repeat changes nothing but the activity time."""
    begin_writing(enrolment)  # re-read under the write lock when the service looks at it
    enrolment_completion.complete_lesson(enrolment, lesson)
