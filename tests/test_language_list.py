"""The academy's languages are written in one place, lms/config.py (issue 19): a fifth language is one
line there, not a hunt through the forms, the CSV import, the question checks and the templates."""

from __future__ import annotations

import re

from lms.config import LANGUAGE_NAMES, LANGUAGES, RTL_LANGUAGES
from tests.conftest import PROJECT_ROOT

# Two or more of the codes quoted side by side ("en", "ru" / "ru": ...), or a template deciding the
# text direction by a code instead of the |direction filter.
CODE = r"[\"'](?:en|ru|fr|ar)[\"']"
LIST_OF_CODES = re.compile(rf"{CODE}\s*(?::\s*[\"'][^\"']*[\"']\s*)?,\s*{CODE}")
DIRECTION_BY_CODE = re.compile(r"[=!]=\s*[\"']ar[\"']")


def test_the_language_list_is_written_once() -> None:
    places = []
    for folder, pattern in (("lms", "*.py"), ("templates", "*.html")):
        for path in sorted((PROJECT_ROOT / folder).rglob(pattern)):
            relative = path.relative_to(PROJECT_ROOT).as_posix()
            if relative in {"lms/config.py"} or "/demo/" in relative:  # the demo's people have languages
                continue
            text = path.read_text(encoding="utf-8")
            places += [f"{relative}: {m.group(0)}" for m in LIST_OF_CODES.finditer(text)]
            places += [f"{relative}: {m.group(0)}" for m in DIRECTION_BY_CODE.finditer(text)]
    assert places == []


def test_the_list_and_its_names_agree() -> None:
    assert LANGUAGES == tuple(LANGUAGE_NAMES) == ("en", "ru", "fr", "ar")
    assert set(LANGUAGES) >= RTL_LANGUAGES
