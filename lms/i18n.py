"""Language, text direction and locale formatting for templates; the catalogues live in translations/.

Templates format with the filters registered here (or Flask-Babel's own ``datetimeformat``,
``dateformat``, ``timeformat``), never with ``strftime``/``isoformat``: those ignore the locale and
the user's time zone. Babel writes Latin digits in every locale (its default numbering system), which
is what the academy's Arabic-speaking partners use in official documents.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from datetime import date, datetime, time, tzinfo
from decimal import Decimal
from functools import lru_cache
from typing import Any

from babel import Locale
from babel.numbers import NumberPattern, parse_pattern
from babel.support import NullTranslations
from flask import Flask, g, has_app_context
from flask_babel import format_date, format_datetime, format_time, get_locale, get_timezone, get_translations
from jinja2 import pass_eval_context
from jinja2.nodes import EvalContext
from markupsafe import Markup, escape

from lms import config as paths

LANGUAGE_NAMES = paths.LANGUAGE_NAMES  # defined once, in lms.config

Number = int | float | Decimal


def _babel_state() -> Any:
    """Flask-Babel's per-request state (``g._flask_babel``: locale, time zone), or None.

    Read through ``g``'s object, not the ``g`` proxy: Flask-Babel's own ``get_locale`` goes through
    the proxy three times per call, and a page asks for the locale for every number and date."""
    try:
        return getattr(g._get_current_object(), "_flask_babel", None)
    except RuntimeError:  # no app context
        return None


def request_locale() -> Locale | None:
    """``flask_babel.get_locale()``, from its per-request state once it has chosen the locale (it
    keeps the choice there; ``force_locale`` and ``refresh`` replace it)."""
    locale = getattr(_babel_state(), "babel_locale", None)
    return locale if locale is not None else get_locale()


def request_timezone() -> tzinfo:
    """``flask_babel.get_timezone()``, read as ``request_locale`` reads the locale."""
    zone = getattr(_babel_state(), "babel_tzinfo", None)
    return zone if zone is not None else get_timezone()


def current_language() -> str:
    locale = request_locale()
    return locale.language if locale else "en"


def text_direction(language: str) -> str:
    return "rtl" if language in paths.RTL_LANGUAGES else "ltr"


# Babel spends 40-100 µs on one date (month names, patterns, the move to the user's time zone) and a
# page lists dozens, mostly the same days on every page. Flask-Babel's text depends only on the value,
# the format, the locale and (for a moment in time) the time zone: it is kept per process under those.
MAX_FORMATTED_DATES = 20_000
_formatted_dates: dict[tuple[Any, ...], str] = {}
DATE_TYPES = (date, datetime, time)


def _remembered(formatter: Callable[..., str]) -> Callable[..., str]:
    """One of Flask-Babel's ``format_date``, ``format_datetime``, ``format_time`` (same arguments, same
    text) that formats each value once per locale, time zone and format. ``None`` (now) and
    ``rebase=False`` are passed straight through."""

    def formatted(value: Any = None, format: str | None = None, rebase: bool = True) -> str:
        if not rebase or type(value) not in DATE_TYPES or not has_app_context():
            return formatter(value, format, rebase)
        # A plain date is a day wherever one is; anything with a time is moved to the user's zone.
        zone = None if formatter is format_date and type(value) is date else request_timezone()
        # Equal datetimes in different zones, or on either side of a clock change, may differ in text.
        key: tuple[Any, ...] = (formatter, format, request_locale(), zone, value, type(value))
        key += (getattr(value, "tzinfo", None), getattr(value, "fold", 0))
        text = _formatted_dates.get(key)
        if text is None:
            text = formatter(value, format, rebase)
            if len(_formatted_dates) >= MAX_FORMATTED_DATES:
                _formatted_dates.clear()
            _formatted_dates[key] = text
        return text

    formatted.__name__ = formatter.__name__
    formatted.__doc__ = formatter.__doc__
    return formatted


remembered_format_date = _remembered(format_date)
remembered_format_datetime = _remembered(format_datetime)
remembered_format_time = _remembered(format_time)


def localized_date(value: date | datetime | None, format: str = "medium") -> str:
    """A date in the current locale; a datetime is first moved to the user's time zone."""
    if value is None:
        return ""
    return remembered_format_date(value, format)


def localized_datetime(value: datetime | None, format: str = "medium") -> str:
    """Date and time in the current locale and the user's time zone (Flask-Babel's selector)."""
    if value is None:
        return ""
    return remembered_format_datetime(value, format)


def localized_number(value: Number | None, digits: int | None = None) -> str:
    """A number with the locale's separators; ``digits`` fixes the decimals shown (rounding)."""
    if value is None:
        return ""
    locale = request_locale()
    if digits is None:
        if type(value) is int:  # counts: a report page shows a thousand of them, the same on every view
            return _whole_number(str(locale), value)
        return _decimal_pattern(str(locale)).apply(value, locale)
    return _number_pattern(digits).apply(round(Decimal(str(value)), digits), locale)


def localized_percent(value: Number | None, digits: int = 0) -> str:
    """A percentage given on the 0-100 scale (how the academy stores them), with ``digits`` decimals
    always shown: 87.5 -> "87.5%" in en, "87,5 %" in fr; 100 -> "100.0%" with one decimal."""
    if value is None:
        return ""
    return _formatted_percent(str(request_locale()), value, digits)


@lru_cache(maxsize=8192)
def _formatted_percent(locale_name: str, value: Number, digits: int) -> str:
    """Formatted once per locale, value and decimals: a report page shows hundreds of them."""
    return _percent_pattern(locale_name, digits).apply(Decimal(str(value)) / 100, Locale.parse(locale_name))


# Parsing a number pattern costs more than applying it, and every progress bar formats two or three
# numbers: the parsed patterns are kept (a handful per locale).
@lru_cache(maxsize=64)
def _decimal_pattern(locale_name: str) -> NumberPattern:
    return parse_pattern(Locale.parse(locale_name).decimal_formats[None].pattern)


@lru_cache(maxsize=8192)
def _whole_number(locale_name: str, value: int) -> str:
    """A whole number in a locale, formatted once (babel's pattern costs 0.1 ms a number)."""
    return _decimal_pattern(locale_name).apply(value, Locale.parse(locale_name))


@lru_cache(maxsize=64)
def _number_pattern(digits: int) -> NumberPattern:
    return parse_pattern("#,##0" + ("." + "0" * digits if digits > 0 else ""))


@lru_cache(maxsize=64)
def _percent_pattern(locale_name: str, digits: int) -> NumberPattern:
    pattern = Locale.parse(locale_name).percent_formats[None].pattern  # the locale's spacing: "87,5 %"
    if digits > 0:
        pattern = re.sub(r"0(?=[^0-9#]*$)", "0." + "0" * digits, pattern, count=1)
    return parse_pattern(pattern)


LIST_SEPARATORS = {"ar": "، "}  # the Arabic comma; CLDR's Arabic list joins with "و", awkward before Latin


def list_separator() -> str:
    """What separates list items in the current language: ", ", or "، " in Arabic."""
    return LIST_SEPARATORS.get(current_language(), ", ")


def isolate(value: object) -> Markup:
    """Wrap a name, code or e-mail address in <bdi> so it keeps its own direction inside Arabic text."""
    return Markup('<bdi dir="auto">{}</bdi>').format(escape(value))


def isolate_text(value: object) -> str:
    """The same isolation as plain text (U+2068 FIRST STRONG ISOLATE ... U+2069), for the PDF:
    WeasyPrint hands text to Pango/FriBidi, which honour these marks but not <bdi>."""
    return f"\u2068{value}\u2069"


def register_i18n(app: Flask) -> None:
    app.config.setdefault("BABEL_TRANSLATION_DIRECTORIES", str(paths.TRANSLATIONS_DIR))
    app.add_template_filter(localized_date, "ldate")
    app.add_template_filter(localized_datetime, "ldatetime")
    app.add_template_filter(localized_number, "lnumber")
    app.add_template_filter(localized_percent, "lpercent")
    app.add_template_filter(isolate, "bdi")
    app.add_template_filter(isolate_text, "isolate_text")
    app.add_template_filter(text_direction, "direction")  # dir="{{ language|direction }}"

    @app.context_processor
    def language_context() -> dict[str, object]:
        language = current_language()
        return {
            "current_language": language,
            "text_direction": text_direction(language),
            "language_names": LANGUAGE_NAMES,
            "languages": paths.LANGUAGES,  # the academy's languages, in order (survey editors list them)
            "direction_of": text_direction,  # a text's direction from its language code
            "list_separator": list_separator,
            "academy_name": app.config["ACADEMY_NAME"],
        }


def current_translations() -> NullTranslations:
    """The catalogue of the current locale, found once per request and locale.

    Flask-Babel's own template callables look the locale and the catalogue up through several context
    proxies for every string (about 30 per page). This keeps the catalogue
    next to Flask-Babel's state, keyed by the locale object: ``force_locale`` (mails in the recipient's
    language) and ``refresh`` set a new locale, so the key no longer matches and the catalogue is found
    again.
    """
    state = _babel_state()
    locale = getattr(state, "babel_locale", None)
    if state is None or locale is None:  # the first string of the request chooses the locale
        return get_translations()
    cached = getattr(state, "lms_translations", None)
    if cached is not None and cached[0] is locale:
        return cached[1]
    translations = get_translations()
    state.lms_translations = (locale, translations)
    return translations


def install_template_gettext(app: Flask) -> None:
    """After ``babel.init_app``: the same callables as Flask-Babel's, over ``current_translations``.

    ``_()`` and ``gettext()`` (30-50 strings a page) are then replaced by one function doing what Jinja's
    newstyle wrapper does (translate, mark safe under autoescape, always format with the variables):
    Jinja's own went through three context calls per string (``_`` -> ``gettext`` -> the callable).
    """
    app.jinja_env.install_gettext_callables(  # type: ignore[attr-defined]
        gettext=lambda s: current_translations().ugettext(s),
        ngettext=lambda s, p, n: current_translations().ungettext(s, p, n),
        pgettext=lambda c, s: current_translations().upgettext(c, s),
        npgettext=lambda c, s, p, n: current_translations().unpgettext(c, s, p, n),
        newstyle=True,
    )
    app.jinja_env.globals.update(_=_template_gettext, gettext=_template_gettext)
    # Flask-Babel's date filters, each value formatted once (see _remembered): same names, same text.
    app.jinja_env.filters.update(
        datetimeformat=remembered_format_datetime,
        dateformat=remembered_format_date,
        timeformat=remembered_format_time,
    )


# The evaluation context (autoescape on or off), not the template context: Jinja hands a function asking
# for the context inside a loop or a block with variables of its own a fresh copy of the whole context
# (every global, per call: ~2% of the dashboard, issue 22); the evaluation context is passed as it is.
@pass_eval_context
def _template_gettext(eval_ctx: EvalContext, string: str, /, **variables: object) -> str:
    translated = current_translations().ugettext(string)
    if not variables and "%" not in translated:  # most strings: ``% {}`` would return them unchanged
        return Markup(translated) if eval_ctx.autoescape else translated  # noqa: S704 — as below
    if eval_ctx.autoescape:
        translated = Markup(translated)  # noqa: S704 — a catalogue's text; the variables are escaped below
    return translated % variables


def recipient_language(preferred: str | None) -> str:
    """The language of a mail to someone: their saved preference, else the academy default."""
    if preferred in paths.LANGUAGES:
        return str(preferred)
    return paths.Config.BABEL_DEFAULT_LOCALE
