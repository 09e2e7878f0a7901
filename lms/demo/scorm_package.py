"""Build the demo courses' SCORM packages from their source: ``courses/<course>/packages/<name>/`` (our own
files, in the repository) -> ``courses/<course>/packages/<name>.zip`` (also committed: course files list
the zip, docs/course-format.md). Run ``python -m lms.demo.scorm_package`` after editing a package's source;
tests/test_packages_course_files.py checks that each zip holds exactly its folder's files.

The zip is reproducible: names in order, one fixed timestamp, plain file modes.
"""

from __future__ import annotations

import sys
import zipfile
from pathlib import Path

from lms.config import COURSES_DIR

FIXED_TIME = (2026, 1, 1, 0, 0, 0)


def source_folders(courses: Path = Path(COURSES_DIR)) -> list[Path]:
    return sorted(path for path in courses.glob("*/packages/*") if path.is_dir())


def build(source: Path) -> Path:
    target = source.with_suffix(".zip")
    with zipfile.ZipFile(target, "w", zipfile.ZIP_DEFLATED) as archive:
        for path in sorted(p for p in source.rglob("*") if p.is_file()):
            info = zipfile.ZipInfo(path.relative_to(source).as_posix(), date_time=FIXED_TIME)
            info.compress_type = zipfile.ZIP_DEFLATED
            info.external_attr = 0o644 << 16
            archive.writestr(info, path.read_bytes())
    return target


def main() -> None:
    for source in source_folders():
        sys.stdout.write(f"{build(source)}\n")


if __name__ == "__main__":
    main()
