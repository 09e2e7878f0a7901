"""A course's SCORM packages travel with its exported files (issue 25): the authoring export writes
`packages/<name>.zip` and the module's `packages` entry, so that importing the export into a fresh app (the
content sync, `flask lms authoring import`) gives the package lessons back, playing the same version's files;
a draft with a module of packages only still publishes; the browser import of a course zip imports the
packages of published modules and refuses, whole, packages of modules not published yet."""

from __future__ import annotations

import hashlib
import io
import zipfile
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
import yaml
from flask import Flask
from sqlalchemy import select

from lms import create_app
from lms.auth.models import User
from lms.authoring import course_folders, drafts, exporter
from lms.authoring.models import CourseTrainer
from lms.courses.models import Course, Lesson, Module
from lms.extensions import db
from lms.packages.models import Package, PackageVersion
from lms.packages.services import version_folder
from tests.package_zips import FILES_12, MANIFEST_12, package_12, zip_bytes

COURSE_YML = """slug: scorm-export
title: "SCORM export"
modules:
  - slug: reading
    title: "Reading"
    lessons:
      - intro
  - slug: checks
    title: "Checks"
    packages:
      - packages/border-checks.zip
"""
SECOND = zip_bytes(FILES_12, MANIFEST_12.replace("<title>Glossary</title>", "<title>Word list</title>"))


def course_folder(root: Path, data: bytes) -> Path:
    folder = root / "scorm-export"
    (folder / "modules" / "reading").mkdir(parents=True, exist_ok=True)
    (folder / "packages").mkdir(exist_ok=True)
    (folder / "course.yml").write_text(COURSE_YML)
    (folder / "modules" / "reading" / "intro.md").write_text("---\ntitle: Intro\n---\nText.\n")
    (folder / "packages" / "border-checks.zip").write_bytes(data)
    return folder


def cli(app: Flask, *args: str) -> str:
    result = app.test_cli_runner().invoke(args=["lms", *args])
    assert result.exit_code == 0, result.output
    return result.output


def played_files() -> tuple[str, dict[str, str], list[tuple[str, str]]]:
    """The package's current version: its zip digest, its files' digests, its lessons (slug, item)."""
    db.session.expire_all()
    package = db.session.scalars(select(Package)).one()
    version = package.current_version
    assert version is not None
    folder = version_folder(version)
    files = {
        p.relative_to(folder).as_posix(): hashlib.sha256(p.read_bytes()).hexdigest()
        for p in sorted(folder.rglob("*"))
        if p.is_file()
    }
    lessons = db.session.scalars(
        select(Lesson)
        .where(Lesson.package_id == package.id, Lesson.is_published.is_(True))
        .order_by(Lesson.position)
    ).all()
    module = db.session.get(Module, package.module_id)
    assert module is not None and module.slug == "checks"
    return version.sha256, files, [(lesson.title, lesson.package_item_identifier or "") for lesson in lessons]


@pytest.fixture
def fresh_app(tmp_path: Path) -> Iterator[Flask]:
    """Another academy: its own instance folder (package storage) and its own database."""
    instance = tmp_path / "fresh-instance"
    instance.mkdir()
    other = create_app(
        {
            "TESTING": True,
            "INSTANCE_PATH": str(instance),
            "SQLALCHEMY_DATABASE_URI": f"sqlite:///{instance / 'fresh.sqlite'}",
            "SECRET_KEY": "another-secret",
            "SERVER_NAME": None,
        }
    )
    with other.app_context():
        db.create_all()
    yield other
    with other.app_context():
        db.session.remove()
        db.engine.dispose()


@pytest.mark.parametrize("command", ["content-sync", "authoring-import"])
def test_an_exported_course_imports_into_a_fresh_app_with_the_same_package_version_files(
    app: Flask, fresh_app: Flask, tmp_path: Path, command: str
) -> None:
    course_folder(tmp_path / "source", package_12())
    cli(app, "content", "sync", "--path", str(tmp_path / "source"))
    course_folder(tmp_path / "source", SECOND)  # version 2 is current: the export carries it
    cli(app, "content", "sync", "--path", str(tmp_path / "source"))
    original = played_files()
    assert len(original[2]) == 3 and ("Word list", "glossary") in original[2]

    cli(app, "authoring", "export", "scorm-export", str(tmp_path / "export"))
    folder = tmp_path / "export" / "scorm-export"
    manifest = yaml.safe_load((folder / "course.yml").read_text())
    assert manifest["modules"][1] == {
        "slug": "checks",
        "title": "Checks",
        "packages": ["packages/border-checks.zip"],
    }
    assert (folder / "packages" / "border-checks.zip").read_bytes() == SECOND

    with fresh_app.app_context():
        if command == "content-sync":
            cli(fresh_app, "content", "sync", "--path", str(tmp_path / "export"))
        else:
            cli(fresh_app, "authoring", "import", str(folder))
        assert played_files() == original
        assert fresh_app.instance_path != app.instance_path
        assert db.session.scalar(select(PackageVersion.number)) == 1  # one version here: the current one


def test_the_export_zip_of_the_browser_holds_the_package(app: Flask, tmp_path: Path) -> None:
    course_folder(tmp_path, package_12())
    cli(app, "content", "sync", "--path", str(tmp_path))
    course = db.session.scalars(select(Course)).one()
    data = exporter.zip_bytes(course_folders.export_files(course), course.slug)
    with zipfile.ZipFile(io.BytesIO(data)) as archive:
        assert archive.read("scorm-export/packages/border-checks.zip") == package_12()
        assert "packages/border-checks.zip" in archive.read("scorm-export/course.yml").decode()


def test_a_draft_with_a_module_of_packages_only_publishes_and_keeps_its_package(
    app: Flask, tmp_path: Path, make_user: Callable[..., User]
) -> None:
    course_folder(tmp_path, package_12())
    cli(app, "content", "sync", "--path", str(tmp_path))
    course = db.session.scalars(select(Course)).one()
    trainer = make_user("trainer")
    db.session.add(CourseTrainer(course_id=course.id, user_id=trainer.id))
    db.session.flush()
    draft = drafts.get_draft(course)
    assert not drafts.draft_has_changes(course, draft)  # packages are not drafted: no change seen
    drafts.publish(trainer, course, draft.revision, "republished")
    db.session.commit()
    assert played_files()[0] == hashlib.sha256(package_12()).hexdigest()
    assert db.session.scalar(select(PackageVersion.number)) == 1  # publishing imported nothing


def test_the_browser_import_refuses_packages_of_modules_not_published_yet(
    app: Flask, tmp_path: Path, make_user: Callable[..., User]
) -> None:
    files = exporter.read_folder(course_folder(tmp_path, package_12()))
    data = exporter.zip_bytes(files, "scorm-export")
    admin = make_user("admin")
    with pytest.raises(drafts.PublishRefused) as refused:
        course_folders.import_zip(admin, data)
    assert refused.value.problems == ["packages/border-checks.zip: module 'checks' is not published yet"]
    assert db.session.scalar(select(Course)) is None and db.session.scalar(select(Package)) is None

    cli(app, "content", "sync", "--path", str(tmp_path))  # published: the same zip now imports
    changed = {**files, "packages/border-checks.zip": SECOND}
    course_folders.import_zip(admin, exporter.zip_bytes(changed, "scorm-export"))
    db.session.commit()
    assert ("Word list", "glossary") in played_files()[2]


def test_a_version_stored_before_zips_were_kept_is_exported_from_its_files(
    app: Flask, tmp_path: Path
) -> None:
    course_folder(tmp_path, package_12())
    cli(app, "content", "sync", "--path", str(tmp_path))
    digest = hashlib.sha256(package_12()).hexdigest()
    (Path(app.instance_path) / "packages" / "zips" / f"{digest}.zip").unlink()
    course = db.session.scalars(select(Course)).one()
    exported = course_folders.export_files(course)["packages/border-checks.zip"]
    assert exported != package_12()  # zipped again from the stored files: same files, another zip
    with zipfile.ZipFile(io.BytesIO(exported)) as again, zipfile.ZipFile(io.BytesIO(package_12())) as first:
        assert {n: again.read(n) for n in again.namelist()} == {n: first.read(n) for n in first.namelist()}
    assert course_folders.export_files(course)["packages/border-checks.zip"] == exported  # deterministic
