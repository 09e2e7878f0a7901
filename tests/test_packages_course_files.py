"""SCORM packages in course files (issue 25): course.yml lists packages/<name>.zip in a module, `flask lms
content check` names a bad reference by file and line, `content sync` imports it (a changed zip is a new
version), `flask lms packages import`, and the demo package is exactly its source."""

from __future__ import annotations

import zipfile
from pathlib import Path

from flask import Flask
from sqlalchemy import select

from lms.courses.models import Lesson, Module
from lms.extensions import db
from lms.packages.models import Package, PackageVersion
from tests.package_zips import FILES_12, MANIFEST_12, package_12, package_2004, zip_bytes

COURSES = Path(__file__).resolve().parent.parent / "courses"
COURSE_YML = """slug: scorm-files
title: "SCORM from files"
modules:
  - slug: checks
    title: "Checks"
    lessons:
      - reading
    packages:
      - {package}
"""


def course_folder(root: Path, package: str = "packages/border-checks.zip", data: bytes | None = None) -> Path:
    folder = root / "scorm-files"
    (folder / "modules" / "checks").mkdir(parents=True, exist_ok=True)
    (folder / "packages").mkdir(exist_ok=True)
    (folder / "course.yml").write_text(COURSE_YML.format(package=package))
    (folder / "modules" / "checks" / "reading.md").write_text("---\ntitle: Reading\n---\nText.\n")
    (folder / "packages" / "border-checks.zip").write_bytes(data if data is not None else package_12())
    return folder


def content(app: Flask, *args: str):  # type: ignore[no-untyped-def]
    return app.test_cli_runner().invoke(args=["lms", "content", *args])


def test_sync_imports_the_package_after_the_lessons_and_a_changed_zip_is_a_new_version(
    app: Flask, tmp_path: Path
) -> None:
    course_folder(tmp_path)
    result = content(app, "sync", "--path", str(tmp_path))
    assert result.exit_code == 0, result.output
    db.session.expire_all()
    lessons = db.session.scalars(select(Lesson).order_by(Lesson.position, Lesson.id)).all()
    assert [lesson.title for lesson in lessons] == ["Reading", "Introduction", "Documents", "Glossary"]
    package = db.session.scalar(select(Package))
    assert package is not None and package.slug == "border-checks"

    assert "scorm-files: unchanged" in content(app, "sync", "--path", str(tmp_path)).output
    changed = MANIFEST_12.replace("<title>Documents</title>", "<title>Travel documents</title>")
    course_folder(tmp_path, data=zip_bytes(FILES_12, changed))
    result = content(app, "sync", "--path", str(tmp_path))
    assert "scorm-files: updated" in result.output, result.output
    db.session.expire_all()
    numbers = db.session.scalars(select(PackageVersion.number).order_by(PackageVersion.number)).all()
    assert numbers == [1, 2]
    titles = db.session.scalars(select(Lesson.title).where(Lesson.is_published.is_(True))).all()
    assert "Travel documents" in titles and len(titles) == 4


def test_bad_references_are_named_by_file_and_line(app: Flask, tmp_path: Path) -> None:
    course_folder(tmp_path, package="border-checks.zip")
    output = content(app, "check", "--path", str(tmp_path)).output
    assert (
        "scorm-files/course.yml:9: package 'border-checks.zip' must be a file packages/<name>.zip" in output
    )

    course_folder(tmp_path, package="packages/missing.zip")
    output = content(app, "check", "--path", str(tmp_path)).output
    assert "scorm-files/course.yml:9: package file scorm-files/packages/missing.zip does not exist" in output

    course_folder(tmp_path, data=zip_bytes({"index.html": "x"}))
    result = content(app, "sync", "--path", str(tmp_path))
    assert result.exit_code != 0
    assert "scorm-files/course.yml:9: package packages/border-checks.zip: This is not a SCORM package" in (
        result.output
    )
    assert db.session.scalar(select(Package)) is None


def test_cli_import_into_a_module(app: Flask, tmp_path: Path) -> None:
    course_folder(tmp_path)
    assert content(app, "sync", "--path", str(tmp_path)).exit_code == 0
    zip_path = tmp_path / "interviews.zip"
    zip_path.write_bytes(package_2004("3rd"))
    runner = app.test_cli_runner()
    result = runner.invoke(args=["lms", "packages", "import", "scorm-files", "checks", str(zip_path)])
    assert result.exit_code == 0, result.output
    assert "scorm-files/interviews-3rd: created, version 1, SCORM 2004 3rd, 3 item(s)" in result.output
    refused = runner.invoke(args=["lms", "packages", "import", "scorm-files", "nowhere", str(zip_path)])
    assert "no module 'nowhere'" in refused.output
    bad = tmp_path / "bad.zip"
    bad.write_bytes(b"nope")
    refused = runner.invoke(args=["lms", "packages", "import", "scorm-files", "checks", str(bad)])
    assert refused.exit_code != 0 and "The file is not a zip archive." in refused.output
    db.session.expire_all()
    module = db.session.scalar(select(Module).where(Module.slug == "checks"))
    assert module is not None
    assert db.session.scalar(select(Package).where(Package.slug == "interviews-3rd")) is not None


def test_demo_package_zip_holds_exactly_its_source() -> None:
    sources = sorted(path for path in COURSES.glob("*/packages/*") if path.is_dir())
    assert sources, "a demo course has a SCORM package"
    for source in sources:
        with zipfile.ZipFile(source.with_suffix(".zip")) as archive:
            zipped = {name: archive.read(name) for name in archive.namelist()}
        files = {p.relative_to(source).as_posix(): p.read_bytes() for p in source.rglob("*") if p.is_file()}
        assert zipped == files, f"{source.with_suffix('.zip')} is stale: run python -m lms.demo.scorm_package"


def test_a_lesson_added_to_the_module_later_comes_before_the_package(app: Flask, tmp_path: Path) -> None:
    folder = course_folder(tmp_path)
    assert content(app, "sync", "--path", str(tmp_path)).exit_code == 0
    (folder / "course.yml").write_text(
        COURSE_YML.format(package="packages/border-checks.zip").replace(
            "- reading", "- reading\n      - summary"
        )
    )
    (folder / "modules" / "checks" / "summary.md").write_text("---\ntitle: Summary\n---\nText.\n")
    result = content(app, "sync", "--path", str(tmp_path))
    assert result.exit_code == 0, result.output
    db.session.expire_all()
    lessons = db.session.scalars(select(Lesson).order_by(Lesson.position, Lesson.id)).all()
    assert [lesson.title for lesson in lessons] == [
        "Reading",
        "Summary",
        "Introduction",
        "Documents",
        "Glossary",
    ]
