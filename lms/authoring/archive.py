"""Checking an uploaded course zip before a single byte of it is written. Pure: bytes in, files out.

A zip is accepted whole or refused whole: every entry is checked first (path traversal, absolute paths,
drive letters, symlinks, too many files, oversized files or total, declared sizes that lie), and only a zip
with no problem is read into memory.
"""

from __future__ import annotations

import io
import stat
import zipfile
from dataclasses import dataclass
from pathlib import PurePosixPath

MAX_FILES = 500
MAX_FILE_BYTES = 5 * 1024 * 1024
MAX_TOTAL_BYTES = 50 * 1024 * 1024


class ArchiveRejected(ValueError):
    """The zip is refused as a whole; `problems` says why, entry by entry."""

    def __init__(self, problems: list[str]) -> None:
        super().__init__("; ".join(problems))
        self.problems = problems


@dataclass(frozen=True)
class ArchiveLimits:
    max_files: int = MAX_FILES
    max_file_bytes: int = MAX_FILE_BYTES
    max_total_bytes: int = MAX_TOTAL_BYTES


def _entry_problem(info: zipfile.ZipInfo) -> str | None:
    name = info.filename
    if "\\" in name:
        return f"{name}: backslashes are not allowed in paths"
    if name.startswith("/") or (len(name) > 1 and name[1] == ":"):
        return f"{name}: absolute paths are not allowed"
    parts = PurePosixPath(name).parts
    if any(part == ".." for part in parts):
        return f"{name}: '..' in a path would write outside the course folder"
    mode = info.external_attr >> 16
    if stat.S_ISLNK(mode):
        return f"{name}: symbolic links are not allowed"
    if stat.S_IFMT(mode) and not (stat.S_ISREG(mode) or stat.S_ISDIR(mode)):  # no type bits: a plain file
        return f"{name}: only ordinary files and folders are allowed"
    return None


def read_course_zip(data: bytes, limits: ArchiveLimits | None = None) -> tuple[str, dict[str, bytes]]:
    """(course folder name, relative path -> bytes) of a zip holding one course folder.

    The course files may sit at the top of the zip or inside one top-level folder (as Export makes them).
    """
    limits = limits or ArchiveLimits()
    try:
        archive = zipfile.ZipFile(io.BytesIO(data))
    except (zipfile.BadZipFile, ValueError):
        raise ArchiveRejected(["the file is not a zip archive"]) from None
    with archive:
        infos = archive.infolist()
        problems = [p for p in (_entry_problem(info) for info in infos) if p]
        files = [info for info in infos if not info.is_dir()]
        if len(files) > limits.max_files:
            problems.append(f"the zip holds {len(files)} files; at most {limits.max_files} are allowed")
        total = 0
        for info in files:
            total += info.file_size
            if info.file_size > limits.max_file_bytes:
                problems.append(
                    f"{info.filename}: {info.file_size} bytes; "
                    f"a file may have at most {limits.max_file_bytes}"
                )
        if total > limits.max_total_bytes:
            problems.append(f"the zip unpacks to {total} bytes; at most {limits.max_total_bytes} are allowed")
        if problems:
            raise ArchiveRejected(problems)
        names = [PurePosixPath(info.filename) for info in files]
        if not names:
            raise ArchiveRejected(["the zip is empty"])
        top = {name.parts[0] for name in names}
        prefix = ""
        if (
            "course.yml" not in {str(n) for n in names}
            and len(top) == 1
            and all(len(n.parts) > 1 for n in names)
        ):
            prefix = next(iter(top))
        result: dict[str, bytes] = {}
        for info, name in zip(files, names, strict=True):
            relative = PurePosixPath(*name.parts[1:]) if prefix else name
            # Read at most one byte past the limit: a header that lies about the size is caught here.
            with archive.open(info) as handle:
                content = handle.read(limits.max_file_bytes + 1)
            if len(content) > limits.max_file_bytes:
                raise ArchiveRejected([f"{info.filename}: larger than it claims to be"])
            result[relative.as_posix()] = content
        if "course.yml" not in result:
            raise ArchiveRejected(["the zip has no course.yml (at its top or in one top-level folder)"])
        return prefix, result
