"""The trainer's view of package results (issue 25): per package lesson of a course and per learner, the
latest attempt's status, score and time, the number of attempts and the interactions reported."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from decimal import Decimal

from sqlalchemy import select

from lms.courses.models import Lesson, Module
from lms.extensions import db
from lms.packages.runtime import cmi
from lms.packages.runtime.models import PackageAttempt


@dataclass(frozen=True)
class LearnerResult:
    learner: str
    attempts: int
    completion_status: str
    success_status: str
    score_raw: Decimal | None
    score_scaled: Decimal | None
    total_seconds: int
    interactions: list[dict[str, str]]


@dataclass
class LessonResults:
    lesson_id: int
    title: str
    rows: list[LearnerResult] = field(default_factory=list)


def package_report(course_id: int, learners: Mapping[int, str]) -> list[LessonResults]:
    """Two queries whatever the numbers: the course's package lessons, then the attempts of these learners."""
    lessons = db.session.scalars(
        select(Lesson)
        .join(Module, Module.id == Lesson.module_id)
        .where(Module.course_id == course_id, Lesson.package_id.is_not(None))
        .order_by(Module.position, Lesson.position)
    ).all()
    report = {lesson.id: LessonResults(lesson.id, lesson.title) for lesson in lessons}
    if not report or not learners:
        return list(report.values())
    attempts = db.session.scalars(
        select(PackageAttempt)
        .where(PackageAttempt.lesson_id.in_(report), PackageAttempt.enrolment_id.in_(list(learners)))
        .order_by(PackageAttempt.lesson_id, PackageAttempt.enrolment_id, PackageAttempt.number)
    ).all()
    grouped: dict[tuple[int, int], list[PackageAttempt]] = {}
    for attempt in attempts:
        grouped.setdefault((attempt.lesson_id, attempt.enrolment_id), []).append(attempt)
    for (lesson_id, enrolment_id), rows in grouped.items():
        latest = rows[-1]
        report[lesson_id].rows.append(
            LearnerResult(
                learner=learners[enrolment_id],
                attempts=len(rows),
                completion_status=latest.completion_status,
                success_status=latest.success_status,
                score_raw=latest.score_raw,
                score_scaled=latest.score_scaled,
                total_seconds=latest.total_seconds,
                interactions=cmi.interactions(latest.cmi),
            )
        )
    for results in report.values():
        results.rows.sort(key=lambda row: row.learner.casefold())
    return list(report.values())
