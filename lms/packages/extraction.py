"""A package's zip, checked before anything is stored, and extracted safely: pure, no app or database.

``inspect_zip`` reads the central directory only and refuses, with a message naming the entry:

- a file that is not a zip, an encrypted entry, an unsupported compression method;
- a name that is absolute (``/x``, ``C:x``), walks up (``..``), has a backslash, an empty or ``.`` part or a
  control character; a symbolic link (the Unix mode in ``external_attr``);
- two names equal once Unicode-normalised (NFC) and case-folded (``A.html`` and ``a.html``), or a file that
  is also a folder of another entry: they would overwrite each other on some file systems;
- a type outside the allow-list (``ALLOWED_EXTENSIONS``: pages, scripts, styles, data, media, fonts, PDF);
- more files than ``max_files``, a file over ``max_file_bytes``, more than ``max_total_bytes`` uncompressed,
  a file that inflates more than ``max_file_ratio`` times (counted above ``ratio_floor_bytes``: a small
  file is harmless), or a whole zip that inflates more than ``max_total_ratio`` times (zip bombs).

``extract_zip`` then writes the files into a new folder beside the destination and renames it into place,
so the destination is either complete or absent. The sizes in the headers are not trusted: zipfile stops at
the declared size and checks the CRC, and the bytes actually written are counted against the limits again.
"""

from __future__ import annotations

import os
import shutil
import stat
import tempfile
import unicodedata
import zipfile
from dataclasses import dataclass
from pathlib import Path, PurePosixPath

from flask_babel import gettext as _

MANIFEST_NAME = "imsmanifest.xml"
ALLOWED_EXTENSIONS = frozenset(
    {
        # pages, scripts, styles, data and schemas
        "html", "htm", "xhtml", "js", "mjs", "css", "json", "xml", "xsd", "dtd", "txt", "csv", "map",
        # images
        "png", "jpg", "jpeg", "gif", "svg", "webp", "ico", "bmp", "avif",
        # audio and video, captions
        "mp3", "m4a", "ogg", "oga", "wav", "aac", "mp4", "m4v", "webm", "ogv", "vtt", "srt",
        # fonts
        "woff", "woff2", "ttf", "otf", "eot",
        # documents
        "pdf",
    }
)  # fmt: skip
_CHUNK = 64 * 1024


class PackageRefused(Exception):
    """The zip or its manifest is refused; ``message`` is translated and says what is wrong, and where."""

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message


@dataclass(frozen=True)
class ZipLimits:
    max_zip_bytes: int = 200 * 1024 * 1024
    max_total_bytes: int = 500 * 1024 * 1024
    max_files: int = 5000
    max_file_bytes: int = 200 * 1024 * 1024
    max_file_ratio: int = 100
    max_total_ratio: int = 50
    ratio_floor_bytes: int = 1024 * 1024


@dataclass(frozen=True)
class ZipContents:
    names: frozenset[str]  # the files (not folders), as written in the zip
    total_bytes: int  # uncompressed
    file_count: int


def inspect_zip(path: Path, limits: ZipLimits) -> ZipContents:
    """Check every entry of the zip at ``path`` against the rules above; raise PackageRefused on the first."""
    zip_bytes = path.stat().st_size
    if zip_bytes > limits.max_zip_bytes:
        raise PackageRefused(
            _("The file is larger than the %(limit)s MB allowed.", limit=limits.max_zip_bytes // 1024**2)
        )
    try:
        with zipfile.ZipFile(path) as archive:
            entries = archive.infolist()
    except (zipfile.BadZipFile, OSError, ValueError):
        raise PackageRefused(_("The file is not a zip archive.")) from None
    files: list[zipfile.ZipInfo] = []
    seen: dict[str, str] = {}
    for entry in entries:
        _check_entry(entry, limits)
        key = unicodedata.normalize("NFC", entry.filename.rstrip("/")).casefold()
        if key in seen:
            raise PackageRefused(
                _(
                    "The zip holds both '%(first)s' and '%(second)s': names may not differ only by case.",
                    first=seen[key],
                    second=entry.filename,
                )
            )
        seen[key] = entry.filename
        if not entry.is_dir():
            files.append(entry)
    _check_folders(seen)
    if len(files) > limits.max_files:
        raise PackageRefused(_("The zip holds more than %(limit)s files.", limit=limits.max_files))
    total = sum(entry.file_size for entry in files)
    if total > limits.max_total_bytes:
        raise PackageRefused(
            _("The zip unpacks to more than %(limit)s MB.", limit=limits.max_total_bytes // 1024**2)
        )
    if total > limits.ratio_floor_bytes and total > limits.max_total_ratio * max(zip_bytes, 1):
        raise PackageRefused(_("The zip inflates far more than real content does (a zip bomb?)."))
    names = frozenset(entry.filename for entry in files)
    if MANIFEST_NAME not in names:
        raise PackageRefused(
            _("This is not a SCORM package: the zip has no imsmanifest.xml at its top level.")
        )
    return ZipContents(names=names, total_bytes=total, file_count=len(files))


def _check_entry(entry: zipfile.ZipInfo, limits: ZipLimits) -> None:
    name = entry.filename
    if entry.flag_bits & 0x1:
        raise PackageRefused(_("'%(name)s' is encrypted: packages must not be.", name=name))
    if entry.compress_type not in (zipfile.ZIP_STORED, zipfile.ZIP_DEFLATED):
        raise PackageRefused(_("'%(name)s' uses a compression method that is not supported.", name=name))
    if stat.S_ISLNK(entry.external_attr >> 16):
        raise PackageRefused(_("'%(name)s' is a symbolic link: packages may hold only files.", name=name))
    check_name(name)
    if entry.is_dir():
        return
    extension = PurePosixPath(name).suffix.lower().lstrip(".")
    if extension not in ALLOWED_EXTENSIONS:
        raise PackageRefused(_("'%(name)s': this type of file is not allowed in a package.", name=name))
    if entry.file_size > limits.max_file_bytes:
        raise PackageRefused(
            _(
                "'%(name)s' is larger than the %(limit)s MB allowed for one file.",
                name=name,
                limit=limits.max_file_bytes // 1024**2,
            )
        )
    if entry.file_size > limits.ratio_floor_bytes and entry.file_size > limits.max_file_ratio * max(
        entry.compress_size, 1
    ):
        raise PackageRefused(
            _("'%(name)s' inflates far more than real content does (a zip bomb?).", name=name)
        )


def check_name(name: str) -> None:
    """A relative path inside the package, with no way out of its folder."""
    bare = name.rstrip("/")
    if not bare or bare.startswith("/") or (len(bare) > 1 and bare[1] == ":"):
        raise PackageRefused(
            _("'%(name)s' is an absolute path: packages may hold only relative paths.", name=name)
        )
    if "\\" in bare or any(ord(char) < 32 or ord(char) == 127 for char in bare):
        raise PackageRefused(_("'%(name)s' has a character that is not allowed in a file name.", name=name))
    parts = bare.split("/")
    if ".." in parts:
        raise PackageRefused(_("'%(name)s' points outside the package ('..').", name=name))
    if any(part in ("", ".") for part in parts):
        raise PackageRefused(_("'%(name)s' has an empty or '.' part in its path.", name=name))


def _check_folders(seen: dict[str, str]) -> None:
    """A name that is a file and also the folder of another name ('a' and 'a/b') cannot both be written."""
    for key, name in seen.items():
        if name.endswith("/"):
            continue
        parent = key.rpartition("/")[0]
        while parent:
            owner = seen.get(parent)
            if owner is not None and not owner.endswith("/"):
                raise PackageRefused(
                    _("'%(name)s' is inside '%(file)s', which is a file.", name=name, file=owner)
                )
            parent = parent.rpartition("/")[0]


def read_member(path: Path, name: str, limit: int) -> bytes:
    """One file of the zip (the manifest), at most ``limit`` bytes."""
    try:
        with zipfile.ZipFile(path) as archive, archive.open(name) as handle:
            data = handle.read(limit + 1)
    except (zipfile.BadZipFile, OSError, KeyError):
        raise PackageRefused(_("'%(name)s' cannot be read from the zip.", name=name)) from None
    if len(data) > limit:
        raise PackageRefused(_("'%(name)s' is too large.", name=name))
    return data


def extract_zip(path: Path, contents: ZipContents, destination: Path, limits: ZipLimits) -> bool:
    """Write the checked zip's files into ``destination`` (which must not exist yet); False if another
    process stored the same content first (then its folder is kept and ours discarded)."""
    destination.parent.mkdir(parents=True, exist_ok=True)
    staging = Path(tempfile.mkdtemp(prefix=".incoming-", dir=destination.parent))
    try:
        _write_files(path, contents, staging, limits)
        try:
            staging.rename(destination)
        except OSError:
            if destination.is_dir():
                return False
            raise
        return True
    finally:
        if staging.exists():
            shutil.rmtree(staging, ignore_errors=True)


def _write_files(path: Path, contents: ZipContents, staging: Path, limits: ZipLimits) -> None:
    written_total = 0
    try:
        with zipfile.ZipFile(path) as archive:
            for entry in archive.infolist():
                if entry.is_dir() or entry.filename not in contents.names:
                    continue
                target = staging.joinpath(*entry.filename.split("/"))
                target.parent.mkdir(parents=True, exist_ok=True)
                written = 0
                with archive.open(entry) as source, open(target, "xb") as sink:
                    while chunk := source.read(_CHUNK):
                        written += len(chunk)
                        written_total += len(chunk)
                        if written > limits.max_file_bytes or written_total > limits.max_total_bytes:
                            raise PackageRefused(_("The zip unpacks to more than its headers say."))
                        sink.write(chunk)
                os.chmod(target, 0o644)
    except (zipfile.BadZipFile, OSError, NotImplementedError, EOFError) as error:
        raise PackageRefused(_("The zip is damaged: %(error)s", error=str(error))) from None
