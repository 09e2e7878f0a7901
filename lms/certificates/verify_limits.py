"""Rate limiting the public verify page."""

from __future__ import annotations

import hashlib

from flask import current_app
from flask_babel import gettext as _

from lms.db import begin_writing
from lms.errors import LmsError
from lms.extensions import db
from lms.ops import ratelimit


class RateLimited(LmsError):
    status_code = 429


def count_verify_lookup(client_address: str | None) -> None:
    """Count one lookup for this client in the current window; raise RateLimited past the limit.

    The count is the shared limiter's (lms.ops.ratelimit: Redis, or its database table), keyed by a
    hash of the secret key and the address so no address is stored. Without Redis the hit goes
    through the session: call at the start of a writing transaction and commit, refused or not."""
    limit = int(current_app.config.get("CERTIFICATE_VERIFY_LIMIT", 30))
    seconds = int(current_app.config.get("CERTIFICATE_VERIFY_WINDOW_SECONDS", 600))
    if not ratelimit.hit(verify_rate_key(client_address), limit, seconds):
        raise RateLimited(_("Too many verification requests. Please wait a few minutes and try again."))


def count_verify_lookup_kept(client_address: str | None) -> None:
    """The public verify pages' count (GET pages: the verify URL is what a QR code holds), kept
    whatever the page then answers: an unknown code (404) and a refusal (429) count too. The one
    write of these GET requests, named here on purpose: it ends the page's reading transaction
    (lms.db.begin_writing, which sets g.write_intent), counts, and commits the count at once, before
    the refusal or the rest of the page (docs/architecture.md "Unit of work")."""
    begin_writing()
    try:
        count_verify_lookup(client_address)
    except RateLimited:
        db.session.commit()  # the refused lookup is counted too; the request rolls back nothing of it
        raise
    db.session.commit()  # kept even if the page answers 404 for an unknown code


def verify_rate_key(client_address: str | None) -> str:
    secret = str(current_app.config["SECRET_KEY"])
    return "verify:" + hashlib.sha256(f"{secret}:{client_address or '-'}".encode()).hexdigest()
