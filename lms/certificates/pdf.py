"""The certificate PDF: HTML/CSS rendered by WeasyPrint, with a QR code of the verify URL.

WeasyPrint lays text out with the system's Pango and HarfBuzz, which join Arabic letters and order
right-to-left runs; the template names the DejaVu fonts installed with the system, so no font is
fetched at run time. The PDF is made once, at issue, and stored: see services.issue.
"""

from __future__ import annotations

import threading
import unicodedata

import segno
from weasyprint import HTML
from weasyprint.text.fonts import FontConfiguration

# WeasyPrint builds a fontconfig/Pango font map for every document unless given one: about a quarter
# of a certificate's rendering time here (77 -> 58 ms a page). One per thread, reused by every PDF
# that thread renders (a bulk issue renders hundreds), because Pango font maps are not thread-safe.
_fonts = threading.local()


def qr_svg_data_uri(url: str) -> str:
    """An SVG QR code (error correction M, quiet zone kept) as a data: URI for an <img>."""
    return str(segno.make(url, error="m", micro=False).svg_data_uri(scale=4, border=4))


def text_direction(text: str | None) -> str:
    """'rtl' when the first strongly directional letter is right-to-left (Arabic, Hebrew), else 'ltr'."""
    for char in text or "":
        kind = unicodedata.bidirectional(char)
        if kind in ("R", "AL"):
            return "rtl"
        if kind == "L":
            return "ltr"
    return "ltr"


def font_configuration() -> FontConfiguration:
    configuration = getattr(_fonts, "configuration", None)
    if configuration is None:
        configuration = _fonts.configuration = FontConfiguration()
    return configuration


def html_to_pdf(html: str) -> bytes:
    pdf = HTML(string=html, base_url=None).write_pdf(font_config=font_configuration())
    if not isinstance(pdf, bytes):
        raise RuntimeError("WeasyPrint returned no PDF")
    return pdf
