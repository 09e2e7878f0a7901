"""Recognise an uploaded course asset by its bytes, never by its name or the browser's declared type. Pure."""

from __future__ import annotations

import io
import re
import unicodedata
import warnings
from dataclasses import dataclass

from PIL import ExifTags, Image

MAX_ASSET_BYTES = 5 * 1024 * 1024
ASSET_NAME = re.compile(r"^[a-z0-9]+(?:[-_][a-z0-9]+)*\.(?:png|jpg|gif|webp|pdf)$")


@dataclass(frozen=True)
class AssetKind:
    extension: str
    content_type: str
    is_image: bool


PNG = AssetKind("png", "image/png", True)
JPEG = AssetKind("jpg", "image/jpeg", True)
GIF = AssetKind("gif", "image/gif", True)
WEBP = AssetKind("webp", "image/webp", True)
PDF = AssetKind("pdf", "application/pdf", False)
KINDS = {kind.extension: kind for kind in (PNG, JPEG, GIF, WEBP, PDF)}


def sniff_asset(data: bytes) -> AssetKind | None:
    """PNG, JPEG, GIF, WebP or PDF from the magic bytes; None for anything else (SVG and HTML included:
    they can carry script)."""
    if data.startswith(b"\x89PNG\r\n\x1a\n") and data[12:16] == b"IHDR":
        return PNG
    if data.startswith(b"\xff\xd8\xff"):
        return JPEG
    if data[:6] in (b"GIF87a", b"GIF89a"):
        return GIF
    if data[:4] == b"RIFF" and data[8:12] == b"WEBP":
        return WEBP
    if data.startswith(b"%PDF-"):
        return PDF
    return None


def asset_name(filename: str, kind: AssetKind) -> str:
    """A safe, readable file name: ASCII lowercase words, and the extension of what the bytes really are."""
    stem = filename.rsplit("/", 1)[-1].rsplit("\\", 1)[-1]
    stem = stem.rsplit(".", 1)[0] if "." in stem else stem
    ascii_stem = unicodedata.normalize("NFKD", stem).encode("ascii", "ignore").decode().lower()
    words = re.findall(r"[a-z0-9]+", ascii_stem)
    base = "-".join(words)[:60].strip("-") or "file"
    return f"{base}.{kind.extension}"


# EXIF orientations that turn the picture a quarter: the browser shows it with width and height swapped.
_QUARTER_TURNS = {5, 6, 7, 8}


def image_dimensions(data: bytes) -> tuple[int, int] | None:
    """(width, height) in pixels as a browser shows the image, read from its header by Pillow (only the
    four formats uploads accept; nothing is decoded). None when the bytes are not a readable image."""
    try:
        with warnings.catch_warnings():
            # Only the header is read, so a huge picture costs nothing here: no bomb warning.
            warnings.simplefilter("ignore", Image.DecompressionBombWarning)
            with Image.open(io.BytesIO(data), formats=["PNG", "JPEG", "GIF", "WEBP"]) as image:
                width, height = image.size
                orientation = image.getexif().get(ExifTags.Base.Orientation)
    except Exception:  # any unreadable or hostile file: the image is shown without a size
        return None
    if width <= 0 or height <= 0:
        return None
    return (height, width) if orientation in _QUARTER_TURNS else (width, height)
