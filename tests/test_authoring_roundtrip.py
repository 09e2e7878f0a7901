"""The course files and the browser are the same course: export -> import -> export gives identical files."""

from __future__ import annotations

from pathlib import Path

import pytest
from flask import Flask
from sqlalchemy import select

from lms.authoring import course_folders, drafts, exporter
from lms.authoring.package_files import attach_packages, package_files
from lms.content.loader import load_course
from lms.content.services import sync_course
from lms.courses.models import Course
from lms.extensions import db
from tests.conftest import PROJECT_ROOT

DEMO_COURSES = ("ibm-foundations", "document-fraud-first-line", "vulnerable-persons-referral")


def _renamed(files: dict[str, bytes], old: str, new: str) -> dict[str, bytes]:
    manifest = files["course.yml"].replace(f"slug: {old}\n".encode(), f"slug: {new}\n".encode(), 1)
    return {**files, "course.yml": manifest}


@pytest.mark.parametrize("slug", DEMO_COURSES)
def test_demo_course_survives_export_import_export(app: Flask, tmp_path: Path, slug: str) -> None:
    spec, problems = load_course(PROJECT_ROOT / "courses" / slug)
    assert not problems and spec is not None
    course = sync_course(spec).course
    db.session.commit()

    first = course_folders.export_files(course)
    exporter.write_folder(first, tmp_path / "a" / slug)
    # The export is a course folder the file loader accepts, carrying the same course as the original files.
    again, problems = load_course(tmp_path / "a" / slug)
    assert problems == [] and again is not None
    published = attach_packages(drafts.published_spec(course), package_files(course))
    assert again.content_hash() == published.content_hash()

    # Import into a fresh slug (as the CLI does), export again: identical files.
    fresh = f"{slug}-copy"
    exporter.write_folder(_renamed(first, slug, fresh), tmp_path / "b" / fresh)
    imported = course_folders.import_folder(tmp_path / "b" / fresh)
    db.session.commit()
    second = course_folders.export_files(imported)
    assert _renamed(second, fresh, slug) == first

    # Import into the same slug: nothing changes, the files stay identical.
    course_folders.import_folder(tmp_path / "a" / slug)
    db.session.commit()
    assert course_folders.export_files(course) == first


def test_the_cli_exports_and_imports_a_folder(app: Flask, tmp_path: Path) -> None:
    spec, _ = load_course(PROJECT_ROOT / "courses" / "document-fraud-first-line")
    assert spec is not None
    sync_course(spec)
    db.session.commit()
    runner = app.test_cli_runner()
    result = runner.invoke(args=["lms", "authoring", "export", "document-fraud-first-line", str(tmp_path)])
    assert result.exit_code == 0, result.output
    folder = tmp_path / "document-fraud-first-line"
    assert (folder / "course.yml").is_file() and (folder / "quizzes" / "final-assessment.yml").is_file()
    # The content CLI reads what authoring wrote.
    result = runner.invoke(args=["lms", "content", "check", "--path", str(tmp_path)])
    assert result.exit_code == 0, result.output
    broken = folder / "course.yml"
    broken.write_text(broken.read_text().replace("modules:", "modulez:"))
    result = runner.invoke(args=["lms", "authoring", "import", str(folder)])
    assert result.exit_code != 0 and "unknown key 'modulez'" in result.output
    assert db.session.scalar(select(Course.version).where(Course.slug == "document-fraud-first-line")) == 1


def test_a_video_lesson_needs_its_transcript_and_round_trips(app: Flask, tmp_path: Path) -> None:
    folder = tmp_path / "video-course"
    (folder / "modules" / "m").mkdir(parents=True)
    (folder / "course.yml").write_text(
        "slug: video-course\ntitle: Video\nmodules:\n  - slug: m\n    title: M\n    lessons: [watch]\n"
    )
    lesson = folder / "modules" / "m" / "watch.md"
    lesson.write_text('---\ntitle: Watch\nvideo_url: "https://video.example/1"\n---\nText.\n')
    _, problems = load_course(folder)
    assert [p.message for p in problems] == ["a lesson with a video_url needs its 'transcript'"]
    lesson.write_text('---\ntitle: Watch\nvideo_url: "javascript:alert(1)"\ntranscript: x\n---\nText.\n')
    _, problems = load_course(folder)
    assert [p.message for p in problems] == ["'video_url' must be an http(s) address"]
    lesson.write_text(
        '---\ntitle: Watch\nvideo_url: "https://video.example/1"\n'
        "transcript: |\n  Line one.\n\n  Line *two*.\n---\nText.\n"
    )
    spec, problems = load_course(folder)
    assert problems == [] and spec is not None
    course = sync_course(spec).course
    db.session.commit()
    stored = course.modules[0].lessons[0]
    assert stored.video_url == "https://video.example/1" and "<em>two</em>" in stored.transcript_html
    files = course_folders.export_files(course)
    assert "transcript: |-\n  Line one.\n\n  Line *two*.\n" in files["modules/m/watch.md"].decode()
    exporter.write_folder(files, tmp_path / "again" / "video-course")
    reloaded, problems = load_course(tmp_path / "again" / "video-course")
    assert problems == [] and reloaded is not None and reloaded.content_hash() == spec.content_hash()
