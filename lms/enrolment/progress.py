"""Progress through a course, as pure arithmetic over lesson ids."""

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

    @property
    def complete(self) -> bool:
        return self.lessons_complete and (self.assessment_passed or not self.assessment_required)

    @property
    def percent(self) -> int:
        if self.total == 0:
            return 0
        return (self.done * 100) // self.total

    @property
    def lessons_complete(self) -> bool:
        return self.total > 0 and self.done >= self.total


def compute_progress(
    ordered_lesson_ids: Sequence[int],
    completed_ids: Collection[int],
    *,
    assessment_required: bool = False,
    assessment_passed: bool = False,
) -> Progress:
    """Only lessons still published count; completions of unpublished lessons are kept but not counted."""
    completed = set(completed_ids)
    done = sum(1 for lesson_id in ordered_lesson_ids if lesson_id in completed)
    next_id = next((lesson_id for lesson_id in ordered_lesson_ids if lesson_id not in completed), None)
    return Progress(
        done=done,
        total=len(ordered_lesson_ids),
        next_lesson_id=next_id,
        assessment_required=assessment_required,
        assessment_passed=assessment_passed,
    )
