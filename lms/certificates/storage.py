"""Where certificates' files live: the PDFs under the instance folder (the signing keys are there too)."""

from __future__ import annotations

from pathlib import Path

from flask import current_app

from lms.certificates.models import Certificate

PDF_FOLDER = "certificates"
PDF_PENDING = ""  # pdf_sha256 of a certificate whose PDF is not stored yet (rendered after the commit)


def instance_dir() -> Path:
    return Path(current_app.instance_path)


def pdf_path(certificate: Certificate) -> Path:
    return instance_dir() / PDF_FOLDER / certificate.pdf_file


def english_pdf_path(certificate: Certificate) -> Path:
    """The English companion of a certificate issued in another language (same code, same facts)."""
    return instance_dir() / PDF_FOLDER / f"{Path(certificate.pdf_file).stem}.en.pdf"
