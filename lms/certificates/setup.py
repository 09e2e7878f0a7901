"""Wiring of the certificates feature into the app (called from lms.app_setup)."""

from __future__ import annotations

from pathlib import Path

from flask import Flask, current_app

from lms.certificates import codes, identity
from lms.certificates.issuer import DEFAULT_PUBLIC_BASE_URL, academy_issuer
from lms.certificates.keys import ACTIVE_FILE, KEYS_FOLDER
from lms.certificates.services import connect_signals
from lms.ops.health import Check, add_readiness_check


def init_certificates(app: Flask) -> None:
    # PUBLIC_BASE_URL is the address the academy is reached at: it makes the did:web identifier
    # and the verify URLs printed in QR codes (LMS_PUBLIC_BASE_URL in production).
    app.config.setdefault("PUBLIC_BASE_URL", DEFAULT_PUBLIC_BASE_URL)
    app.config.setdefault("CERTIFICATE_VERIFY_LIMIT", 30)  # lookups per client per window
    app.config.setdefault("CERTIFICATE_VERIFY_WINDOW_SECONDS", 600)
    add_readiness_check(app, check_signing_key)  # /readyz: the active key is in instance/
    add_readiness_check(app, check_public_address)  # /readyz: production refuses a loopback base URL
    connect_signals()  # issues automatically on lms.enrolment's enrolment_completed
    # Codes are stored plain and shown grouped for humans (K7QM-2XRT-93FD) wherever they appear.
    app.add_template_filter(codes.grouped, "certificate_code")
    # The admin pages' sub-navigation says, on every page that can issue, why issuing is refused now.
    app.add_template_global(identity.current_issuing_refusal, "certificate_issuing_refusal")


def check_public_address() -> Check:
    """Readiness: production refuses to issue while the base URL is a loopback address."""
    try:
        base_url = academy_issuer().base_url  # the settings row: the database may be down
    except Exception as error:  # readiness reports any failure, it does not crash
        return Check("public_base_url", False, f"{type(error).__name__}: {error}"[:300])
    return identity.check_public_address(base_url)


def check_signing_key() -> Check:
    """Readiness (/readyz, added to lms.ops.health's checks): the active private key is in instance/."""
    folder = Path(current_app.instance_path) / KEYS_FOLDER
    active = folder / ACTIVE_FILE
    if not active.exists():
        return Check("signing_key", False, f"no active key in {folder} (run `flask lms certificates did`)")
    key_id = active.read_text().strip()
    if not (folder / f"{key_id}.pem").exists():
        return Check("signing_key", False, f"private key {key_id}.pem is missing")
    return Check("signing_key", True, key_id)
