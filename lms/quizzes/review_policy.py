"""What the review of a finished attempt may show, from the quiz's review policy. Pure.

The policy (``quiz.review``, docs/quizzes.md) maps ``answers``, ``correct_answers`` and ``feedback`` to
``never``, ``immediately`` or ``after_close``. Authored feedback (per choice, correct/incorrect, general)
is written to explain the answer ("No: referral is a routine tool"), so it gives the answer away as
surely as the correct-answer list does: it is shown only when the policy allows both feedback and the
correct answers (issue 18). A quiz whose correct answers wait until it closes keeps its feedback back
until then too; one that never shows the correct answers never shows feedback. Right or wrong on a
choice between two (true or false, or a single choice of two) names the answer as well, so that verdict
waits with the correct answers too (``verdict_names_the_answer``).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any


def review_permissions(policy: Mapping[str, str], closed: bool) -> dict[str, bool]:
    """Which parts the review shows now; ``closed``: the quiz has closed for this trainee (its
    ``closes_at`` has passed or no attempt is left)."""
    allowed = {
        part: when == "immediately" or (when == "after_close" and closed) for part, when in policy.items()
    }
    allowed["feedback"] = allowed.get("feedback", False) and allowed.get("correct_answers", False)
    return allowed


def verdict_names_the_answer(frozen: Mapping[str, Any]) -> bool:
    """Whether "Correct"/"Not correct" beside the trainee's own answer tells the right one: a question
    with two possible answers (true or false, a single choice of two)."""
    if frozen["type"] == "true_false":
        return True
    return frozen["type"] == "single_choice" and len(frozen["view"].get("choices", ())) == 2
