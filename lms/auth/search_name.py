"""The normalised text a person is searched by: names in every script and the email, casefolded."""

from __future__ import annotations

import unicodedata


def fold(text: str) -> str:
    """Casefold after NFKC so that 'ОЛЕНА', 'олена' and compatibility forms compare equal."""
    return unicodedata.normalize("NFKC", text).casefold().strip()


def person_search_name(*parts: str | None) -> str:
    return " ".join(fold(part) for part in parts if part and part.strip())[:700]
