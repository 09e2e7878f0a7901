"""The catalogues are complete and every template's text goes through gettext (issue 8).

Pure checks on files: no app, no database.
"""

from __future__ import annotations

import re
from html.parser import HTMLParser
from pathlib import Path

import pytest
from babel.messages.pofile import read_po
from jinja2 import Environment

from lms.config import LANGUAGES

PROJECT_ROOT = Path(__file__).resolve().parent.parent
TRANSLATIONS = PROJECT_ROOT / "translations"
TEMPLATES = PROJECT_ROOT / "templates"
CSS = PROJECT_ROOT / "lms" / "static" / "css" / "app.css"
PLACEHOLDER = re.compile(r"%\([a-z_]+\)[sd]|%%")

# Attributes a person reads or hears (screen readers) and that must therefore be translated.
READ_ATTRIBUTES = {"alt", "title", "placeholder", "aria-label", "label"}
LETTER = re.compile(r"[^\W\d_]")
# Data that contains letters yet is not text to translate: none so far. Add an exact string with the
# template that needs it and the reason, e.g. ("certificates/pdf.html", "QR"): "a code, not a word".
ALLOWED: dict[tuple[str, str], str] = {}


def catalogue(language: str):  # type: ignore[no-untyped-def]  # babel's Catalog is untyped
    with (TRANSLATIONS / language / "LC_MESSAGES" / "messages.po").open("rb") as handle:
        return read_po(handle, locale=language)


def template_catalogue():  # type: ignore[no-untyped-def]  # babel's Catalog is untyped
    with (TRANSLATIONS / "messages.pot").open("rb") as handle:
        return read_po(handle)


@pytest.mark.parametrize("language", [code for code in LANGUAGES if code != "en"])
def test_every_message_is_translated_and_none_is_fuzzy(language: str) -> None:
    messages = [m for m in catalogue(language) if m.id]
    untranslated = [
        m.id for m in messages if not m.string or (isinstance(m.string, tuple) and not all(m.string))
    ]
    fuzzy = [m.id for m in messages if m.fuzzy]
    assert not untranslated, f"{language}: {len(untranslated)} untranslated, e.g. {untranslated[:5]}"
    assert not fuzzy, f"{language}: {len(fuzzy)} fuzzy, e.g. {fuzzy[:5]}"


@pytest.mark.parametrize("language", [code for code in LANGUAGES if code != "en"])
def test_catalogue_holds_every_extracted_message_and_keeps_placeholders(language: str) -> None:
    """`make messages` extracts into messages.pot; a catalogue behind it lacks new strings."""
    ids = {m.id for m in catalogue(language) if m.id}
    wanted = {m.id for m in template_catalogue() if m.id}
    assert not wanted - ids, (
        f"{language}: run `make messages` and translate: {sorted(wanted - ids, key=str)[:5]}"
    )
    for message in catalogue(language):
        if not message.id or isinstance(message.id, tuple):
            continue
        assert sorted(PLACEHOLDER.findall(message.id)) == sorted(PLACEHOLDER.findall(message.string)), (
            language,
            message.id,
        )


class _TextFinder(HTMLParser):
    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.found: list[str] = []
        self.raw_depth = 0

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag in ("script", "style"):
            self.raw_depth += 1
        for name, value in attrs:
            if name in READ_ATTRIBUTES and value and LETTER.search(value):
                self.found.append(f"{name}={value!r}")

    def handle_endtag(self, tag: str) -> None:
        if tag in ("script", "style"):
            self.raw_depth -= 1

    def handle_data(self, data: str) -> None:
        text = data.strip()
        if not self.raw_depth and LETTER.search(text):
            self.found.append(text)


def text_outside_gettext(source: str) -> list[str]:
    """Letters in a template's own markup (Jinja 'data' tokens), ignoring everything inside {{ }} and
    {% %}: what remains is text the template prints as written, untranslated."""
    environment = Environment(extensions=["jinja2.ext.i18n"])  # noqa: S701  # only lexes, never renders
    parts: list[str] = []
    for _line, kind, value in environment.lex(source):
        if kind == "data":
            parts.append(value)
        elif kind in ("variable_begin", "block_begin"):
            parts.append(" ")  # an expression is a value, not written text
    finder = _TextFinder()
    finder.feed("".join(parts))
    return finder.found


def test_the_text_finder_catches_plain_text_and_read_attributes() -> None:
    assert text_outside_gettext("<p>Hello {{ name }}</p>") == ["Hello"]
    assert text_outside_gettext('<img alt="Logo" src="{{ x }}">') == ["alt='Logo'"]
    assert text_outside_gettext("<p>{{ _('Hello') }} · {{ n }}%</p><style>a { color: red }</style>") == []


@pytest.mark.parametrize(
    "template", sorted(str(p.relative_to(TEMPLATES)) for p in TEMPLATES.rglob("*.html")), ids=str
)
def test_templates_have_no_text_outside_gettext(template: str) -> None:
    found = [
        text
        for text in text_outside_gettext((TEMPLATES / template).read_text(encoding="utf-8"))
        if (template, text) not in ALLOWED
    ]
    assert not found, f"{template}: wrap in {{{{ _('...') }}}}: {found}"


PHYSICAL = re.compile(
    r"(?<![-\w])(?:margin|padding|border)-(?:left|right)\b|(?<![-\w])(?:left|right)\s*:"
    r"|text-align\s*:\s*(?:left|right)|float\s*:\s*(?:left|right)|clear\s*:\s*(?:left|right)"
    r"|border-(?:top|bottom)-(?:left|right)-radius"
)


def test_stylesheet_uses_logical_properties_only() -> None:
    """Arabic mirrors the layout only if the CSS says start/end, not left/right."""
    css = re.sub(r"/\*.*?\*/", "", CSS.read_text(encoding="utf-8"), flags=re.S)
    offending = [line.strip() for line in css.splitlines() if PHYSICAL.search(line)]
    assert not offending, offending


def test_every_template_message_is_in_every_catalogue() -> None:
    """Extracted file by file, so a folder that `make messages` skips (pybabel ignores folders starting
    with '_' unless told otherwise: templates/_macros) cannot hide untranslated strings."""
    from babel.messages.extract import extract_from_file

    catalogues = {language: catalogue(language) for language in LANGUAGES if language != "en"}
    for path in sorted(TEMPLATES.rglob("*.html")):
        for _line, message, _comments, _context in extract_from_file("jinja2", str(path)):
            key = message[0] if isinstance(message, tuple) else message
            for language, messages in catalogues.items():
                found = messages.get(key)
                assert found is not None and found.string, (
                    f"{path.relative_to(TEMPLATES)}: {key!r} not in {language}"
                )
