"""Course files: every problem is reported with its file and line; good courses load into specs."""

from __future__ import annotations

import shutil
from html.parser import HTMLParser
from pathlib import Path

import pytest

from lms.content.loader import load_all, load_course
from lms.content.markdown import render_markdown

COURSES = Path(__file__).resolve().parent.parent / "courses"

GOOD_MANIFEST = """\
slug: sample-course
title: "Sample: a course"
summary: A short course.
language: en
version: 2
level: "EQF 4"
credits: 0.5
notional_hours: 12
delivery_mode: online
lesson_completion: manual
learning_outcomes:
  - Explain the thing
modules:
  - slug: first
    title: First module
    lessons:
      - intro
      - second-lesson
"""


def write_course(root: Path, manifest: str = GOOD_MANIFEST, lessons: dict[str, str] | None = None) -> Path:
    folder = root / "sample-course"
    (folder / "modules" / "first").mkdir(parents=True)
    (folder / "course.yml").write_text(manifest, encoding="utf-8")
    default = {
        "intro": "---\ntitle: Introduction\nminutes: 5\n---\n## Hello\n\nText.\n",
        "second-lesson": "---\ntitle: Second\n---\nMore text.\n",
    }
    for slug, text in (lessons if lessons is not None else default).items():
        (folder / "modules" / "first" / f"{slug}.md").write_text(text, encoding="utf-8")
    return folder


def test_demo_courses_are_valid() -> None:
    specs, problems = load_all(COURSES)
    assert problems == []
    slugs = {spec.slug for spec in specs}
    assert {"ibm-foundations", "document-fraud-first-line", "vulnerable-persons-referral"} <= slugs
    for spec in specs:
        assert 3 <= len(spec.modules) <= 5
    ibm = next(spec for spec in specs if spec.slug == "ibm-foundations")
    assert "ru" in ibm.translations
    assert all("ru" in lesson.translations for m in ibm.modules for lesson in m.lessons)


def test_good_course_loads(tmp_path: Path) -> None:
    spec, problems = load_course(write_course(tmp_path))
    assert problems == []
    assert spec is not None
    assert spec.title == "Sample: a course"
    assert spec.credits == "0.5"
    assert [lesson.slug for lesson in spec.modules[0].lessons] == ["intro", "second-lesson"]
    assert spec.modules[0].lessons[0].text.minutes == 5


@pytest.mark.parametrize(
    ("old", "new", "line", "message"),
    [
        ("slug: sample-course", "slug: other-name", 1, "must equal the folder name"),
        ('title: "Sample: a course"\n', "", 1, "'title' is required"),
        ("language: en", "language: xx", 4, "language must be one of"),
        ("credits: 0.5", "credits: lots", 7, "credits must be a number"),
        ("delivery_mode: online", "delivery_mode: telepathy", 9, "delivery_mode must be one of"),
        ("lesson_completion: manual", "lesson_completion: sometimes", 10, "lesson_completion must be one of"),
        ("      - second-lesson", "      - missing-lesson", 18, "does not exist"),
        ("      - second-lesson", "      - intro", 18, "used twice"),
        ("version: 2", "version: 2\ncolour: blue", 6, "unknown key 'colour'"),
        ("title: First module", "title: [unclosed", 16, "flow sequence started on line 15"),
    ],
)
def test_problems_name_file_and_line(tmp_path: Path, old: str, new: str, line: int, message: str) -> None:
    assert old in GOOD_MANIFEST
    folder = write_course(tmp_path, GOOD_MANIFEST.replace(old, new, 1))
    spec, problems = load_course(folder, tmp_path)
    assert spec is None
    matching = [p for p in problems if message in p.message]
    assert matching, problems
    assert matching[0].path == "sample-course/course.yml"
    assert matching[0].line == line


def test_lesson_problems_name_the_lesson_file(tmp_path: Path) -> None:
    folder = write_course(
        tmp_path,
        lessons={
            "intro": "No front matter here\n",
            "second-lesson": "---\ntitle: Second\nminutes: -3\n---\nText\n",
        },
    )
    _, problems = load_course(folder, tmp_path)
    found = {(p.path, p.line): p.message for p in problems}
    assert any("front matter" in m for (path, _), m in found.items() if path.endswith("intro.md"))
    assert found[("sample-course/modules/first/second-lesson.md", 3)].startswith("'minutes'")


def test_unlisted_lesson_file_is_reported(tmp_path: Path) -> None:
    folder = write_course(tmp_path)
    (folder / "modules" / "first" / "stray.md").write_text("---\ntitle: Stray\n---\nx\n")
    _, problems = load_course(folder, tmp_path)
    assert [str(p) for p in problems] == [
        "sample-course/modules/first/stray.md:1: this lesson file is not listed in course.yml"
    ]


def test_translation_must_cover_every_lesson(tmp_path: Path) -> None:
    manifest = GOOD_MANIFEST.replace(
        "modules:\n", "translations:\n  ru:\n    title: Пример\nmodules:\n"
    ).replace("title: First module", "title: First module\n    title_ru: Первый модуль")
    folder = write_course(tmp_path, manifest)
    (folder / "modules" / "first" / "intro.ru.md").write_text("---\ntitle: Введение\n---\nТекст.\n")
    _, problems = load_course(folder, tmp_path)
    assert len(problems) == 1
    assert "second-lesson" in problems[0].message and "ru" in problems[0].message


def test_copy_of_a_demo_course_round_trips(tmp_path: Path) -> None:
    shutil.copytree(COURSES / "document-fraud-first-line", tmp_path / "document-fraud-first-line")
    first, _ = load_course(tmp_path / "document-fraud-first-line")
    second, _ = load_course(tmp_path / "document-fraud-first-line")
    assert first is not None and second is not None
    assert first.content_hash() == second.content_hash()


@pytest.mark.parametrize(
    "payload",
    [
        "<script>alert(1)</script>",
        "<img src=x onerror=alert(1)>",
        "[click](javascript:alert(1))",
        '<a href="javascript:alert(1)">x</a>',
        "<iframe src=//evil.example></iframe>",
        "![x](javascript:alert(1))",
    ],
)
def test_markdown_cannot_inject_script(payload: str) -> None:
    """Text that merely shows the payload is harmless; no element or attribute may carry it."""

    class Elements(HTMLParser):
        def __init__(self) -> None:
            super().__init__()
            self.found: list[tuple[str, list[tuple[str, str | None]]]] = []

        def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
            self.found.append((tag, attrs))

    parser = Elements()
    parser.feed(render_markdown(payload))
    for tag, attrs in parser.found:
        assert tag not in {"script", "iframe", "object", "embed", "style"}
        for name, value in attrs:
            assert not name.startswith("on")
            assert not (value or "").strip().lower().startswith("javascript:")


def test_markdown_keeps_tables_and_headings() -> None:
    html = render_markdown("## Checks\n\n| a | b |\n|---|---|\n| 1 | 2 |\n\n[ICAO](https://www.icao.int)")
    assert "<h2>Checks</h2>" in html
    assert "<table>" in html
    assert 'rel="noopener noreferrer"' in html
