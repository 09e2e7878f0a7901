"""Password policy (ASVS 5.0 V6.2): a minimum length, no upper limit below 64 characters, no
composition rules, and no password from a list of commonly used passwords. ``check_new_password`` is
what registration, a password change, a reset and an admin-created account call.

It lives in auth, below security: auth checks a new password itself and never imports security.

The list is ``common-passwords.txt.gz`` beside this file: the 20,000 most common passwords
(lowercased, deduplicated) compiled by Royce Williams, taken unchanged from Django 5.2.19's
``django/contrib/auth/common-passwords.txt.gz`` (PyPI package ``Django``, BSD-3-Clause licence).
"""

from __future__ import annotations

import gzip
import unicodedata
from functools import lru_cache
from pathlib import Path

from flask import current_app
from flask_babel import gettext as _

from lms.errors import ValidationFailed

COMMON_PASSWORDS_FILE = Path(__file__).resolve().parent / "common-passwords.txt.gz"
DEFAULT_MIN_LENGTH = 10
MAX_LENGTH = 200


@lru_cache(maxsize=1)
def common_passwords() -> frozenset[str]:
    with gzip.open(COMMON_PASSWORDS_FILE, "rt", encoding="utf-8") as handle:
        return frozenset(line.strip() for line in handle if line.strip())


def _normalised(text: str) -> str:
    return unicodedata.normalize("NFKC", text).casefold().strip()


def password_problems(
    password: str, *, min_length: int = DEFAULT_MIN_LENGTH, personal: tuple[str | None, ...] = ()
) -> list[str]:
    """Machine codes of what is wrong with ``password`` (empty when it is acceptable):
    ``too_short``, ``too_long``, ``common``, ``personal`` (it is the email, its local part or a name)."""
    problems: list[str] = []
    length = len(unicodedata.normalize("NFC", password))
    if length < min_length:
        problems.append("too_short")
    if length > MAX_LENGTH:
        problems.append("too_long")
    folded = _normalised(password)
    if folded in common_passwords() or folded.rstrip("0123456789!.") in common_passwords():
        problems.append("common")
    candidates = set()
    for value in personal:
        if value:
            candidates.add(_normalised(value))
            if "@" in value:
                candidates.add(_normalised(value.split("@", 1)[0]))
    if folded in {c for c in candidates if c}:
        problems.append("personal")
    return problems


def check_new_password(password: str, *personal: str | None) -> None:
    minimum = int(current_app.config.get("PASSWORD_MIN_LENGTH", DEFAULT_MIN_LENGTH))
    problems = password_problems(password, min_length=minimum, personal=personal)
    if "too_short" in problems:
        raise ValidationFailed(_("The password must have at least %(n)s characters.", n=minimum))
    if "too_long" in problems:
        raise ValidationFailed(_("The password is too long."))
    if "common" in problems:
        raise ValidationFailed(_("This password is one of the most commonly used; choose another."))
    if "personal" in problems:
        raise ValidationFailed(_("The password must not be your email address or your name."))
