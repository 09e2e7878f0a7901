"""Courses as folders of files: export of a course (published or draft), import of a zip or a folder.

Services flush and raise LmsError subclasses; the unit of work commits.
"""

from __future__ import annotations

import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
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
from lms.authoring.package_files import attach_packages, package_files, package_zips
from lms.authoring.sniff import ASSET_NAME, sniff_asset
from lms.authoring.trainers import require_course_trainer
from lms.content.loader import SLUG_PATTERN, CourseSpec, PackageFileSpec, load_course
from lms.content.services import sync_course
from lms.courses.models import Course, Module
from lms.enrolment.runs import ensure_default_run
from lms.errors import ValidationFailed
from lms.extensions import db
from lms.packages.queries import module_by_slug
from lms.packages.services import import_package

# --- export and import ---------------------------------------------------------------------------------


def export_files(course: Course, *, draft: bool = False) -> dict[str, bytes]:
    """The course folder: the published course (or the draft) with the course's packages in their
    modules (``packages/<slug>.zip``, the current versions: packages are never drafted)."""
    spec = from_document(read_draft(course).document) if draft else published_spec(course)
    attach_packages(spec, package_files(course))
    return exporter.course_files(spec, asset_bytes(course), package_zips(spec))


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


@contextmanager
def loaded_files(slug: str, files: dict[str, bytes]) -> Iterator[tuple[CourseSpec, dict[str, bytes]]]:
    """Validate a course folder's files with the loader; its assets are checked by content. The folder
    lives until the block ends: the spec's packages are read from it (``PackageFileSpec.source``)."""
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
        yield spec, assets


def import_zip(actor: User, data: bytes) -> Course:
    """A zip (as Export makes it) becomes the draft of its course; a new slug makes a new course."""
    try:
        prefix, files = read_course_zip(data)
    except ArchiveRejected as error:
        raise PublishRefused(
            _("The zip was refused as a whole; nothing was imported."), error.problems
        ) from None
    slug = _folder_slug(prefix, files)
    with loaded_files(slug, files) as (spec, assets):
        course = db.session.scalar(select(Course).where(Course.slug == spec.slug))
        if course is not None:
            require_course_trainer(actor, course.id)
        modules = _package_modules(course, spec)
        if course is None:
            course = create_course(actor, spec.slug, spec.title, spec.language)
        document = to_document(spec)
        # An upload replaces the draft on purpose (the zip is the newer source), so no stale-form check.
        edit_draft(
            actor, course, get_draft(course).revision, _("imported from a zip"), replace_with(document)
        )
        for name, content in assets.items():
            store_asset(actor, course, name, content, name=name)
        for module, package in modules:  # live at once, as an upload on the packages page would be
            import_package(module, Path(package.source), actor=actor, slug=package.slug)
    return course


def _package_modules(course: Course | None, spec: CourseSpec) -> list[tuple[Module, PackageFileSpec]]:
    """The database module of each package the zip lists; refused (nothing imported) when a module is not
    published yet: a package belongs to a module row, while the zip's other content goes to the draft."""
    found: list[tuple[Module, PackageFileSpec]] = []
    missing: list[str] = []
    for module_spec in spec.modules:
        module = module_by_slug(course.id, module_spec.slug) if course is not None else None
        for package in module_spec.packages:
            if module is None:
                missing.append(
                    _(
                        "%(file)s: module '%(module)s' is not published yet",
                        file=package.file,
                        module=module_spec.slug,
                    )
                )
            else:
                found.append((module, package))
    if missing:
        raise PublishRefused(
            _(
                "The zip holds SCORM packages of modules that are not published yet; nothing was imported. "
                "Import it without its packages, publish, then import it again (or use `flask lms "
                "authoring import`)."
            ),
            missing,
        )
    return found


def import_folder(folder: Path) -> Course:
    """The CLI import: load, sync and publish a course folder as `content sync` does, plus its assets."""
    files = exporter.read_folder(folder)
    with loaded_files(folder.name, files) as (spec, assets):
        course = sync_course(spec).course  # its packages too, from the folder (lms.content.services)
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
