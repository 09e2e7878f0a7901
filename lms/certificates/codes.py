"""Certificate codes: 12 random Crockford base32 characters (60 bits), shown as K7QM-2XRT-93FD.

Crockford's alphabet leaves out I, L, O and U, so a code read aloud or typed from paper survives
the usual confusions; `normalise` maps them back (O->0, I/L->1) and drops spaces and dashes.
"""

from __future__ import annotations

import secrets

ALPHABET = "0123456789ABCDEFGHJKMNPQRSTVWXYZ"
CODE_LENGTH = 12
_CONFUSABLE = str.maketrans({"O": "0", "I": "1", "L": "1"})


def new_code() -> str:
    return "".join(secrets.choice(ALPHABET) for _ in range(CODE_LENGTH))


def grouped(code: str) -> str:
    return "-".join(code[i : i + 4] for i in range(0, len(code), 4))


def normalise(typed: str) -> str | None:
    """The stored form of a code a person typed, or None when it cannot be one."""
    cleaned = "".join(ch for ch in typed.upper() if ch not in " -\t").translate(_CONFUSABLE)
    if len(cleaned) != CODE_LENGTH or any(ch not in ALPHABET for ch in cleaned):
        return None
    return cleaned
