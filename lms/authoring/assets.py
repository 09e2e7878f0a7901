"""A course's files (images and documents): storing, deleting and serving them to those who may see them.

Services flush and raise LmsError subclasses; the unit of work commits.
"""

from __future__ import annotations

import hashlib
from pathlib import Path

from flask import current_app
from flask_babel import gettext as _
from sqlalchemy import select

from lms.auth.models import User
from lms.authoring.lesson_files import (
    ServedFile,
    folder_files,
    record_upload_size,
    rerender_lessons,
    served_file,
    uploads_dir,
)
from lms.authoring.models import CourseAsset
from lms.authoring.sniff import ASSET_NAME, MAX_ASSET_BYTES, asset_name, sniff_asset
from lms.authoring.trainers import can_edit
from lms.courses.models import Course
from lms.enrolment.models import ACTIVE_STATUSES, CourseRun, Enrolment
from lms.errors import NotFound, ValidationFailed
from lms.extensions import db

# --- assets --------------------------------------------------------------------------------------------


def course_assets(course_id: int) -> list[CourseAsset]:
    return list(
        db.session.scalars(
            select(CourseAsset).where(CourseAsset.course_id == course_id).order_by(CourseAsset.name)
        )
    )


def store_asset(
    actor: User | None, course: Course, filename: str, data: bytes, name: str | None = None
) -> CourseAsset:
    """Keep an image or PDF for a course; refused unless its bytes really are one."""
    limit = int(current_app.config.get("AUTHORING_MAX_ASSET_BYTES", MAX_ASSET_BYTES))
    if len(data) > limit:
        raise ValidationFailed(_("The file is too large: at most %(size)s MB.", size=limit // (1024 * 1024)))
    kind = sniff_asset(data)
    if kind is None:
        raise ValidationFailed(
            _(
                "%(name)s is not a PNG, JPEG, GIF or WebP image or a PDF "
                "(judged by its content, not its name).",
                name=filename,
            )
        )
    wanted = name or asset_name(filename, kind)
    if not ASSET_NAME.match(wanted) or not wanted.endswith("." + kind.extension):
        raise ValidationFailed(_("%(name)s: the name does not match what the file is.", name=wanted))
    digest = hashlib.sha256(data).hexdigest()
    existing = {a.name: a for a in course_assets(course.id)}
    final = wanted
    counter = 2
    while final in existing and existing[final].sha256 != digest:
        stem, ext = wanted.rsplit(".", 1)
        final = f"{stem}-{counter}.{ext}"
        counter += 1
    if final in existing:
        return existing[final]
    folder = uploads_dir(course.id)
    folder.mkdir(parents=True, exist_ok=True)
    (folder / digest).write_bytes(data)
    if kind.is_image:
        record_upload_size(course.id, digest, data)  # measured once, here: lessons render with the size
    asset = CourseAsset(
        course_id=course.id,
        name=final,
        content_type=kind.content_type,
        size=len(data),
        sha256=digest,
        uploaded_by_id=actor.id if actor else None,
    )
    db.session.add(asset)
    db.session.flush()
    rerender_lessons(course, final)  # lessons that already link this name get its size
    return asset


def delete_asset(course: Course, name: str) -> None:
    asset = db.session.scalar(
        select(CourseAsset).where(CourseAsset.course_id == course.id, CourseAsset.name == name)
    )
    if asset is None:
        raise NotFound(_("No such file."))
    db.session.delete(asset)
    db.session.flush()
    rerender_lessons(course, name)


def asset_bytes(course: Course) -> dict[str, bytes]:
    """Every file lessons can link, as served: the course folder's files, overridden by uploads."""
    result = {name: served.path.read_bytes() for name, served in folder_files(course.slug).items()}
    for asset in course_assets(course.id):
        path = uploads_dir(course.id) / asset.sha256
        if path.is_file():
            result[asset.name] = path.read_bytes()
    return result


def can_view_files(user: User, course: Course) -> bool:
    """Trainees enrolled in the course, its trainers, admins."""
    if can_edit(user, course.id):
        return True
    return (
        db.session.scalar(
            select(Enrolment.id)
            .join(CourseRun, CourseRun.id == Enrolment.run_id)
            .where(
                CourseRun.course_id == course.id,
                Enrolment.user_id == user.id,
                Enrolment.status.in_(ACTIVE_STATUSES),
            )
            .limit(1)
        )
        is not None
    )


def viewable_asset(user: User, slug: str, name: str) -> tuple[ServedFile, Path]:
    course = db.session.scalar(select(Course).where(Course.slug == slug))
    if course is None or not can_view_files(user, course):
        raise NotFound(_("No such file."))
    found = served_file(course, name)
    if found is None:
        raise NotFound(_("No such file."))
    return found, found.path
