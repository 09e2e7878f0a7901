"""TOTP (RFC 6238, HMAC-SHA1, 30 s steps, 6 digits) as pure functions, so that any authenticator
app works and the logic is tested against the RFC's own test vectors without an app."""

from __future__ import annotations

import base64
import hmac
import secrets
import struct
import time
from urllib.parse import quote, urlencode

STEP_SECONDS = 30
DIGITS = 6
SECRET_BYTES = 20  # 160 bits, the size RFC 4226 recommends for HMAC-SHA1


def new_secret() -> str:
    """A random shared secret, base32 without padding (what authenticator apps expect)."""
    return base64.b32encode(secrets.token_bytes(SECRET_BYTES)).decode().rstrip("=")


def _key(secret: str) -> bytes:
    cleaned = secret.replace(" ", "").upper()
    return base64.b32decode(cleaned + "=" * (-len(cleaned) % 8))


def hotp(key: bytes, counter: int, digits: int = DIGITS, digest: str = "sha1") -> str:
    """RFC 4226 section 5.3: dynamic truncation of HMAC(key, counter)."""
    mac = hmac.new(key, struct.pack(">Q", counter), digest).digest()
    offset = mac[-1] & 0x0F
    code = (struct.unpack(">I", mac[offset : offset + 4])[0] & 0x7FFFFFFF) % (10**digits)
    return str(code).zfill(digits)


def time_step(at: float | None = None) -> int:
    return int((time.time() if at is None else at) // STEP_SECONDS)


def code_at(secret: str, at: float | None = None) -> str:
    return hotp(_key(secret), time_step(at))


def matching_step(secret: str, code: str, *, at: float | None = None, drift_steps: int = 1) -> int | None:
    """The time step whose code equals ``code`` (this step, or one either side for clock drift),
    else None. The caller stores the step so that one code cannot be replayed."""
    code = "".join(code.split())
    if len(code) != DIGITS or not code.isdigit():
        return None
    key = _key(secret)
    now = time_step(at)
    found = None
    for step in range(now - drift_steps, now + drift_steps + 1):
        if hmac.compare_digest(hotp(key, step), code):  # every candidate checked: constant work
            found = step
    return found


def provisioning_uri(secret: str, account: str, issuer: str) -> str:
    """The otpauth:// URI that authenticator apps read from a QR code."""
    label = quote(f"{issuer}:{account}", safe="@:")
    query = urlencode({"secret": secret, "issuer": issuer, "digits": DIGITS, "period": STEP_SECONDS})
    return f"otpauth://totp/{label}?{query}"
