"""TOTP (RFC 6238: HMAC-SHA1, 30 s steps, 6 digits) through pyotp, so that any authenticator app
works. This module only fixes the academy's choices around it: the secret's form (base32 without
padding, 160 bits: what is stored in ``two_factor_credential.secret``), one step of clock drift either
side, the step a code matched (the caller stores it so that one code cannot be replayed), and how a
typed code is read (spaces dropped; digits of any script, such as Arabic-Indic, read as 0-9)."""

from __future__ import annotations

import time

import pyotp

STEP_SECONDS = 30
DIGITS = 6
SECRET_CHARS = 32  # base32 characters: 160 bits, the size RFC 4226 recommends for HMAC-SHA1


def new_secret() -> str:
    """A random shared secret, base32 without padding (what authenticator apps expect)."""
    return pyotp.random_base32(SECRET_CHARS)


def _totp(secret: str) -> pyotp.TOTP:
    return pyotp.TOTP("".join(secret.split()).upper(), digits=DIGITS, interval=STEP_SECONDS)


def code_at(secret: str, at: float | None = None) -> str:
    return _totp(secret).at(time.time() if at is None else at)


def _typed_code(code: str) -> str | None:
    """The code as ASCII digits, or None if it is not ``DIGITS`` decimal digits (after dropping
    spaces). ``str.isdecimal`` holds only for characters ``int`` reads as one digit."""
    code = "".join(code.split())
    if len(code) != DIGITS or not code.isdecimal():
        return None
    return "".join(str(int(char)) for char in code)


def matching_step(secret: str, code: str, *, at: float | None = None, drift_steps: int = 1) -> int | None:
    """The time step whose code equals ``code`` (this step, or ``drift_steps`` either side for clock
    drift), else None. The caller stores the step so that one code cannot be replayed."""
    typed = _typed_code(code)
    if typed is None:
        return None
    try:
        return _totp(secret).verify_and_get_timecode(
            typed, for_time=time.time() if at is None else at, valid_window=drift_steps
        )
    except pyotp.OTPVerificationError:
        return None


def provisioning_uri(secret: str, account: str, issuer: str) -> str:
    """The otpauth:// URI that authenticator apps read from a QR code."""
    return _totp(secret).provisioning_uri(name=account, issuer_name=issuer)
