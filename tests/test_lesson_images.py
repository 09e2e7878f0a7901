"""Lesson images carry their real width and height (issue 11: the page must not jump while they load),
measured once when a lesson is synced or a file uploaded, never when a page is viewed."""

from __future__ import annotations

import io
from collections.abc import Callable, Iterator
from html.parser import HTMLParser
from pathlib import Path

import pytest
from flask import Flask
from flask.testing import FlaskClient
from PIL import Image
from sqlalchemy import select

from lms.auth.models import Role, User
from lms.authoring import assets, course_folders, drafts, lesson_files, outline
from lms.authoring.sniff import image_dimensions
from lms.content.loader import load_course
from lms.content.markdown import ALLOWED_ATTRIBUTES, render_markdown
from lms.content.services import sync_course
from lms.courses.models import Course, Lesson
from lms.enrolment import self_service as enrolment_self_service
from lms.enrolment.runs import ensure_default_run
from lms.extensions import db
from tests.authoring_support import build_course, edit, png_bytes
from tests.conftest import login


class _Images(HTMLParser):
    def __init__(self) -> None:
        super().__init__()
        self.found: dict[str, dict[str, str | None]] = {}

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag == "img":
            values = dict(attrs)
            self.found[str(values["src"])] = values


def images(html: str) -> dict[str, dict[str, str | None]]:
    parser = _Images()
    parser.feed(html)
    return parser.found


def picture(width: int, height: int, kind: str = "PNG", **options: object) -> bytes:
    buffer = io.BytesIO()
    Image.new("RGB", (width, height), (11, 74, 139)).save(buffer, kind, **options)
    return buffer.getvalue()


# A PNG signature and header chunk (so it passes the upload check), then nothing a decoder can read.
BROKEN_PNG = b"\x89PNG\r\n\x1a\n\x00\x00\x00\x0dIHDR" + b"\xff" * 9


# --- the renderer and the measuring, without an app -------------------------------------------------------


def test_the_renderer_sizes_lazy_images_it_knows_and_leaves_the_others_unsized() -> None:
    sizes = {"/a.png": (640, 360)}
    html = render_markdown('![Map](/a.png "Crossing")\n\n![Other](/b.png)', sizes.get)
    found = images(html)
    assert found["/a.png"] == {
        "src": "/a.png",
        "alt": "Map",
        "title": "Crossing",
        "loading": "lazy",
        "decoding": "async",
        "width": "640",
        "height": "360",
    }
    assert found["/b.png"] == {"src": "/b.png", "alt": "Other", "loading": "lazy", "decoding": "async"}
    # Outside an app nobody answers the size question: the image still renders, lazy and unsized.
    assert images(render_markdown("![x](/courses/c/files/x.png)"))["/courses/c/files/x.png"] == {
        "src": "/courses/c/files/x.png",
        "alt": "x",
        "loading": "lazy",
        "decoding": "async",
    }


def test_the_sanitiser_allows_exactly_the_image_attributes_we_write() -> None:
    assert ALLOWED_ATTRIBUTES["img"] == {"src", "alt", "title", "width", "height", "loading", "decoding"}


def test_sizes_are_read_from_the_image_header() -> None:
    assert image_dimensions(png_bytes(40, 30)) == (40, 30)
    assert image_dimensions(picture(120, 80, "JPEG")) == (120, 80)
    assert image_dimensions(picture(7, 5, "GIF")) == (7, 5)
    assert image_dimensions(picture(64, 48, "WEBP")) == (64, 48)
    # A phone photo stored sideways with "rotate 90°" in its EXIF: the browser shows it 80 wide, 120 high.
    exif = Image.Exif()
    exif[0x0112] = 6
    assert image_dimensions(picture(120, 80, "JPEG", exif=exif.tobytes())) == (80, 120)
    assert image_dimensions(BROKEN_PNG) is None
    assert image_dimensions(b"%PDF-1.7\n") is None
    assert image_dimensions(b"") is None


# --- course-folder images and uploads, through the lesson page -------------------------------------------

COURSE_YML = """slug: pictures
title: "Pictures"
summary: "A course with pictures."
language: en
version: 1
delivery_mode: online
lesson_completion: manual
modules:
  - slug: seeing
    title: "Seeing"
    lessons:
      - the-map
"""

LESSON_MD = """---
title: "The map"
minutes: 5
---
## The crossing

![Map of the crossing](/courses/pictures/files/crossing-map.png)

![A broken picture](/courses/pictures/files/broken.png)

![Not there](/courses/pictures/files/missing.png)
"""


@pytest.fixture
def courses_dir(app: Flask, tmp_path: Path) -> Iterator[Path]:
    """A courses/ folder of our own, as `flask lms content sync` reads it."""
    old = app.config["COURSES_DIR"]
    app.config["COURSES_DIR"] = str(tmp_path)
    folder = tmp_path / "pictures"
    (folder / "modules" / "seeing").mkdir(parents=True)
    (folder / "assets").mkdir()
    (folder / "course.yml").write_text(COURSE_YML, encoding="utf-8")
    (folder / "modules" / "seeing" / "the-map.md").write_text(LESSON_MD, encoding="utf-8")
    (folder / "assets" / "crossing-map.png").write_bytes(picture(320, 180))
    (folder / "assets" / "broken.png").write_bytes(BROKEN_PNG)
    yield tmp_path
    app.config["COURSES_DIR"] = old


def enrolled_client(client: FlaskClient, course: Course, trainee: User) -> FlaskClient:
    run = ensure_default_run(course)
    enrolment_self_service.self_enrol(trainee, run, language="en")
    db.session.commit()
    login(client, trainee)
    return client


def lesson_images(client: FlaskClient, course: Course, slug: str) -> dict[str, dict[str, str | None]]:
    lesson = db.session.scalar(select(Lesson).where(Lesson.slug == slug))
    assert lesson is not None
    response = client.get(f"/courses/{course.slug}/lessons/{lesson.id}")
    assert response.status_code == 200
    return images(response.get_data(as_text=True))


def no_image_opened(monkeypatch: pytest.MonkeyPatch) -> None:
    def refuse(*_args: object, **_kwargs: object) -> None:
        raise AssertionError("an image was opened while a page was viewed")

    monkeypatch.setattr(Image, "open", refuse)


def test_course_folder_images_are_sized_at_sync_and_served(
    app: Flask,
    courses_dir: Path,
    client: FlaskClient,
    make_user: Callable[..., User],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    spec, problems = load_course(courses_dir / "pictures")
    assert not problems and spec is not None
    course = sync_course(spec).course
    db.session.commit()
    enrolled_client(client, course, make_user(Role.TRAINEE))

    no_image_opened(monkeypatch)  # from here on: page views only read the stored lesson HTML
    found = lesson_images(client, course, "the-map")
    sized = found["/courses/pictures/files/crossing-map.png"]
    assert (sized["width"], sized["height"], sized["loading"], sized["decoding"]) == (
        "320",
        "180",
        "lazy",
        "async",
    )
    # A file whose size cannot be read, and a missing one, still render: lazy, without a size.
    for name in ("broken.png", "missing.png"):
        unsized = found[f"/courses/pictures/files/{name}"]
        assert "width" not in unsized and "height" not in unsized and unsized["loading"] == "lazy"

    served = client.get("/courses/pictures/files/crossing-map.png")
    assert served.status_code == 200 and served.mimetype == "image/png"
    assert served.data == (courses_dir / "pictures" / "assets" / "crossing-map.png").read_bytes()
    assert client.get("/courses/pictures/files/missing.png").status_code == 404
    # Files the lessons can link travel with an export.
    files = course_folders.export_files(course)
    assert files["assets/crossing-map.png"] == served.data


def test_uploaded_images_are_sized_when_uploaded(
    app: Flask, client: FlaskClient, make_user: Callable[..., User], monkeypatch: pytest.MonkeyPatch
) -> None:
    trainer = make_user(Role.TRAINER)
    course = build_course(trainer)
    asset = assets.store_asset(trainer, course, "Room layout.png", picture(400, 300))
    unreadable = assets.store_asset(trainer, course, "scan.png", BROKEN_PNG)
    db.session.commit()
    sidecar = Path(app.instance_path) / "uploads" / str(course.id) / f"{asset.sha256}.size.json"
    assert sidecar.read_text() == '{"width": 400, "height": 300}'  # measured once, kept beside the file

    address = f"/courses/{course.slug}/files/{asset.name}"
    broken = f"/courses/{course.slug}/files/{unreadable.name}"
    edit(
        trainer,
        course,
        "images",
        lambda doc: outline.update_lesson(
            doc, "welcome", {"body_md": f"![Room]({address})\n\n![Scan]({broken})"}
        ),
    )
    drafts.publish(trainer, course, drafts.get_draft(course).revision, "with a picture")
    db.session.commit()
    enrolled_client(client, course, make_user(Role.TRAINEE))

    no_image_opened(monkeypatch)
    found = lesson_images(client, course, "welcome")
    assert (found[address]["width"], found[address]["height"]) == ("400", "300")
    assert found[address]["loading"] == "lazy" and found[address]["decoding"] == "async"
    assert "width" not in found[broken] and "height" not in found[broken]
    assert client.get(address).status_code == 200


def test_an_upload_after_publishing_sizes_the_lessons_that_already_link_it(
    app: Flask, client: FlaskClient, make_user: Callable[..., User]
) -> None:
    trainer = make_user(Role.TRAINER)
    course = build_course(trainer)
    address = f"/courses/{course.slug}/files/late.png"
    edit(
        trainer,
        course,
        "image",
        lambda doc: outline.update_lesson(doc, "documents", {"body_md": f"![Late]({address})"}),
    )
    drafts.publish(trainer, course, drafts.get_draft(course).revision, "linked before uploading")
    db.session.commit()
    lesson = db.session.scalar(select(Lesson).where(Lesson.slug == "documents"))
    assert lesson is not None and "width" not in images(lesson.body_html)[address]

    assets.store_asset(trainer, course, "late.png", picture(50, 20))
    db.session.commit()
    db.session.expire_all()
    assert (images(lesson.body_html)[address]["width"], images(lesson.body_html)[address]["height"]) == (
        "50",
        "20",
    )

    assets.delete_asset(course, "late.png")
    db.session.commit()
    db.session.expire_all()
    assert "width" not in images(lesson.body_html)[address]


def test_lessons_rendered_before_sizes_were_kept_are_sized_by_the_render_command(
    app: Flask, make_user: Callable[..., User]
) -> None:
    trainer = make_user(Role.TRAINER)
    course = build_course(trainer)
    asset = assets.store_asset(trainer, course, "old.png", picture(90, 60))
    edit(
        trainer,
        course,
        "image",
        lambda doc: outline.update_lesson(
            doc, "risk", {"body_md": f"![Old](/courses/{course.slug}/files/{asset.name})"}
        ),
    )
    drafts.publish(trainer, course, drafts.get_draft(course).revision, "v1")
    lesson = db.session.scalar(select(Lesson).where(Lesson.slug == "risk"))
    assert lesson is not None
    # As an older version left them: HTML without sizes and no measurement beside the upload.
    lesson.body_html = render_markdown(lesson.body_md, lambda _src: None)
    (lesson_files.uploads_dir(course.id) / f"{asset.sha256}.size.json").unlink()
    db.session.commit()

    result = app.test_cli_runner().invoke(args=["lms", "authoring", "render-lessons", course.slug])
    assert result.exit_code == 0, result.output
    assert f"{course.slug}: 1 lesson text(s) changed" in result.output
    db.session.expire_all()
    sized = images(lesson.body_html)[f"/courses/{course.slug}/files/{asset.name}"]
    assert (sized["width"], sized["height"]) == ("90", "60")
