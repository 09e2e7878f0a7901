"""Academy settings: one database row over safe defaults from the configuration.

Reads are cached in the process because every page shows the academy's name and logo; a change
made in this process is visible at once, other worker processes see it within ``CACHE_SECONDS``
(config ``SETTINGS_CACHE_SECONDS``; no expiry under TESTING, where one process sees every update).
"""

from __future__ import annotations

import time
from dataclasses import asdict, dataclass, field, replace
from pathlib import Path
from typing import Any

from flask import current_app, g, has_app_context
from flask_babel import gettext as _
from sqlalchemy import select

from lms.audit.services import record_event
from lms.config import LANGUAGES, Config
from lms.db import utcnow
from lms.errors import ValidationFailed
from lms.extensions import db
from lms.settings.did_web import InvalidBaseUrl, did_web_from_base_url, normalise_base_url
from lms.settings.models import AcademySettings, RegistrationPolicy
from lms.settings.sniff import MAX_LOGO_BYTES, sniff_raster_image

SETTINGS_ROW_ID = 1
CACHE_SECONDS = 10.0
LOGO_DIRECTORY = "branding"
_CACHE_KEY = "academy_settings_cache"


@dataclass(frozen=True)
class EffectiveSettings:
    academy_name: str
    logo_filename: str | None
    contact_email: str | None
    default_language: str
    registration_policy: str
    allowed_email_domains: tuple[str, ...]
    public_base_url: str
    mail_sender: str

    def audit_view(self) -> dict[str, Any]:
        values = asdict(self)
        values["allowed_email_domains"] = list(self.allowed_email_domains)
        return values


@dataclass(frozen=True)
class SettingsChange:
    """What the settings form submits; None leaves a value as it is."""

    academy_name: str | None = None
    contact_email: str | None = None
    default_language: str | None = None
    registration_policy: str | None = None
    allowed_email_domains: tuple[str, ...] | None = None
    public_base_url: str | None = None
    mail_sender: str | None = None
    extra: dict[str, Any] = field(default_factory=dict)


def defaults_from_config(config: Any) -> EffectiveSettings:
    policy = str(config.get("REGISTRATION_POLICY", RegistrationPolicy.OPEN))
    return EffectiveSettings(
        academy_name=str(config.get("ACADEMY_NAME", "Academy LMS")),
        logo_filename=None,
        contact_email=config.get("CONTACT_EMAIL"),
        default_language=str(config.get("BABEL_DEFAULT_LOCALE", "en")),
        registration_policy=policy if policy in set(RegistrationPolicy) else RegistrationPolicy.OPEN,
        allowed_email_domains=tuple(config.get("REGISTRATION_EMAIL_DOMAINS", ())),
        public_base_url=str(config.get("PUBLIC_BASE_URL", "http://127.0.0.1:5000")).rstrip("/"),
        mail_sender=str(config.get("MAIL_SENDER", "Academy LMS <no-reply@academy.local>")),
    )


def _merge(defaults: EffectiveSettings, row: AcademySettings | None) -> EffectiveSettings:
    if row is None:
        return defaults
    return replace(
        defaults,
        academy_name=row.academy_name or defaults.academy_name,
        logo_filename=row.logo_filename,
        contact_email=row.contact_email or defaults.contact_email,
        default_language=row.default_language or defaults.default_language,
        registration_policy=row.registration_policy or defaults.registration_policy,
        allowed_email_domains=tuple(row.allowed_email_domains or ()),
        public_base_url=row.public_base_url or defaults.public_base_url,
        mail_sender=row.mail_sender or defaults.mail_sender,
    )


def get_settings() -> EffectiveSettings:
    """The settings in force. Outside an application context: the configuration defaults."""
    if not has_app_context():
        return defaults_from_config(vars(Config))
    app = current_app._get_current_object()  # type: ignore[attr-defined]  # werkzeug proxy method
    cached = app.extensions.get(_CACHE_KEY)
    if cached is not None and not g.get("settings_changed") and _fresh(app, cached[0]):
        return cached[1]
    settings = _merge(defaults_from_config(app.config), db.session.get(AcademySettings, SETTINGS_ROW_ID))
    if not g.get("settings_changed"):
        app.extensions[_CACHE_KEY] = (time.monotonic(), settings)
    return settings


def _fresh(app: Any, loaded_at: float) -> bool:
    # One process (tests, the development server) invalidates exactly on update, so the cache
    # never expires there; several workers each re-read after the time-to-live.
    ttl = app.config.get("SETTINGS_CACHE_SECONDS", None if app.testing else CACHE_SECONDS)
    return ttl is None or time.monotonic() - loaded_at < float(ttl)


def clear_settings_cache() -> None:
    current_app.extensions.pop(_CACHE_KEY, None)


def public_base_url() -> str:
    """The address the academy is reached at from outside, without a trailing slash."""
    return get_settings().public_base_url


def did_web_identifier() -> str:
    """The academy's did:web issuer identifier, derived from the public base URL."""
    return did_web_from_base_url(public_base_url())


def mail_sender() -> str:
    return get_settings().mail_sender


def email_domain_allowed(email: str, settings: EffectiveSettings) -> bool:
    """A listed domain also admits its subdomains (dpsu.gov.ua admits kyiv.dpsu.gov.ua)."""
    domain = email.rsplit("@", 1)[-1].strip().lower().rstrip(".")
    return any(
        domain == allowed or domain.endswith("." + allowed) for allowed in settings.allowed_email_domains
    )


def normalise_domain(raw: str) -> str:
    domain = raw.strip().lower().lstrip("@").rstrip(".")
    labels = domain.split(".")
    if len(labels) < 2 or not all(label and len(label) <= 63 for label in labels):
        raise ValidationFailed(_("“%(domain)s” is not an email domain.", domain=raw.strip()))
    if not all(ch.isalnum() or ch in "-." for ch in domain):
        raise ValidationFailed(_("“%(domain)s” is not an email domain.", domain=raw.strip()))
    return domain


def _settings_row() -> AcademySettings:
    row = db.session.get(AcademySettings, SETTINGS_ROW_ID)
    if row is None:
        row = AcademySettings(id=SETTINGS_ROW_ID, allowed_email_domains=[])
        db.session.add(row)
    return row


def _mark_changed() -> None:
    g.settings_changed = True
    clear_settings_cache()


def update_settings(change: SettingsChange, actor_id: int | None) -> EffectiveSettings:
    before = get_settings()
    row = _settings_row()
    if change.academy_name is not None:
        if not change.academy_name.strip():
            raise ValidationFailed(_("The academy needs a name."))
        row.academy_name = change.academy_name.strip()
    if change.contact_email is not None:
        row.contact_email = change.contact_email.strip() or None
    if change.default_language is not None:
        if change.default_language not in LANGUAGES:
            raise ValidationFailed(_("Choose one of the academy's languages."))
        row.default_language = change.default_language
    if change.allowed_email_domains is not None:
        row.allowed_email_domains = sorted(
            {normalise_domain(d) for d in change.allowed_email_domains if d.strip()}
        )
    if change.registration_policy is not None:
        if change.registration_policy not in set(RegistrationPolicy):
            raise ValidationFailed(_("Choose a registration policy."))
        if change.registration_policy == RegistrationPolicy.DOMAINS and not row.allowed_email_domains:
            raise ValidationFailed(_("List at least one email domain to open registration to."))
        row.registration_policy = change.registration_policy
    if change.public_base_url is not None:
        try:
            row.public_base_url = normalise_base_url(change.public_base_url)
        except InvalidBaseUrl as error:
            raise ValidationFailed(
                _("The public base URL is not valid: %(reason)s", reason=str(error))
            ) from None
    if change.mail_sender is not None:
        if "@" not in change.mail_sender or "\n" in change.mail_sender or "\r" in change.mail_sender:
            raise ValidationFailed(
                _("The mail sender must be an address such as Academy <no-reply@example.org>.")
            )
        row.mail_sender = change.mail_sender.strip()
    row.updated_at = utcnow()
    row.updated_by_id = actor_id
    db.session.flush()
    _mark_changed()
    after = get_settings()
    if before != after:
        record_event(
            "settings.update", "academy_settings", SETTINGS_ROW_ID, actor_id=actor_id,
            before=_changed(before.audit_view(), after.audit_view()),
            after=_changed(after.audit_view(), before.audit_view()),
        )  # fmt: skip
    return after


def _changed(values: dict[str, Any], other: dict[str, Any]) -> dict[str, Any]:
    return {key: value for key, value in values.items() if other.get(key) != value}


def logo_directory() -> Path:
    return Path(current_app.instance_path) / LOGO_DIRECTORY


def save_logo(data: bytes, actor_id: int | None) -> str:
    """Store a PNG or JPEG logo under instance/branding/ and point the settings at it."""
    if len(data) > MAX_LOGO_BYTES:
        raise ValidationFailed(_("The logo is too large (at most 512 KB)."))
    kind = sniff_raster_image(data)
    if kind is None:
        raise ValidationFailed(_("The logo must be a PNG or JPEG image."))
    filename = f"logo-{int(time.time())}.{'png' if kind == 'png' else 'jpg'}"
    directory = logo_directory()
    directory.mkdir(parents=True, exist_ok=True)
    (directory / filename).write_bytes(data)
    row = _settings_row()
    previous = row.logo_filename
    row.logo_filename = filename
    row.updated_at = utcnow()
    row.updated_by_id = actor_id
    db.session.flush()
    _mark_changed()
    record_event(
        "settings.logo", "academy_settings", SETTINGS_ROW_ID, actor_id=actor_id,
        before={"logo_filename": previous}, after={"logo_filename": filename},
    )  # fmt: skip
    return filename


def remove_logo(actor_id: int | None) -> None:
    row = _settings_row()
    previous = row.logo_filename
    if previous is None:
        return
    row.logo_filename = None
    row.updated_by_id = actor_id
    db.session.flush()
    _mark_changed()
    record_event(
        "settings.logo", "academy_settings", SETTINGS_ROW_ID, actor_id=actor_id,
        before={"logo_filename": previous}, after={"logo_filename": None},
    )  # fmt: skip


def logo_path() -> Path | None:
    filename = get_settings().logo_filename
    if not filename or "/" in filename or filename.startswith("."):
        return None
    path = logo_directory() / filename
    return path if path.is_file() else None


def settings_row_exists() -> bool:
    return (
        db.session.scalar(select(AcademySettings.id).where(AcademySettings.id == SETTINGS_ROW_ID)) is not None
    )
