"""The course outline's list of modules and lessons, rendered once per published version (issue 22).

The outline (courses/_outline.html) is on every lesson page and course page, and rendering its lessons
through Jinja cost ~12% of a lesson page: a dozen escaped values per lesson, for markup that changes only
with the course, the language and the address. What changes per person is which lessons are done and
which one is open. So the template renders the list once, with three slots per lesson where that state
goes, and keeps it in the course's snapshot (``PublishedCourse.derived``: it lives and dies with the
published version, see lms/courses/published.py); each page fills the slots (``fill``: one pass of a
regular expression).

A slot is ``<outline-class-12>`` (the value of the entry's ``class``), ``<outline-current-12>`` (just before
the lesson's link, which gets ``aria-current`` when it is the page's) or ``<outline-done-12>`` (12: the
lesson's id). Nothing the list shows can forge one: titles and addresses are escaped (no ``<``), and the
rest is the template's own markup and the catalogue's words.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Container

from markupsafe import Markup

from lms.courses.published import PublishedCourse
from lms.i18n import current_language

_SLOT = re.compile(r"<outline-(class|done)-(\d+)>|<outline-(current)-(\d+)><a ")


def lesson_list(
    course: PublishedCourse, language: str, lesson_href: str, linked: bool, *, caller: Callable[[], str]
) -> Markup:
    """The list as the template renders it (with its slots), once per language (the study language of the
    titles, and the page's for the words around them), address and kind (links, or names only). The
    address carries the mount point (``url_for``), so one code base served under two prefixes keeps two."""
    key = ("outline", current_language(), language, lesson_href, linked)
    cached = course.derived.get(key)
    if cached is None:
        cached = Markup(caller())  # noqa: S704 — the caller is a template block: Jinja escaped it already
        course.derived[key] = cached  # two threads may both render it: the same value
    return cached


def fill(skeleton: Markup, completed: Container[int], current_id: int | None, done_badge: Markup) -> Markup:
    """The list for one person: the done and current classes, ``aria-current`` and the "Done" badge."""

    def slot(match: re.Match[str]) -> str:
        kind, lesson_id = match.group(1) or match.group(3), int(match.group(2) or match.group(4))
        done, current = lesson_id in completed, lesson_id == current_id
        if kind == "class":
            return "done current" if done and current else "done" if done else "current" if current else ""
        if kind == "current":
            return '<a aria-current="page" ' if current else "<a "
        return str(done_badge) if done else ""

    return Markup(_SLOT.sub(slot, skeleton))  # noqa: S704 — the skeleton and the badge are template markup
