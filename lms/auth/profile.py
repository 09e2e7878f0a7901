"""A person's profile, written by one service whoever writes it: the person on their account page
(lms.auth.account), an admin on the person's page (lms.admin.services), a visitor registering
(lms.auth.services.register_user). Each caller adds what only it may change (the address, the
authority, roles) and its own audit record."""

from __future__ import annotations

from dataclasses import dataclass

from flask_babel import gettext as _

from lms.auth.models import User
from lms.config import LANGUAGES
from lms.errors import ValidationFailed


@dataclass(frozen=True)
class ProfileChange:
    given_name: str
    family_name: str
    patronymic: str | None
    native_name: str | None
    preferred_language: str | None
    timezone: str | None
    position: str | None


PROFILE_FIELDS = (
    "given_name", "family_name", "patronymic", "native_name", "preferred_language", "timezone", "position",
)  # fmt: skip


def clean(value: str | None) -> str | None:
    """Typed text without surrounding spaces; nothing typed is None."""
    return (value or "").strip() or None


def check_profile(change: ProfileChange, *, own: bool) -> None:
    """Refuse what no profile may hold; ``own``: the person writes it (the message speaks to them)."""
    if not change.given_name.strip() or not change.family_name.strip():
        if own:
            raise ValidationFailed(_("Your given and family names are required."))
        raise ValidationFailed(_("Given and family names are required."))
    if change.preferred_language and change.preferred_language not in LANGUAGES:
        raise ValidationFailed(_("Choose one of the academy's languages."))


def write_profile(user: User, change: ProfileChange, *, own: bool) -> list[str]:
    """Check and write the profile fields; returns the names of the fields that changed."""
    check_profile(change, own=own)
    before = {name: getattr(user, name) for name in PROFILE_FIELDS}
    user.given_name = change.given_name.strip()
    user.family_name = change.family_name.strip()
    user.patronymic = clean(change.patronymic)
    user.native_name = clean(change.native_name)
    user.preferred_language = clean(change.preferred_language)
    user.timezone = clean(change.timezone)
    user.position = clean(change.position)
    return [name for name in PROFILE_FIELDS if getattr(user, name) != before[name]]
