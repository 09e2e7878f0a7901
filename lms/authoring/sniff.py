"""Recognise an uploaded course asset by its bytes, never by its name or the browser's declared type. Pure."""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass

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
