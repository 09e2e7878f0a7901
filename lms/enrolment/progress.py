"""Progress through a course run, as pure arithmetic: lessons by id, the final assessment, and for runs
with sessions the time attended against the time planned (the run's completion rule)."""

from __future__ import annotations

from collections.abc import Collection, Sequence
from dataclasses import dataclass


@dataclass(frozen=True)
class Progress:
    done: int
    total: int
    next_lesson_id: int | None
    # The course's final assessment, when it has one: passing it is part of completing the course.
    assessment_required: bool = False
    assessment_passed: bool = False
    # The run's rule (course_run columns): lessons may be turned off for a pure workshop; attendance is
    # required when a minimum share of the planned session time is set.
    lessons_required: bool = True
    attendance_required_percent: int | None = None
    attended_minutes: int = 0
    planned_minutes: int = 0

    @property
    def complete(self) -> bool:
        if not (self.lessons_required or self.attendance_required or self.assessment_required):
            return False  # a rule that asks for nothing completes nobody by accident
        return (
            (self.lessons_complete or not self.lessons_required)
            and (self.attendance_met or not self.attendance_required)
            and (self.assessment_passed or not self.assessment_required)
        )

    @property
    def met_but_assessment(self) -> bool:
        """Every part of the rule but the final assessment met (or not asked): when False, the course is
        not complete whatever the assessment's standing, so the completion check need not read it."""
        return (self.lessons_complete or not self.lessons_required) and (
            self.attendance_met or not self.attendance_required
        )

    @property
    def percent(self) -> int:
        if self.total == 0:
            return 0
        return (self.done * 100) // self.total

    @property
    def lessons_complete(self) -> bool:
        return self.total > 0 and self.done >= self.total

    @property
    def attendance_required(self) -> bool:
        return self.attendance_required_percent is not None

    @property
    def attendance_met(self) -> bool:
        """At least the required share of the planned session time attended. Nothing planned yet meets
        a requirement above 0% only once sessions exist (an empty schedule is not attendance)."""
        required = self.attendance_required_percent
        if required is None or required <= 0:
            return True
        if self.planned_minutes <= 0:
            return False
        return self.attended_minutes * 100 >= required * self.planned_minutes

    @property
    def attendance_percent(self) -> int:
        if self.planned_minutes <= 0:
            return 0
        return min(100, (self.attended_minutes * 100) // self.planned_minutes)


@dataclass(frozen=True)
class CompletionRule:
    """What a run asks beyond its course's lessons, from its course_run columns, and what an enrolment
    has attended (enrolment.attended_minutes)."""

    lessons_required: bool = True
    attendance_required_percent: int | None = None
    attended_minutes: int = 0
    planned_minutes: int = 0

    @classmethod
    def of(cls, run: object, enrolment: object) -> CompletionRule:
        """From a course run's columns (completion_requires_lessons, min_attendance_percent,
        session_minutes) and an enrolment's attended_minutes, rows the caller has already loaded."""
        return cls(
            lessons_required=getattr(run, "completion_requires_lessons", True) is not False,
            attendance_required_percent=getattr(run, "min_attendance_percent", None),
            attended_minutes=getattr(enrolment, "attended_minutes", 0) or 0,
            planned_minutes=getattr(run, "session_minutes", 0) or 0,
        )


def compute_progress(
    ordered_lesson_ids: Sequence[int],
    completed_ids: Collection[int],
    *,
    assessment_required: bool = False,
    assessment_passed: bool = False,
    rule: CompletionRule | None = None,
) -> Progress:
    """Only lessons still published count; completions of unpublished lessons are kept but not counted."""
    completed = set(completed_ids)
    done = sum(1 for lesson_id in ordered_lesson_ids if lesson_id in completed)
    next_id = next((lesson_id for lesson_id in ordered_lesson_ids if lesson_id not in completed), None)
    rule = rule or CompletionRule()
    return Progress(
        done=done,
        total=len(ordered_lesson_ids),
        next_lesson_id=next_id,
        assessment_required=assessment_required,
        assessment_passed=assessment_passed,
        lessons_required=rule.lessons_required,
        attendance_required_percent=rule.attendance_required_percent,
        attended_minutes=rule.attended_minutes,
        planned_minutes=rule.planned_minutes,
    )
