"""`flask lms content sync`: idempotent, and removing a lesson unpublishes it without losing completions."""

from __future__ import annotations

import shutil
from collections.abc import Callable
from pathlib import Path

from flask import Flask
from sqlalchemy import func, select

from lms.auth.models import User
from lms.courses.models import Course, Lesson, Module
from lms.enrolment.completion import complete_lesson
from lms.enrolment.models import CourseRun, LessonCompletion
from lms.enrolment.runs import ensure_default_run
from lms.enrolment.self_service import self_enrol
from lms.extensions import db

COURSES = Path(__file__).resolve().parent.parent / "courses"


def run_cli(app: Flask, *args: str):
    return app.test_cli_runner().invoke(args=["lms", "content", *args])


def counts() -> tuple[int, int, int, int]:
    return (
        db.session.scalar(select(func.count(Course.id))) or 0,
        db.session.scalar(select(func.count(Module.id))) or 0,
        db.session.scalar(select(func.count(Lesson.id))) or 0,
        db.session.scalar(select(func.count(CourseRun.id))) or 0,
    )


def test_check_passes_on_the_demo_courses(app: Flask) -> None:
    result = run_cli(app, "check")
    assert result.exit_code == 0, result.output
    assert "3 course(s) OK" in result.output


def test_check_fails_with_file_and_line(app: Flask, tmp_path: Path) -> None:
    shutil.copytree(COURSES / "ibm-foundations", tmp_path / "ibm-foundations")
    manifest = tmp_path / "ibm-foundations" / "course.yml"
    manifest.write_text(manifest.read_text().replace("delivery_mode: online", "delivery_mode: by-pigeon"))
    result = run_cli(app, "check", "--path", str(tmp_path))
    assert result.exit_code != 0
    assert "ibm-foundations/course.yml:" in result.output
    assert "delivery_mode must be one of" in result.output


def test_sync_twice_changes_nothing(app: Flask) -> None:
    first = run_cli(app, "sync")
    assert first.exit_code == 0, first.output
    assert "ibm-foundations: created" in first.output
    db.session.expire_all()
    after_first = counts()
    second = run_cli(app, "sync")
    assert second.exit_code == 0
    assert second.output.count("unchanged") == 5  # 3 courses and the 2 survey forms of courses/_surveys/
    db.session.expire_all()
    assert counts() == after_first
    assert after_first[3] == 3  # one default run per course


def test_sync_refuses_everything_when_one_course_is_broken(app: Flask, tmp_path: Path) -> None:
    shutil.copytree(COURSES / "ibm-foundations", tmp_path / "ibm-foundations")
    shutil.copytree(COURSES / "document-fraud-first-line", tmp_path / "document-fraud-first-line")
    (tmp_path / "document-fraud-first-line" / "course.yml").write_text("slug: [broken\n")
    result = run_cli(app, "sync", "--path", str(tmp_path))
    assert result.exit_code != 0
    assert "nothing was changed" in result.output
    assert counts() == (0, 0, 0, 0)


def test_removed_lesson_is_unpublished_and_completion_kept(
    app: Flask, tmp_path: Path, make_user: Callable[..., User]
) -> None:
    course_dir = tmp_path / "ibm-foundations"
    shutil.copytree(COURSES / "ibm-foundations", course_dir)
    assert run_cli(app, "sync", "--path", str(tmp_path)).exit_code == 0
    course = db.session.scalar(select(Course).where(Course.slug == "ibm-foundations"))
    assert course is not None
    first_module = course.modules[0]
    lesson = first_module.lessons[0]
    trainee = make_user()
    enrolment = self_enrol(trainee, ensure_default_run(course))
    complete_lesson(enrolment, lesson)
    db.session.commit()

    manifest = course_dir / "course.yml"
    text = manifest.read_text()
    assert f"      - {lesson.slug}\n" in text
    manifest.write_text(text.replace(f"      - {lesson.slug}\n", "", 1))
    for lesson_file in (course_dir / "modules" / first_module.slug).glob(f"{lesson.slug}.*md"):
        lesson_file.unlink()  # the lesson and its translations (.ru.md, .ar.md)
    result = run_cli(app, "sync", "--path", str(tmp_path))
    assert result.exit_code == 0, result.output
    assert "ibm-foundations: updated" in result.output

    db.session.expire_all()
    removed = db.session.get(Lesson, lesson.id)
    assert removed is not None and removed.is_published is False
    assert db.session.scalar(select(func.count(LessonCompletion.id))) == 1

    # Putting the lesson back republishes the same row: the trainee's completion counts again.
    shutil.copytree(COURSES / "ibm-foundations", course_dir, dirs_exist_ok=True)
    assert run_cli(app, "sync", "--path", str(tmp_path)).exit_code == 0
    db.session.expire_all()
    restored = db.session.get(Lesson, lesson.id)
    assert restored is not None and restored.is_published is True


def test_synced_lessons_are_rendered_and_sanitised(demo_course: Course) -> None:
    lesson = demo_course.modules[0].lessons[0]
    assert lesson.body_html.startswith("<")
    assert "<h2>" in lesson.body_html
    russian = lesson.text_in("ru")
    assert russian is not None and russian.body_html
    assert demo_course.text("title", "ru") != demo_course.title
