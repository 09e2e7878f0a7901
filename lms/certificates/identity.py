"""An issuer identity that survives (issue 23): no issuing from a loopback address in production, and every
did:web identifier the academy ever signed under stays resolvable after a move to another base URL.

Every identifier a credential was issued under is remembered in ``instance/certificate-keys/identifiers``
(one DID a line, kept with the keys and their backups). The DID document is served for whichever host
asks: when the asking address is a remembered identifier, the document carries that identifier as its
``id`` (with every key ever used, as for the current one) and ``alsoKnownAs`` links it to the others.
The procedure for a move is in docs/certificates.md.
"""

from __future__ import annotations

import ipaddress
import os
from pathlib import Path
from urllib.parse import urlsplit

from flask import current_app
from flask_babel import gettext as _

from lms.certificates.issuer import academy_issuer
from lms.certificates.keys import KEYS_FOLDER
from lms.ops.health import Check
from lms.settings.did_web import did_web_from_base_url

IDENTIFIERS_FILE = "identifiers"


def is_loopback(base_url: str) -> bool:
    """True for localhost, 127.0.0.0/8 and ::1 (a did:web no one else can resolve)."""
    host = (urlsplit(base_url).hostname or "").lower().rstrip(".")
    if host == "localhost" or host.endswith(".localhost"):
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def is_production() -> bool:
    """Not TESTING, not debug, and not a local development academy that says so
    (LMS_ALLOW_LOOPBACK_ISSUER=true: `make setup` and `make run` set it for the demo on 127.0.0.1)."""
    config = current_app.config
    return not (current_app.testing or current_app.debug or config.get("ALLOW_LOOPBACK_ISSUER") is True)


def issuing_refusal(base_url: str) -> str | None:
    """Why certificates may not be issued now, or None. Production refuses a loopback base URL: a credential
    signed as did:web:127.0.0.1 can never be verified by anyone else."""
    if is_production() and is_loopback(base_url):
        return _(
            "Certificates cannot be issued while the academy's public address is %(url)s, a loopback "
            "address no one else can reach. Set the public base URL in the academy settings first.",
            url=base_url,
        )
    return None


def current_issuing_refusal() -> str | None:
    """The refusal for the academy's configured base URL (shown on the admin's certificates page)."""
    return issuing_refusal(academy_issuer().base_url)


def _identifiers_path(instance_dir: Path) -> Path:
    folder = Path(instance_dir) / KEYS_FOLDER
    folder.mkdir(parents=True, exist_ok=True, mode=0o700)
    return folder / IDENTIFIERS_FILE


def remembered_identifiers(instance_dir: Path) -> list[str]:
    """Every DID a credential was issued under, oldest first, without repeats."""
    path = _identifiers_path(instance_dir)
    if not path.exists():
        return []
    seen: list[str] = []
    for line in path.read_text().splitlines():
        if line.strip() and line.strip() not in seen:
            seen.append(line.strip())
    return seen


def remember_identifier(instance_dir: Path, did: str) -> None:
    """Append ``did`` once (O_APPEND: two processes racing write it twice at worst; reading ignores that)."""
    if did in remembered_identifiers(instance_dir):
        return
    fd = os.open(_identifiers_path(instance_dir), os.O_WRONLY | os.O_CREAT | os.O_APPEND, 0o644)
    with os.fdopen(fd, "a") as handle:
        handle.write(did + "\n")


def known_identifiers(current_did: str, instance_dir: Path) -> list[str]:
    """The current DID first, then every earlier one."""
    return [current_did] + [did for did in remembered_identifiers(instance_dir) if did != current_did]


def asked_identifier(url_root: str) -> str | None:
    """The did:web a request's address stands for (host, port and the app's path), None if it names none."""
    try:
        return did_web_from_base_url(url_root)
    except ValueError:
        return None


def document_identifier(current_did: str, asked_did: str | None, instance_dir: Path) -> str:
    """The ``id`` of the DID document served to a request for ``asked_did``: a remembered identifier is
    answered as itself; any other address gets the current one."""
    known = known_identifiers(current_did, instance_dir)
    return asked_did if asked_did in known else current_did


def check_public_address(base_url: str) -> Check:
    """Readiness: production with a loopback base URL cannot issue."""
    if is_production() and is_loopback(base_url):
        return Check("public_base_url", False, f"{base_url} is a loopback address: certificates are refused")
    return Check("public_base_url", True, base_url)
