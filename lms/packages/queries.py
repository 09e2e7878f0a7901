"""Read side of the package pages: a module's packages with their versions and items."""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.orm import selectinload

from lms.courses.models import Module
from lms.extensions import db
from lms.packages.models import Package, PackageVersion


def module_by_slug(course_id: int, slug: str) -> Module | None:
    return db.session.scalar(select(Module).where(Module.course_id == course_id, Module.slug == slug))


def module_packages(module_id: int) -> list[Package]:
    """The module's packages (oldest first), each with its versions and their items, in three queries."""
    return list(
        db.session.scalars(
            select(Package)
            .where(Package.module_id == module_id)
            .order_by(Package.id)
            .options(selectinload(Package.versions).selectinload(PackageVersion.items))
        )
    )


def course_packages(course_id: int) -> list[tuple[str, Package]]:
    """(module slug, package) for each package of the course that has a version, module by module and
    oldest package first (the order their lessons take in the module), current version loaded."""
    rows = db.session.execute(
        select(Module.slug, Package)
        .join(Module, Module.id == Package.module_id)
        .where(Package.course_id == course_id, Package.current_version_id.is_not(None))
        .order_by(Module.position, Module.id, Package.id)
        .options(selectinload(Package.current_version))
    ).all()
    return [(slug, package) for slug, package in rows]
