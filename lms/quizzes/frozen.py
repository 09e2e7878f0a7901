"""A question of an attempt as it was drawn and frozen, read as plain values (issue 22)."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from functools import cache
from typing import Any

from sqlalchemy import Select, bindparam, select

from lms.extensions import db
from lms.quizzes.models import AttemptQuestion


@dataclass(frozen=True)
class FrozenItem:
    """A question of an attempt as it was drawn and frozen, as plain values: what a submission grades
    and a save checks its answers against (read with the attempt, so neither loads a question row nor an
    ORM object for it)."""

    id: int
    position: int
    frozen: Mapping[str, Any]
    points: float


def frozen_items(attempt_id: int) -> list[FrozenItem]:
    return [FrozenItem(*row) for row in db.session.execute(_frozen_items(), {"attempt_id": attempt_id})]


@cache
def _frozen_items() -> Select[tuple[int, int, dict[str, Any], float]]:
    return (
        select(AttemptQuestion.id, AttemptQuestion.position, AttemptQuestion.frozen, AttemptQuestion.points)
        .where(AttemptQuestion.attempt_id == bindparam("attempt_id"))
        .order_by(AttemptQuestion.position)
    )
