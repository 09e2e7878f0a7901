"""Importing a SCORM package into a module: check the zip and its manifest, store the version once per
content, and keep the module's lessons in step with the items. Services flush; the unit of work commits.

Order matters for "nothing stored on a refusal": every check (lms.packages.extraction, lms.packages.manifest)
runs on the zip where it lies, before a row is added or a file written; then the rows are flushed, and the
files are extracted last, into ``<instance>/packages/<sha256>/`` unless that folder is already there
(content-addressed: the same zip, uploaded twice or to two packages, is stored once). A transaction rolled
back after the extraction leaves an unreferenced folder, which a later upload of the same zip reuses.
The zip itself is kept beside them (``zips/<sha256>.zip``): a course exported as files carries it.
"""

from __future__ import annotations

import hashlib
import os
import re
import shutil
import tempfile
import unicodedata
import zipfile
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import IO, Any

from flask import current_app
from flask_babel import gettext as _
from sqlalchemy import func, select

from lms.audit.services import record_event
from lms.auth.models import User
from lms.courses.models import Course, Lesson, Module
from lms.db import utcnow
from lms.errors import NotFound, ValidationFailed
from lms.extensions import db
from lms.packages.extraction import (
    MANIFEST_NAME,
    PackageRefused,
    ZipLimits,
    extract_zip,
    inspect_zip,
    read_member,
)
from lms.packages.manifest import Manifest, parse_manifest
from lms.packages.models import Package, PackageItem, PackageVersion

STORAGE_FOLDER = "packages"
ZIPS_FOLDER = "zips"  # under STORAGE_FOLDER: each version's zip as uploaded, for course exports
MAX_MANIFEST_BYTES = 2 * 1024 * 1024
_SLUG_CHARACTERS = re.compile(r"[^a-z0-9]+")


@dataclass(frozen=True)
class ImportResult:
    package: Package
    version: PackageVersion
    outcome: str  # "created" (a new package), "new_version", "unchanged" (the current version's zip again)


def limits_from(config: Mapping[str, Any]) -> ZipLimits:
    return ZipLimits(
        max_zip_bytes=config["PACKAGE_MAX_BYTES"],
        max_total_bytes=config["PACKAGE_MAX_UNCOMPRESSED_BYTES"],
        max_files=config["PACKAGE_MAX_FILES"],
        max_file_bytes=config["PACKAGE_MAX_FILE_BYTES"],
        max_file_ratio=config["PACKAGE_MAX_FILE_RATIO"],
        max_total_ratio=config["PACKAGE_MAX_TOTAL_RATIO"],
    )


def limits_from_app() -> ZipLimits:
    return limits_from(current_app.config)


def storage_root() -> Path:
    return Path(current_app.instance_path) / STORAGE_FOLDER


def version_folder(version: PackageVersion) -> Path:
    """Where a version's files are (the player serves them from here)."""
    return storage_root() / version.storage_key


def version_zip(version: PackageVersion) -> Path:
    """The version as a zip, for a course exported as files (``packages/<slug>.zip``).

    The zip as it was uploaded (kept by ``import_package`` since exports carry packages), so that importing
    the export finds the same SHA-256 and the same version. A version stored before that has only its
    extracted files: they are zipped again, deterministically, once (``<sha256>.rebuilt.zip``); the files
    are the same, the zip's digest is not, so importing it elsewhere is a new version of the same files."""
    kept = storage_root() / ZIPS_FOLDER / f"{version.sha256}.zip"
    if kept.is_file():
        return kept
    rebuilt = kept.with_name(f"{version.sha256}.rebuilt.zip")
    if not rebuilt.is_file():
        folder = version_folder(version)
        files = sorted(p for p in folder.rglob("*") if p.is_file() and not p.is_symlink())
        _write_atomically(rebuilt, lambda sink: _zip_files(folder, files, sink))
    return rebuilt


def _zip_files(folder: Path, files: list[Path], sink: IO[bytes]) -> None:
    with zipfile.ZipFile(sink, "w", zipfile.ZIP_DEFLATED) as archive:
        for path in files:
            info = zipfile.ZipInfo(path.relative_to(folder).as_posix(), date_time=(2020, 1, 1, 0, 0, 0))
            info.compress_type = zipfile.ZIP_DEFLATED
            info.external_attr = 0o100644 << 16
            with open(path, "rb") as source, archive.open(info, "w") as target:
                shutil.copyfileobj(source, target, 1024 * 1024)


def _keep_zip(source: Path, digest: str) -> None:
    kept = storage_root() / ZIPS_FOLDER / f"{digest}.zip"
    if not kept.is_file():

        def copy(sink: IO[bytes]) -> None:
            with open(source, "rb") as handle:
                shutil.copyfileobj(handle, sink, 1024 * 1024)

        _write_atomically(kept, copy)


def _write_atomically(target: Path, write: Callable[[IO[bytes]], None]) -> None:
    """``write(file)`` into a temporary file beside ``target``, renamed into place: complete or absent."""
    target.parent.mkdir(parents=True, exist_ok=True)
    handle = tempfile.NamedTemporaryFile(prefix=".incoming-", dir=target.parent, delete=False)  # noqa: SIM115
    staging = Path(handle.name)
    try:
        with handle:
            write(handle)
        os.replace(staging, target)
    finally:
        staging.unlink(missing_ok=True)


def slugify(text: str, fallback: str = "package") -> str:
    ascii_text = unicodedata.normalize("NFKD", text).encode("ascii", "ignore").decode().lower()
    return _SLUG_CHARACTERS.sub("-", ascii_text).strip("-")[:60].strip("-") or fallback


def save_upload(stream: IO[bytes], limits: ZipLimits) -> Path:
    """An uploaded file -> a temporary file under the storage folder (removed by the caller), refused past
    the size limit while it is read."""
    root = storage_root()
    root.mkdir(parents=True, exist_ok=True)
    handle = tempfile.NamedTemporaryFile(prefix=".upload-", suffix=".zip", dir=root, delete=False)  # noqa: SIM115
    path = Path(handle.name)
    try:
        with handle:
            written = 0
            while chunk := stream.read(64 * 1024):
                written += len(chunk)
                if written > limits.max_zip_bytes:
                    raise ValidationFailed(
                        _(
                            "The file is larger than the %(limit)s MB allowed.",
                            limit=limits.max_zip_bytes // 1024**2,
                        )
                    )
                handle.write(chunk)
    except BaseException:
        path.unlink(missing_ok=True)
        raise
    return path


def import_package(
    module: Module,
    source: Path,
    *,
    actor: User | None,
    package: Package | None = None,
    slug: str | None = None,
) -> ImportResult:
    """Import the zip at ``source`` into ``module``: a new package (``slug`` given or taken from the title),
    or a new version of ``package`` (or of the module's course's package with that ``slug``).
    Raises ValidationFailed with the refusal's message; nothing is stored then."""
    limits = limits_from(current_app.config)
    try:
        contents = inspect_zip(source, limits)
        manifest = parse_manifest(read_member(source, MANIFEST_NAME, MAX_MANIFEST_BYTES), contents.names)
    except PackageRefused as refused:
        raise ValidationFailed(refused.message) from None
    digest = file_sha256(source)
    course = module.course
    if package is None and slug is not None:
        package = db.session.scalar(
            select(Package).where(Package.course_id == course.id, Package.slug == slug)
        )
    if package is not None and package.course_id != course.id:
        raise NotFound(_("This package belongs to another course."))
    outcome = "new_version"
    if package is None:
        package = Package(
            course_id=course.id,
            module_id=module.id,
            slug=_free_slug(course, slug or slugify(manifest.title)),
            name=manifest.title,
        )
        db.session.add(package)
        outcome = "created"
    elif package.current_version is not None and package.current_version.sha256 == digest:
        _sync_lessons(package, package.current_version)  # the module's text lessons may have moved
        course.updated_at = utcnow()
        _keep_zip(source, digest)  # a version stored before zips were kept gets its zip now
        return ImportResult(package, package.current_version, "unchanged")
    version = _add_version(package, manifest, digest, contents.total_bytes, contents.file_count, actor)
    _sync_lessons(package, version)
    course.updated_at = utcnow()  # the published outline's snapshot is keyed on it (lms.courses.published)
    db.session.flush()
    record_event(
        "package.imported",
        "package",
        package.id,
        actor_id=actor.id if actor else None,
        after={"version": version.number, "sha256": digest, "scorm": version.scorm_version},
    )
    destination = storage_root() / digest
    if not destination.is_dir():
        try:
            extract_zip(source, contents, destination, limits)
        except PackageRefused as refused:
            raise ValidationFailed(refused.message) from None
    _keep_zip(source, digest)
    return ImportResult(package, version, outcome)


def file_sha256(path: Path) -> str:
    """The hex SHA-256 of a file, read in pieces (a package's zip, as stored and as exported)."""
    with open(path, "rb") as handle:
        return hashlib.file_digest(handle, "sha256").hexdigest()


def _free_slug(course: Course, wanted: str) -> str:
    taken = set(db.session.scalars(select(Package.slug).where(Package.course_id == course.id)))
    slug, number = wanted, 2
    while slug in taken:
        slug, number = f"{wanted}-{number}", number + 1
    return slug


def _add_version(
    package: Package, manifest: Manifest, digest: str, size: int, count: int, actor: User | None
) -> PackageVersion:
    number = 1
    if package.id is not None:
        # PostgreSQL: two uploads of a version at once take turns here (SQLite: the POST is BEGIN IMMEDIATE).
        db.session.execute(select(Package.id).where(Package.id == package.id).with_for_update())
        last = db.session.scalar(
            select(func.max(PackageVersion.number)).where(PackageVersion.package_id == package.id)
        )
        number += last or 0
    version = PackageVersion(
        number=number,
        sha256=digest,
        scorm_version=manifest.scorm_version,
        title=manifest.title,
        size_bytes=size,
        file_count=count,
        uploaded_by_id=actor.id if actor else None,
    )
    for position, item in enumerate(manifest.items):
        version.items.append(
            PackageItem(
                identifier=item.identifier,
                title=item.title,
                kind=item.kind,
                href=item.href,
                parameters=item.parameters,
                mastery_score=item.mastery_score,
                scaled_passing_score=item.scaled_passing_score,
                completion_threshold=item.completion_threshold,
                data_from_lms=item.data_from_lms,
                position=position,
            )
        )
    package.versions.append(version)
    db.session.flush()
    package.current_version = version
    return version


def _sync_lessons(package: Package, version: PackageVersion) -> None:
    """One lesson per item, in manifest order, after the module's text lessons and the lessons of its
    older packages; an item gone from the new version unpublishes its lesson (completions stay)."""
    module = db.session.get(Module, package.module_id)
    assert module is not None  # noqa: S101 (the foreign key says so)
    own = {
        lesson.package_item_identifier: lesson for lesson in module.lessons if lesson.package_id == package.id
    }
    before = [
        lesson.position
        for lesson in module.lessons
        if lesson.package_id is None or (lesson.package_id != package.id and lesson.package_id < package.id)
    ]
    start = max(before, default=-1) + 1
    slugs = {lesson.slug for lesson in module.lessons}
    for item in version.items:
        lesson = own.pop(item.identifier, None)
        if lesson is None:
            lesson = Lesson(
                slug=_lesson_slug(package.slug, item.identifier, slugs),
                title=item.title,
                package_id=package.id,
                package_item_identifier=item.identifier,
            )
            slugs.add(lesson.slug)
            module.lessons.append(lesson)
        lesson.title = item.title
        lesson.position = start + item.position
        lesson.is_published = True
    for gone in own.values():
        gone.is_published = False


def _lesson_slug(package_slug: str, identifier: str, taken: set[str]) -> str:
    wanted = f"{package_slug}-{slugify(identifier, 'item')}"[:76].strip("-")
    slug, number = wanted, 2
    while slug in taken:
        slug, number = f"{wanted}-{number}", number + 1
    return slug
