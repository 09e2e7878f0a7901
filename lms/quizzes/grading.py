"""The question-type registry and the quiz-level grade.

``REGISTRY`` maps each type's name to its one instance (the types: ``choice_types``, ``text_types``,
``part_types``; what they share: ``question_types``); ``question_type(name)`` finds one. A new type is a
``QuestionType`` subclass in the module of its family, added to ``REGISTRY`` here, plus its template
``templates/quizzes/types/<name>.html``. The quiz's grade over attempts (``quiz_grade``) is pure logic too.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from lms.quizzes.choice_types import MultipleResponse, SingleChoice, TrueFalse
from lms.quizzes.part_types import Cloze, Matching, Ordering
from lms.quizzes.question_types import QuestionType
from lms.quizzes.text_types import Numeric, ShortText

# In this order in the editor's list of types.
REGISTRY: dict[str, QuestionType] = {
    kind.name: kind()
    for kind in (SingleChoice, MultipleResponse, TrueFalse, ShortText, Numeric, Matching, Ordering, Cloze)
}


def question_type(name: str) -> QuestionType:
    try:
        return REGISTRY[name]
    except KeyError:
        raise KeyError(f"unknown question type '{name}'") from None


# --- quiz-level arithmetic -------------------------------------------------------------------------------

GRADING_METHODS = ("highest", "last", "average", "first")


def quiz_grade(percents_in_attempt_order: Sequence[float], method: str) -> float | None:
    """The trainee's result for a quiz from their submitted attempts' percentages (oldest first)."""
    if not percents_in_attempt_order:
        return None
    if method == "last":
        return percents_in_attempt_order[-1]
    if method == "first":
        return percents_in_attempt_order[0]
    if method == "average":
        return sum(percents_in_attempt_order) / len(percents_in_attempt_order)
    return max(percents_in_attempt_order)


def percent(score: float, max_score: float) -> float:
    return round(score * 100 / max_score, 2) if max_score > 0 else 0.0


def is_answered(answer: Any) -> bool:
    """Whether a saved answer holds anything the trainee gave (the quiz page's question navigator):
    a choice, a non-blank text, or at least one part of a question with parts."""
    if answer is None:
        return False
    if isinstance(answer, str):
        return bool(answer.strip())
    if isinstance(answer, list | tuple):
        return any(is_answered(part) for part in answer)
    return True
