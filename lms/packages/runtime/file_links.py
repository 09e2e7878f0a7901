"""Signed, short-lived links to a package version's files (issue 25, docs/packages.md "Isolation").

The package runs in a sandboxed frame with an opaque origin, which sends no SameSite cookie and must not
need one: the frame's URL carries a signed token naming the version, the enrolment and the lesson, valid
for ``PACKAGE_LINK_SECONDS``. The package's relative links stay under the same token, so its pages,
scripts and media load with no cookie at all; the file responses never read the session.
"""

from __future__ import annotations

import hashlib
import hmac
from dataclasses import dataclass

from flask import current_app
from itsdangerous import BadSignature, URLSafeTimedSerializer

DEFAULT_LINK_SECONDS = 8 * 3600  # a long lesson; the player page makes a new link on every opening
_SALT = "lms.packages.files"


@dataclass(frozen=True)
class FileGrant:
    version_id: int
    enrolment_id: int
    lesson_id: int
    user_id: int


def _serializer() -> URLSafeTimedSerializer:
    return URLSafeTimedSerializer(current_app.config["SECRET_KEY"], salt=_SALT)


def grant_token(grant: FileGrant) -> str:
    return _serializer().dumps([grant.version_id, grant.enrolment_id, grant.lesson_id, grant.user_id])


def read_token(token: str) -> FileGrant | None:
    """The grant a token names, or None when it is forged, malformed or older than the link lifetime."""
    seconds = int(current_app.config.get("PACKAGE_LINK_SECONDS", DEFAULT_LINK_SECONDS))
    try:
        values = _serializer().loads(token, max_age=seconds)
    except (BadSignature, ValueError, TypeError):
        return None
    if not (isinstance(values, list) and len(values) == 4 and all(type(v) is int for v in values)):
        return None
    return FileGrant(*values)


def version_key(version_id: int, sha256: str) -> str:
    """The fixed key in a version's path on the package host (``/package-host/v/<id>/<key>/...``): the same
    URL on every opening, so a service worker can keep the files for offline use. It is a capability for
    the version's files (course content, not learner data; no launch data is in them): it does not expire,
    a new version has a new one, and changing SECRET_KEY revokes them all."""
    secret = str(current_app.config["SECRET_KEY"]).encode()
    message = f"lms.packages.version:{version_id}:{sha256}".encode()
    return hmac.new(secret, message, hashlib.sha256).hexdigest()[:32]
