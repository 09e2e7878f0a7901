"""Importing SCORM packages in the browser (issue 25): the module's lessons, versions, content-addressed
storage, every refusal shown with nothing stored, and who may upload."""

from __future__ import annotations

import io
from collections.abc import Callable
from pathlib import Path

import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import func, select

from lms.auth.models import Role, User
from lms.courses.models import Course, Lesson, Module
from lms.enrolment.models import LessonCompletion
from lms.extensions import db
from lms.packages.models import Package, PackageItem, PackageVersion
from tests.conftest import login
from tests.package_support import enrol
from tests.package_zips import FILES_12, MANIFEST_12, package_12, package_2004, with_entry, zip_bytes


@pytest.fixture
def course(app: Flask) -> Course:
    course = Course(slug="scorm-course", title="SCORM course")
    module = Module(slug="checks", title="Checks", position=0)
    module.lessons.append(Lesson(slug="reading", title="Reading", position=0, body_html="<p>x</p>"))
    course.modules.append(module)
    db.session.add(course)
    db.session.commit()
    return course


@pytest.fixture
def editor(course: Course, make_trainer: Callable[..., User], client: FlaskClient) -> FlaskClient:
    login(client, make_trainer(course))
    return client


def upload(client: FlaskClient, course: Course, data: bytes, package_id: int | None = None) -> str:
    url = (
        f"/authoring/courses/{course.id}/packages/{package_id}/versions"
        if package_id
        else f"/authoring/courses/{course.id}/modules/checks/packages/upload"
    )
    response = client.post(url, data={"file": (io.BytesIO(data), "package.zip")}, follow_redirects=True)
    assert response.status_code == 200
    return response.get_data(as_text=True)


def stored(app: Flask) -> set[str]:
    root = Path(app.instance_path) / "packages"
    return {path.name for path in root.iterdir()} if root.is_dir() else set()


def counts() -> tuple[int, int, int, int]:
    return tuple(  # type: ignore[return-value]
        db.session.scalar(select(func.count()).select_from(model))
        for model in (Package, PackageVersion, PackageItem, Lesson)
    )


def test_scorm_12_upload_makes_ordered_lessons_after_the_module_s_own(
    app: Flask, course: Course, editor: FlaskClient
) -> None:
    page = upload(editor, course, package_12())
    assert "Package &#39;Border checks&#39; added: 3 lessons." in page
    lessons = db.session.scalars(select(Lesson).order_by(Lesson.position, Lesson.id)).all()
    assert [lesson.title for lesson in lessons] == ["Reading", "Introduction", "Documents", "Glossary"]
    assert [lesson.package_item_identifier for lesson in lessons] == [None, "intro", "docs", "glossary"]
    version = db.session.scalar(select(PackageVersion))
    assert version is not None
    assert (version.scorm_version, version.number, version.file_count) == ("1.2", 1, 5)
    assert version.package.current_version_id == version.id
    folder = Path(app.instance_path) / "packages" / version.sha256
    assert (folder / "docs" / "style.css").is_file()
    assert "Introduction" in editor.get(f"/authoring/courses/{course.id}/modules/checks/packages").get_data(
        as_text=True
    )


@pytest.mark.parametrize("edition", ["3rd", "4th"])
def test_scorm_2004_upload(course: Course, editor: FlaskClient, edition: str) -> None:
    upload(editor, course, package_2004(edition))
    version = db.session.scalar(select(PackageVersion))
    assert version is not None and version.scorm_version == f"2004 {edition}"
    assert [item.identifier for item in version.items] == ["one", "two", "three"]
    assert str(version.items[0].completion_threshold) == "0.7500"


@pytest.mark.parametrize(
    ("data", "message"),
    [
        (b"not a zip", "The file is not a zip archive."),
        (zip_bytes({"index.html": "x"}), "This is not a SCORM package"),
        (
            zip_bytes({k: v for k, v in FILES_12.items() if k != "glossary.html"}, MANIFEST_12),
            "glossary.html",
        ),
        (zip_bytes({**FILES_12, "z.txt": b"\0" * 4_000_000}, MANIFEST_12), "zip bomb"),
        (with_entry("../../x.html"), "points outside the package"),
        (with_entry("/srv/x.html"), "is an absolute path"),
        (with_entry("link.html", symlink=True), "symbolic link"),
        (with_entry("run.sh"), "this type of file is not allowed"),
        (with_entry("big.mp4", b"v" * 3000), "larger than the 0 MB allowed for one file"),
    ],
)
def test_each_refusal_is_shown_and_nothing_is_stored(
    app: Flask, course: Course, editor: FlaskClient, data: bytes, message: str
) -> None:
    before, rows = stored(app), counts()
    if "for one file" in message:
        app.config["PACKAGE_MAX_FILE_BYTES"] = 2000
    try:
        page = upload(editor, course, data)
    finally:
        app.config["PACKAGE_MAX_FILE_BYTES"] = 200 * 1024 * 1024
    assert message.replace("'", "&#39;") in page
    assert counts() == rows
    assert stored(app) == before


def test_same_zip_is_stored_once_and_a_new_version_keeps_the_old_one(
    app: Flask, course: Course, editor: FlaskClient
) -> None:
    upload(editor, course, package_12())
    package = db.session.scalar(select(Package))
    assert package is not None
    page = upload(editor, course, package_12(), package.id)
    assert "already the package" in page
    upload(editor, course, package_12())  # a second package from the same zip
    assert db.session.scalar(select(func.count()).select_from(Package)) == 2
    digests = set(db.session.scalars(select(PackageVersion.sha256)))
    assert len(digests) == 1 and digests <= stored(app)

    lessons_before = {lesson.package_item_identifier: lesson.id for lesson in package_lessons(package.id)}
    changed = MANIFEST_12.replace("<title>Glossary</title>", "<title>Word list</title>").replace(
        '<item identifier="docs" identifierref="r2"><title>Documents</title></item>', ""
    )
    upload(editor, course, zip_bytes(FILES_12, changed), package.id)
    db.session.expire_all()
    versions = db.session.scalars(
        select(PackageVersion).where(PackageVersion.package_id == package.id).order_by(PackageVersion.number)
    ).all()
    assert [v.number for v in versions] == [1, 2]
    assert [item.identifier for item in versions[0].items] == ["intro", "docs", "glossary"]  # kept whole
    assert package.current_version_id == versions[1].id
    lessons = {lesson.package_item_identifier: lesson for lesson in package_lessons(package.id)}
    assert {k: lesson.id for k, lesson in lessons.items()} == lessons_before  # same lessons, matched by id
    assert lessons["glossary"].title == "Word list"
    assert not lessons["docs"].is_published
    assert len(stored(app) & {v.sha256 for v in versions}) == 2


def package_lessons(package_id: int) -> list[Lesson]:
    return list(db.session.scalars(select(Lesson).where(Lesson.package_id == package_id)))


@pytest.mark.parametrize("role", ["other_trainer", Role.TRAINEE, Role.FOCAL_POINT])
def test_others_may_not_upload(
    app: Flask,
    course: Course,
    client: FlaskClient,
    make_user: Callable[..., User],
    make_trainer: Callable[..., User],
    role: str,
) -> None:
    trainer = make_trainer(course)
    login(client, trainer)
    upload(client, course, package_12())
    client.post("/logout")
    package = db.session.scalar(select(Package))
    assert package is not None
    other_course = Course(slug="other", title="Other")
    db.session.add(other_course)
    db.session.commit()
    login(client, make_trainer(other_course) if role == "other_trainer" else make_user(role))
    rows, files = counts(), stored(app)
    for url in (
        f"/authoring/courses/{course.id}/modules/checks/packages",
        f"/authoring/courses/{course.id}/modules/checks/packages/upload",
        f"/authoring/courses/{course.id}/packages/{package.id}/versions",
    ):
        data = {"file": (io.BytesIO(package_2004()), "p.zip")}
        response = client.post(url, data=data) if url.endswith(("upload", "versions")) else client.get(url)
        assert response.status_code == 403, url
    assert counts() == rows and stored(app) == files


def test_a_package_larger_than_max_content_length_is_accepted_on_the_upload_route(
    app: Flask, course: Course, editor: FlaskClient
) -> None:
    app.config["MAX_CONTENT_LENGTH"] = 2000
    try:
        upload(editor, course, package_12())
        assert editor.post("/logout", data={"x": "y" * 3000}).status_code == 413
    finally:
        app.config["MAX_CONTENT_LENGTH"] = 16 * 1024 * 1024
    assert db.session.scalar(select(func.count()).select_from(Package)) == 1


def test_the_learner_s_outline_links_a_package_lesson_to_its_player_and_reading_does_not_complete_it(
    app: Flask, course: Course, editor: FlaskClient, make_user: Callable[..., User]
) -> None:
    upload(editor, course, package_12())
    editor.post("/logout")
    course.lesson_completion = "on_read"
    db.session.commit()
    trainee = make_user(Role.TRAINEE)
    enrol(course, trainee)
    login(editor, trainee)
    lesson = db.session.scalar(select(Lesson).where(Lesson.package_item_identifier == "intro"))
    assert lesson is not None
    page = editor.get(f"/courses/{course.slug}").get_data(as_text=True)
    assert f"/courses/{course.slug}/lessons/{lesson.id}/play" in page
    page = editor.get(f"/courses/{course.slug}/lessons/{lesson.id}").get_data(as_text=True)
    assert "Open the activity" in page and "Mark as complete" not in page
    marked = editor.post(f"/courses/{course.slug}/lessons/{lesson.id}/complete", follow_redirects=True)
    page = marked.get_data(as_text=True)
    assert "completed by its activity" in page
    assert db.session.scalar(select(func.count()).select_from(LessonCompletion)) == 0
