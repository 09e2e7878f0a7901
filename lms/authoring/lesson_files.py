"""The files lessons link as `/courses/<slug>/files/<name>`: where they come from, and their pixel sizes.

A name is served from the course's uploads (`instance/uploads/<course id>/<sha256>`, see services.store_asset)
or, when nothing was uploaded under it, from the course folder (`courses/<slug>/assets/<name>`, the folder
`flask lms content sync` reads, also what an export writes). The renderer (`lms.content.markdown`) asks for
an image's size through its `lesson_image_size_wanted` signal while a lesson is synced, published or
previewed; the answer is measured once: for an upload when it is stored (a JSON sidecar beside the bytes,
named by their hash), for a course-folder file once per file version in this process. Page views only read
the stored lesson HTML.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

from flask import current_app, has_app_context
from sqlalchemy import ColumnElement, or_, select, true
from sqlalchemy.orm import InstrumentedAttribute

from lms.authoring.models import CourseAsset
from lms.authoring.sniff import ASSET_NAME, KINDS, MAX_ASSET_BYTES, image_dimensions, sniff_asset
from lms.content.markdown import lesson_image_size_wanted, render_markdown
from lms.courses.models import Course, Lesson, LessonTranslation, Module
from lms.extensions import db

ImageSize = tuple[int, int]

LESSON_FILE_ADDRESS = re.compile(r"^/courses/(?P<slug>[a-z0-9]+(?:-[a-z0-9]+)*)/files/(?P<name>[^/?#]+)$")
FOLDER_ASSETS = "assets"


@dataclass(frozen=True)
class ServedFile:
    name: str
    content_type: str
    path: Path


def file_address(slug: str, name: str) -> str:
    return f"/courses/{slug}/files/{name}"


# --- where the bytes are -------------------------------------------------------------------------------


def uploads_dir(course_id: int) -> Path:
    return Path(current_app.instance_path) / "uploads" / str(course_id)


def folder_file(slug: str, name: str) -> ServedFile | None:
    """A file of the course folder, if its name is a safe asset name and its bytes are what the name says."""
    if not ASSET_NAME.match(name):
        return None
    path = Path(current_app.config["COURSES_DIR"]) / slug / FOLDER_ASSETS / name
    try:
        if not path.is_file() or path.stat().st_size > MAX_ASSET_BYTES:
            return None
        with path.open("rb") as handle:
            head = handle.read(32)
    except OSError:
        return None
    kind = sniff_asset(head)
    if kind is None or kind is not KINDS.get(name.rsplit(".", 1)[-1]):
        return None
    return ServedFile(name, kind.content_type, path)


def folder_files(slug: str) -> dict[str, ServedFile]:
    folder = Path(current_app.config["COURSES_DIR"]) / slug / FOLDER_ASSETS
    if not folder.is_dir():
        return {}
    found = (folder_file(slug, path.name) for path in sorted(folder.iterdir()))
    return {served.name: served for served in found if served is not None}


def served_file(course: Course, name: str) -> ServedFile | None:
    """What `/courses/<slug>/files/<name>` sends: the upload of that name first, then the course folder's."""
    with db.session.no_autoflush:
        asset = db.session.scalar(
            select(CourseAsset).where(CourseAsset.course_id == course.id, CourseAsset.name == name)
        )
    if asset is not None:
        path = uploads_dir(course.id) / asset.sha256
        return ServedFile(asset.name, asset.content_type, path) if path.is_file() else None
    return folder_file(course.slug, name)


# --- sizes -----------------------------------------------------------------------------------------------


def _sidecar(course_id: int, sha256: str) -> Path:
    return uploads_dir(course_id) / f"{sha256}.size.json"


def record_upload_size(course_id: int, sha256: str, data: bytes) -> ImageSize | None:
    """Measure an uploaded image once and keep the answer beside it (`null`s: measured, not readable)."""
    size = image_dimensions(data) if sniff_asset(data) is not None else None
    record = {"width": size[0], "height": size[1]} if size else {"width": None, "height": None}
    _sidecar(course_id, sha256).write_text(json.dumps(record), encoding="utf-8")
    return size


def upload_size(course_id: int, sha256: str) -> ImageSize | None:
    try:
        record = json.loads(_sidecar(course_id, sha256).read_text(encoding="utf-8"))
    except FileNotFoundError:  # uploaded before sizes were kept: measure it now, once
        path = uploads_dir(course_id) / sha256
        return record_upload_size(course_id, sha256, path.read_bytes()) if path.is_file() else None
    except (OSError, ValueError):
        return None
    width, height = record.get("width"), record.get("height")
    return (width, height) if isinstance(width, int) and isinstance(height, int) else None


@lru_cache(maxsize=1024)
def _folder_size(path: str, _mtime_ns: int, _length: int) -> ImageSize | None:
    # Keyed by the file's version: a changed file is measured again, an unchanged one never.
    return image_dimensions(Path(path).read_bytes())


def folder_size(path: Path) -> ImageSize | None:
    try:
        stat = path.stat()
    except OSError:
        return None
    return _folder_size(str(path), stat.st_mtime_ns, stat.st_size)


def lesson_image_size(src: str) -> ImageSize | None:
    """The pixel size of a lesson file address, or None (another address, a missing or unreadable file)."""
    match = LESSON_FILE_ADDRESS.match(src)
    if match is None or not has_app_context():
        return None
    slug, name = match["slug"], match["name"]
    with db.session.no_autoflush:  # called while a course is being synced: never flush half of it
        row = db.session.execute(
            select(CourseAsset.course_id, CourseAsset.sha256, CourseAsset.content_type)
            .join(Course, Course.id == CourseAsset.course_id)
            .where(Course.slug == slug, CourseAsset.name == name)
        ).first()
    if row is not None:
        return upload_size(row.course_id, row.sha256) if row.content_type.startswith("image/") else None
    served = folder_file(slug, name)
    if served is None or not served.content_type.startswith("image/"):
        return None
    return folder_size(served.path)


@lesson_image_size_wanted.connect
def _answer_size(src: str, **_extra: object) -> ImageSize | None:
    return lesson_image_size(src)


# --- lessons already rendered ---------------------------------------------------------------------------


def rerender_lessons(course: Course, name: str | None = None) -> int:
    """Render again the stored HTML of the course's lessons that link `name` (every lesson when None), so a
    file uploaded, replaced or removed after a lesson was published gives it the right size. Returns how
    many lesson texts changed."""
    needle = file_address(course.slug, name) if name else None

    def linking(*columns: InstrumentedAttribute[str]) -> ColumnElement[bool]:
        if needle is None:
            return true()
        return or_(*(column.contains(needle, autoescape=True) for column in columns))

    lessons = db.session.scalars(
        select(Lesson)
        .join(Module, Module.id == Lesson.module_id)
        .where(Module.course_id == course.id, linking(Lesson.body_md, Lesson.transcript_md))
    ).all()
    translations = db.session.scalars(
        select(LessonTranslation)
        .join(Lesson, Lesson.id == LessonTranslation.lesson_id)
        .join(Module, Module.id == Lesson.module_id)
        .where(
            Module.course_id == course.id,
            linking(LessonTranslation.body_md, LessonTranslation.transcript_md),
        )
    ).all()
    changed = 0
    texts: list[Lesson | LessonTranslation] = [*lessons, *translations]
    for text in texts:
        body = render_markdown(text.body_md)
        transcript = render_markdown(text.transcript_md) if text.transcript_md else ""
        if body != text.body_html or transcript != text.transcript_html:
            text.body_html, text.transcript_html = body, transcript
            changed += 1
    db.session.flush()
    return changed
