"""A course's SCORM packages as its course files list them (issue 25): ``packages/<slug>.zip`` in the
module that holds the package, the zip being the current version's (lms.packages.services.version_zip).

Packages are live, not part of a draft: they are uploaded on their own pages and a new version counts at
once. So a draft document never holds them (``to_document`` leaves them out); the export and the draft
check take them from the database, by module slug, at the time they run.
"""

from __future__ import annotations

from pathlib import Path

from lms.content.loader import CourseSpec, PackageFileSpec
from lms.courses.models import Course
from lms.packages.queries import course_packages
from lms.packages.services import file_sha256, version_zip


def package_files(course: Course) -> dict[str, list[PackageFileSpec]]:
    """Module slug -> the module's packages as course files, in the order their lessons take."""
    found: dict[str, list[PackageFileSpec]] = {}
    for module_slug, package in course_packages(course.id):
        version = package.current_version
        assert version is not None  # noqa: S101 (the query keeps only packages with a version)
        path = version_zip(version)
        digest = version.sha256 if path.name == f"{version.sha256}.zip" else file_sha256(path)
        found.setdefault(module_slug, []).append(
            PackageFileSpec(
                slug=package.slug, file=f"packages/{package.slug}.zip", sha256=digest, source=str(path)
            )
        )
    return found


def attach_packages(spec: CourseSpec, packages: dict[str, list[PackageFileSpec]]) -> CourseSpec:
    """The spec with each module's packages set from ``packages`` (a module the spec lacks: left out)."""
    for module in spec.modules:
        module.packages = list(packages.get(module.slug, []))
    return spec


def package_zips(spec: CourseSpec) -> dict[str, bytes]:
    """File name in the course folder -> the zip's bytes, for every package the spec lists."""
    return {
        package.file: Path(package.source).read_bytes()
        for module in spec.modules
        for package in module.packages
    }
