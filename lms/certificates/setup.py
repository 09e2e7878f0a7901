"""Wiring of the certificates feature into the app (called from lms.app_setup)."""

from __future__ import annotations

from flask import Flask

from lms.certificates import codes
from lms.certificates.issuer import DEFAULT_PUBLIC_BASE_URL
from lms.certificates.services import connect_signals


def init_certificates(app: Flask) -> None:
    # PUBLIC_BASE_URL is the address the academy is reached at: it makes the did:web identifier
    # and the verify URLs printed in QR codes (LMS_PUBLIC_BASE_URL in production).
    app.config.setdefault("PUBLIC_BASE_URL", DEFAULT_PUBLIC_BASE_URL)
    app.config.setdefault("CERTIFICATE_VERIFY_LIMIT", 30)  # lookups per client per window
    app.config.setdefault("CERTIFICATE_VERIFY_WINDOW_SECONDS", 600)
    connect_signals()  # issues automatically on lms.enrolment's enrolment_completed
    # Codes are stored plain and shown grouped for humans (K7QM-2XRT-93FD) wherever they appear.
    app.add_template_filter(codes.grouped, "certificate_code")
