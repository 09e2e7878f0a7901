"""Paper evidence of a session: the printable sign-in sheet PDF and the scans of signed sheets.

The sheet is HTML/CSS rendered by WeasyPrint (as certificates are): every participant's name in their own
script (User.native_name) beside the Latin letters, their authority and an empty signature column, the
table's header repeated on every page. The CSS names Noto Sans, Noto Sans Arabic and Noto Sans Georgian
(fonts-noto-core, installed with the system): fontconfig picks the face that has each letter, so Arabic,
Cyrillic and Georgian names print as letters, not boxes, and no font is fetched at run time.

A scan is accepted only when its bytes are a PDF, PNG or JPEG (the magic bytes, never the name or the
browser's declared type) and it is at most ``MAX_SCAN_BYTES``; it is stored under the instance folder
with a random name and its upload is audited.
"""

from __future__ import annotations

import hashlib
import secrets
from dataclasses import dataclass
from pathlib import Path

from flask import current_app, render_template
from flask_babel import gettext as _
from weasyprint import HTML

from lms.audit.services import record_event
from lms.errors import NotFound, ValidationFailed
from lms.extensions import db
from lms.sessions.models import SignInSheetScan, TrainingSession
from lms.sessions.register_queries import RegisterLine

SCAN_FOLDER = "sign-in-sheets"
MAX_SCAN_BYTES = 10 * 1024 * 1024


@dataclass(frozen=True)
class ScanKind:
    extension: str
    content_type: str


PDF = ScanKind("pdf", "application/pdf")
PNG = ScanKind("png", "image/png")
JPEG = ScanKind("jpg", "image/jpeg")


def sniff_scan(data: bytes) -> ScanKind | None:
    """PDF, PNG or JPEG from the magic bytes; None for anything else."""
    if data.startswith(b"%PDF-"):
        return PDF
    if data.startswith(b"\x89PNG\r\n\x1a\n"):
        return PNG
    if data.startswith(b"\xff\xd8\xff"):
        return JPEG
    return None


def sign_in_sheet_pdf(
    session: TrainingSession,
    run_title: str,
    lines: list[RegisterLine],
    *,
    academy_name: str,
    when: str,
    venue: str,
) -> bytes:
    """The sheet of one session; ``when`` and ``venue`` come formatted for the reader (the venue's zone)."""
    html = render_template(
        "sessions/attendance_sheet_pdf.html",
        session=session,
        run_title=run_title,
        lines=lines,
        academy_name=academy_name,
        when=when,
        venue=venue,
    )
    pdf = HTML(string=html, base_url=None).write_pdf()
    if not isinstance(pdf, bytes):
        raise RuntimeError("WeasyPrint returned no PDF")
    return pdf


def scan_folder() -> Path:
    return Path(current_app.instance_path) / SCAN_FOLDER


def store_scan(session: TrainingSession, filename: str, data: bytes, *, actor_id: int) -> SignInSheetScan:
    """Keep a scanned signed sheet as evidence; refused (nothing stored) unless it is a PDF, PNG or JPEG
    of at most 10 MB."""
    limit = int(current_app.config.get("SIGN_IN_SHEET_MAX_BYTES", MAX_SCAN_BYTES))
    if not data:
        raise ValidationFailed(_("Choose the scanned sheet to upload."))
    if len(data) > limit:
        raise ValidationFailed(_("The file is too large: at most %(size)s MB.", size=limit // (1024 * 1024)))
    kind = sniff_scan(data)
    if kind is None:
        raise ValidationFailed(
            _("%(name)s is not a PDF, PNG or JPEG file (judged by its content, not its name).", name=filename)
        )
    stored_name = f"{secrets.token_hex(16)}.{kind.extension}"
    folder = scan_folder()
    folder.mkdir(parents=True, exist_ok=True)
    (folder / stored_name).write_bytes(data)
    scan = SignInSheetScan(
        session_id=session.id,
        stored_name=stored_name,
        original_name=(filename or "scan")[:255],
        content_type=kind.content_type,
        size=len(data),
        sha256=hashlib.sha256(data).hexdigest(),
        uploaded_by_id=actor_id,
    )
    db.session.add(scan)
    db.session.flush()
    record_event(
        "attendance.sheet_upload", "sign_in_sheet_scan", scan.id, actor_id=actor_id,
        after={"session_id": session.id, "name": scan.original_name, "size": scan.size,
               "sha256": scan.sha256},
    )  # fmt: skip
    return scan


def scan_path(scan: SignInSheetScan) -> Path:
    path = scan_folder() / scan.stored_name
    if not path.is_file():
        raise NotFound(_("The file of this scanned sheet is missing."))
    return path
