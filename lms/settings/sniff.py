"""Recognise an uploaded logo by its bytes, never by its name or declared type."""

from __future__ import annotations

PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"
JPEG_SIGNATURE = b"\xff\xd8\xff"
MAX_LOGO_BYTES = 512 * 1024


def sniff_raster_image(data: bytes) -> str | None:
    """'png' or 'jpeg' when the bytes are one of those; None otherwise (SVG and everything else: an
    SVG can carry script, and the logo is shown on every page)."""
    if data.startswith(PNG_SIGNATURE) and len(data) > len(PNG_SIGNATURE) + 8 and data[12:16] == b"IHDR":
        return "png"
    if data.startswith(JPEG_SIGNATURE) and data.rstrip(b"\x00").endswith(b"\xff\xd9"):
        return "jpeg"
    return None
