"""The blueprint of the package pages (``packages``), and where a package lesson is played.

Modules of this package add their routes to ``bp`` or bring a blueprint of their own (the player's);
lms.packages.setup registers every blueprint it finds in them (``blueprints()`` in ``__init__``).
"""

from __future__ import annotations

from flask import Blueprint, url_for

from lms.courses.models import Lesson

bp = Blueprint("packages", __name__, url_prefix="/authoring")

PLAYER_ENDPOINT = "package_player.play"  # lms/packages/views/player.py: args slug (course) and lesson_id


def player_url(course_slug: str, lesson: Lesson) -> str:
    """The player page of a package lesson (a lesson whose ``package_id`` is set)."""
    return url_for(PLAYER_ENDPOINT, slug=course_slug, lesson_id=lesson.id)
