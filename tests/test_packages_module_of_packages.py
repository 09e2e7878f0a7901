"""A module of a course file may hold only SCORM packages (issue 25): `content sync` loads it and its
package's items become the module's lessons; a module with neither lessons nor packages is still refused,
named by file and line."""

from __future__ import annotations

from pathlib import Path

import pytest
from flask import Flask
from sqlalchemy import select

from lms.courses.models import Lesson, Module
from lms.extensions import db
from tests.package_zips import package_12

COURSE_YML = """slug: scorm-only
title: "SCORM only"
modules:
  - slug: reading
    title: "Reading"
    lessons:
      - intro
  - slug: checks
    title: "Checks"
{module}"""


def course_folder(root: Path, module: str) -> Path:
    folder = root / "scorm-only"
    (folder / "modules" / "reading").mkdir(parents=True, exist_ok=True)
    (folder / "packages").mkdir(exist_ok=True)
    (folder / "course.yml").write_text(COURSE_YML.format(module=module))
    (folder / "modules" / "reading" / "intro.md").write_text("---\ntitle: Intro\n---\nText.\n")
    (folder / "packages" / "border-checks.zip").write_bytes(package_12())
    return folder


def content(app: Flask, *args: str) -> str:
    result = app.test_cli_runner().invoke(args=["lms", "content", *args])
    return f"{result.exit_code}\n{result.output}"


def test_a_module_of_packages_only_loads_and_its_items_are_its_lessons(app: Flask, tmp_path: Path) -> None:
    course_folder(tmp_path, "    packages:\n      - packages/border-checks.zip\n")
    output = content(app, "sync", "--path", str(tmp_path))
    assert output.startswith("0\n"), output
    db.session.expire_all()
    module = db.session.scalar(select(Module).where(Module.slug == "checks"))
    assert module is not None
    lessons = db.session.scalars(
        select(Lesson).where(Lesson.module_id == module.id).order_by(Lesson.position)
    ).all()
    assert [lesson.title for lesson in lessons] == ["Introduction", "Documents", "Glossary"]
    assert all(lesson.package_id is not None for lesson in lessons)


@pytest.mark.parametrize(
    "module",
    ["", "    lessons: []\n", "    lessons: []\n    packages: []\n"],
    ids=["none", "empty", "both-empty"],
)
def test_a_module_with_neither_lessons_nor_packages_is_refused_by_file_and_line(
    app: Flask, tmp_path: Path, module: str
) -> None:
    course_folder(tmp_path, module)
    output = content(app, "check", "--path", str(tmp_path))
    assert "scorm-only/course.yml:8: module 'checks' must list at least one lesson or package" in output, (
        output
    )
