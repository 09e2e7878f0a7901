"""Paths of the project and the configuration defaults.

Configuration is layered: these defaults, then ``instance/config.py``, then ``LMS_*`` environment
variables, then the mapping passed to ``create_app`` (tests).
"""

from __future__ import annotations

import json
import os
import secrets
from pathlib import Path
from typing import Any

PACKAGE_DIR = Path(__file__).resolve().parent
PROJECT_ROOT = PACKAGE_DIR.parent
TEMPLATES_DIR = PROJECT_ROOT / "templates"
STATIC_DIR = PACKAGE_DIR / "static"
INSTANCE_DIR = Path(os.environ.get("LMS_INSTANCE_PATH", PROJECT_ROOT / "instance")).resolve()
COURSES_DIR = PROJECT_ROOT / "courses"
MIGRATIONS_DIR = PROJECT_ROOT / "migrations"
TRANSLATIONS_DIR = PROJECT_ROOT / "translations"

# The academy's languages, each by its own name: the one place the list is written (lms.i18n,
# the forms, the CSV import and the question checks take it from here).
LANGUAGE_NAMES = {"en": "English", "ru": "Русский", "fr": "Français", "ar": "العربية"}
LANGUAGES = tuple(LANGUAGE_NAMES)
RTL_LANGUAGES = frozenset({"ar"})
# The EU Publications Office's language authority codes of the same languages (Europass exports).
EU_LANGUAGE_CODES = {"en": "ENG", "ru": "RUS", "fr": "FRA", "ar": "ARA"}


class Config:
    """Defaults safe for development; production overrides them in instance/config.py or LMS_*."""

    ACADEMY_NAME = "Academy LMS"
    SQLALCHEMY_DATABASE_URI: str | None = None  # derived from the instance path when unset
    SQLALCHEMY_ENGINE_OPTIONS: dict[str, Any] = {}
    SQLITE_BUSY_TIMEOUT_MS = 5000
    WTF_CSRF_ENABLED = True
    WTF_CSRF_TIME_LIMIT = None  # a trainee reading a long lesson must not lose the form
    SESSION_COOKIE_HTTPONLY = True
    SESSION_COOKIE_SAMESITE = "Lax"
    REMEMBER_COOKIE_HTTPONLY = True
    MAX_CONTENT_LENGTH = 16 * 1024 * 1024
    BABEL_DEFAULT_LOCALE = "en"
    BABEL_DEFAULT_TIMEZONE = "UTC"
    LANGUAGES = LANGUAGES
    COURSES_DIR = str(COURSES_DIR)
    CATALOGUE_PAGE_SIZE = 20
    PASSWORD_MIN_LENGTH = 10
    # Mail: "file" writes to instance/mail.log (development, no server needed); "smtp" sends.
    MAIL_BACKEND = "file"
    MAIL_SERVER = "127.0.0.1"
    MAIL_PORT = 25
    MAIL_USE_TLS = False
    MAIL_USE_SSL = False
    MAIL_USERNAME: str | None = None
    MAIL_PASSWORD: str | None = None
    MAIL_SENDER = "Academy LMS <no-reply@academy.local>"
    MAIL_MAX_ATTEMPTS = 5
    PUBLIC_BASE_URL = "http://127.0.0.1:5000"
    # CSV import of trainees (lms/enrolment/bulk_import.py): a file over these bounds is refused whole;
    # one with more rows than ENROLMENT_IMPORT_JOB_ROWS runs as a background job with a progress page.
    ENROLMENT_IMPORT_MAX_BYTES = 5 * 1024 * 1024
    ENROLMENT_IMPORT_MAX_ROWS = 20_000
    ENROLMENT_IMPORT_JOB_ROWS = 500
    # SCORM packages (lms/packages/extraction.py, docs/packages.md): the upload, and what its zip may unpack
    # to. The upload route alone accepts a body up to PACKAGE_MAX_BYTES (over MAX_CONTENT_LENGTH).
    PACKAGE_MAX_BYTES = 200 * 1024 * 1024
    PACKAGE_MAX_UNCOMPRESSED_BYTES = 500 * 1024 * 1024
    PACKAGE_MAX_FILES = 5000
    PACKAGE_MAX_FILE_BYTES = 200 * 1024 * 1024
    PACKAGE_MAX_FILE_RATIO = 100  # a file over 1 MB that inflates more than this many times is refused
    PACKAGE_MAX_TOTAL_RATIO = 50  # the whole zip, likewise
    # Packages on their own host name (docs/packages-player.md "Offline"): e.g. "https://packages.academy.example"
    # (LMS_PACKAGE_FILES_BASE_URL). Unset: packages play in an opaque origin and cannot be saved offline.
    PACKAGE_FILES_BASE_URL: str | None = None
    PACKAGE_OFFLINE_MAX_BYTES = 20 * 1024 * 1024  # a larger package version is not saved for offline use


ENV_PREFIX = "LMS_"


def settings_from_environment(environ: dict[str, str] | None = None) -> dict[str, Any]:
    """Read ``LMS_FOO=value`` as ``FOO``; values that parse as JSON (numbers, booleans) are typed."""
    environ = dict(os.environ) if environ is None else environ
    settings: dict[str, Any] = {}
    for key, raw in environ.items():
        if not key.startswith(ENV_PREFIX) or key in {"LMS_INSTANCE_PATH", "LMS_TEST_DATABASE_URL"}:
            continue
        name = key[len(ENV_PREFIX) :]
        try:
            settings[name] = json.loads(raw)
        except ValueError:
            settings[name] = raw
    return settings


def load_or_create_secret_key(instance_dir: Path) -> str:
    """The session secret lives in instance/ (never committed); it is created on first run."""
    key_file = instance_dir / "secret_key"
    if key_file.exists():
        return key_file.read_text().strip()
    instance_dir.mkdir(parents=True, exist_ok=True)
    key = secrets.token_hex(32)
    fd = os.open(key_file, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(fd, "w") as handle:
        handle.write(key)
    return key
