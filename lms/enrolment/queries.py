"""Read side of enrolments: the trainee dashboard."""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass

from sqlalchemy import select

from lms.courses.models import Course
from lms.courses.queries import ordered_lesson_ids
from lms.enrolment.models import CourseRun, Enrolment, EnrolmentStatus, LessonCompletion
from lms.enrolment.progress import Progress, compute_progress
from lms.extensions import db


@dataclass(frozen=True)
class DashboardRow:
    enrolment: Enrolment
    run: CourseRun
    course: Course
    progress: Progress


def dashboard_rows(user_id: int) -> list[DashboardRow]:
    """The user's enrolments with progress, in three queries whatever the number of courses."""
    rows = db.session.execute(
        select(Enrolment, CourseRun, Course)
        .join(CourseRun, Enrolment.run_id == CourseRun.id)
        .join(Course, CourseRun.course_id == Course.id)
        .where(Enrolment.user_id == user_id, Enrolment.status != EnrolmentStatus.WITHDRAWN)
        .order_by(Enrolment.last_activity_at.desc(), Enrolment.id.desc())
    ).all()
    if not rows:
        return []
    enrolment_ids = [enrolment.id for enrolment, _, _ in rows]
    completed: dict[int, set[int]] = defaultdict(set)
    for enrolment_id, lesson_id in db.session.execute(
        select(LessonCompletion.enrolment_id, LessonCompletion.lesson_id).where(
            LessonCompletion.enrolment_id.in_(enrolment_ids)
        )
    ):
        completed[enrolment_id].add(lesson_id)
    lessons = ordered_lesson_ids({course.id for _, _, course in rows})
    return [
        DashboardRow(
            enrolment=enrolment,
            run=run,
            course=course,
            progress=compute_progress(lessons[course.id], completed[enrolment.id]),
        )
        for enrolment, run, course in rows
    ]
