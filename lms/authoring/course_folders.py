"""Courses as folders of files: export of a course (published or draft), import of a zip or a folder.

Services flush and raise LmsError subclasses; the unit of work commits.
"""

from __future__ import annotations

import tempfile
from pathlib import Path

import yaml
from flask_babel import gettext as _
from sqlalchemy import select

from lms.auth.models import User
from lms.authoring import exporter
from lms.authoring.archive import ArchiveRejected, read_course_zip
from lms.authoring.assets import asset_bytes, store_asset
from lms.authoring.document import from_document, to_document
from lms.authoring.drafts import (
    PublishRefused,
    create_course,
    edit_draft,
    get_draft,
    published_spec,
    read_draft,
    replace_with,
)
from lms.authoring.models import CourseDraft, DraftEdit
from lms.authoring.sniff import ASSET_NAME, sniff_asset
from lms.authoring.trainers import require_course_trainer
from lms.content.loader import SLUG_PATTERN, CourseSpec, load_course
from lms.content.services import sync_course
from lms.courses.models import Course
from lms.enrolment.runs import ensure_default_run
from lms.errors import ValidationFailed
from lms.extensions import db

# --- export and import ---------------------------------------------------------------------------------


def export_files(course: Course, *, draft: bool = False) -> dict[str, bytes]:
    spec = from_document(read_draft(course).document) if draft else published_spec(course)
    return exporter.course_files(spec, asset_bytes(course))


def _folder_slug(prefix: str, files: dict[str, bytes]) -> str:
    if prefix:
        return prefix
    try:
        data = yaml.safe_load(files["course.yml"].decode("utf-8"))
    except (UnicodeDecodeError, yaml.YAMLError):
        raise ValidationFailed(_("course.yml cannot be read.")) from None
    slug = data.get("slug") if isinstance(data, dict) else None
    if not isinstance(slug, str) or not SLUG_PATTERN.match(slug):
        raise ValidationFailed(_("course.yml has no valid slug."))
    return slug


def load_files(slug: str, files: dict[str, bytes]) -> tuple[CourseSpec, dict[str, bytes]]:
    """Validate a course folder's files with the loader; its assets are checked by content."""
    assets = {}
    problems: list[str] = []
    for relative, data in files.items():
        if relative.startswith(exporter.ASSETS_FOLDER + "/"):
            name = relative.removeprefix(exporter.ASSETS_FOLDER + "/")
            kind = sniff_asset(data)
            if kind is None or not ASSET_NAME.match(name) or not name.endswith("." + kind.extension):
                problems.append(_("%(path)s is not an image or PDF named for what it is", path=relative))
            assets[name] = data
    with tempfile.TemporaryDirectory(prefix="lms-import-") as tmp:
        folder = Path(tmp) / slug
        exporter.write_folder(files, folder)
        spec, found = load_course(folder, Path(tmp))
    problems.extend(str(p) for p in found)
    if problems or spec is None:
        raise PublishRefused(_("The course files have problems; nothing was imported."), problems)
    return spec, assets


def import_zip(actor: User, data: bytes) -> Course:
    """A zip (as Export makes it) becomes the draft of its course; a new slug makes a new course."""
    try:
        prefix, files = read_course_zip(data)
    except ArchiveRejected as error:
        raise PublishRefused(
            _("The zip was refused as a whole; nothing was imported."), error.problems
        ) from None
    slug = _folder_slug(prefix, files)
    spec, assets = load_files(slug, files)
    course = db.session.scalar(select(Course).where(Course.slug == spec.slug))
    if course is None:
        course = create_course(actor, spec.slug, spec.title, spec.language)
    else:
        require_course_trainer(actor, course.id)
    document = to_document(spec)
    # An upload replaces the draft on purpose (the zip is the newer source), so no stale-form check.
    edit_draft(actor, course, get_draft(course).revision, _("imported from a zip"), replace_with(document))
    for name, content in assets.items():
        store_asset(actor, course, name, content, name=name)
    return course


def import_folder(folder: Path) -> Course:
    """The CLI import: load, sync and publish a course folder as `content sync` does, plus its assets."""
    files = exporter.read_folder(folder)
    spec, assets = load_files(folder.name, files)
    course = sync_course(spec).course
    ensure_default_run(course)
    for name, content in assets.items():
        store_asset(None, course, name, content, name=name)
    draft = db.session.scalar(select(CourseDraft).where(CourseDraft.course_id == course.id))
    if draft is not None:
        draft.document = to_document(spec)
        draft.revision += 1
        db.session.add(
            DraftEdit(
                course_id=course.id, revision=draft.revision, user_id=None, summary="imported from files"
            )
        )
    db.session.flush()
    return course
