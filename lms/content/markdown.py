"""Lesson Markdown to safe HTML: markdown-it (CommonMark + tables, raw HTML off), then nh3 sanitising.

Images are lazy (slow links) and, when their size is known, carry `width`/`height` so the page does not
jump while they load. Markdown has no syntax for a size: it is looked up by the image's address, either
through the `image_size` argument or, by default, by asking the `lesson_image_size_wanted` signal
(the feature that serves lesson files answers it: `lms.authoring.lesson_files`). Lessons are rendered
when they are synced or published and the HTML is stored, so no image is opened when a page is viewed.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence

import nh3
from blinker import Namespace
from markdown_it import MarkdownIt
from markdown_it.token import Token

_markdown = MarkdownIt("commonmark", {"html": False, "linkify": False, "typographer": False}).enable("table")

ALLOWED_TAGS = {
    "a", "abbr", "blockquote", "br", "code", "em", "h2", "h3", "h4", "h5", "h6", "hr", "img", "li",
    "ol", "p", "pre", "strong", "table", "tbody", "td", "th", "thead", "tr", "ul", "del", "sup", "sub",
}  # fmt: skip
ALLOWED_ATTRIBUTES = {
    "a": {"href", "title"},
    "img": {"src", "alt", "title", "width", "height", "loading", "decoding"},
    "th": {"style"},
    "td": {"style"},
}
ALLOWED_URL_SCHEMES = {"http", "https", "mailto"}

ImageSize = tuple[int, int]
ImageSizeLookup = Callable[[str], ImageSize | None]

signals = Namespace()
# Sent with an image's `src` while rendering; a receiver returns (width, height) in pixels, or None when
# the address is not one of its files or the file cannot be measured.
lesson_image_size_wanted = signals.signal("lesson-image-size-wanted")


def render_markdown(text: str, image_size: ImageSizeLookup | None = None) -> str:
    lookup = image_size or _ask_receivers
    tokens = _markdown.parse(text)
    for image in _images(tokens):
        # Off-screen images wait until scrolled near, and decoding does not hold up the text.
        image.attrSet("loading", "lazy")
        image.attrSet("decoding", "async")
        size = lookup(str(image.attrGet("src") or ""))
        if size is not None:
            image.attrSet("width", str(size[0]))
            image.attrSet("height", str(size[1]))
    html = _markdown.renderer.render(tokens, _markdown.options, {})
    return nh3.clean(
        html,
        tags=ALLOWED_TAGS,
        attributes=ALLOWED_ATTRIBUTES,
        url_schemes=ALLOWED_URL_SCHEMES,
        link_rel="noopener noreferrer",
        filter_style_properties={"text-align"},
    )


def _images(tokens: Sequence[Token]) -> list[Token]:
    found = []
    for token in tokens:
        for child in token.children or ():
            if child.type == "image":
                found.append(child)
    return found


def _ask_receivers(src: str) -> ImageSize | None:
    if not src or not lesson_image_size_wanted.receivers:
        return None
    for _receiver, size in lesson_image_size_wanted.send(src):
        if _is_size(size):
            return int(size[0]), int(size[1])
    return None


def _is_size(value: object) -> bool:
    return (
        isinstance(value, tuple)
        and len(value) == 2
        and all(isinstance(n, int) and not isinstance(n, bool) and n > 0 for n in value)
    )
