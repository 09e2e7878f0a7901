"""Language and text direction for templates; the catalogues live in translations/."""

from __future__ import annotations

from flask import Flask
from flask_babel import get_locale

from lms import config as paths

LANGUAGE_NAMES = {"en": "English", "ru": "Русский", "fr": "Français", "ar": "العربية"}


def current_language() -> str:
    locale = get_locale()
    return locale.language if locale else "en"


def register_i18n(app: Flask) -> None:
    app.config.setdefault("BABEL_TRANSLATION_DIRECTORIES", str(paths.TRANSLATIONS_DIR))

    @app.context_processor
    def language_context() -> dict[str, object]:
        language = current_language()
        return {
            "current_language": language,
            "text_direction": "rtl" if language in paths.RTL_LANGUAGES else "ltr",
            "language_names": LANGUAGE_NAMES,
            "academy_name": app.config["ACADEMY_NAME"],
        }
