"""The runtime put into a package's HTML pages (pure; issue 25, docs/packages.md "Isolation").

A package's page runs in a sandboxed frame with an opaque origin: the ADL API discovery cannot reach an
object in the player page, so each HTML page of the package gets, first thing in its ``<head>``, the launch
data (a JSON data block, not a script), the vendored scorm-again runtime and the bridge
(lms/static/js/package-bridge.js) that creates ``window.API`` / ``window.API_1484_11`` in the page's own
window and hands commits to the player page by postMessage.
"""

from __future__ import annotations

import json
import re
from collections.abc import Mapping, Sequence
from html import escape

_HEAD = re.compile(rb"<head(\s[^>]*)?>", re.IGNORECASE)
_HTML = re.compile(rb"<html(\s[^>]*)?>", re.IGNORECASE)
_DOCTYPE = re.compile(rb"^\s*(\xef\xbb\xbf)?\s*<!doctype[^>]*>", re.IGNORECASE)


def launch_block(launch: Mapping[str, object], script_urls: Sequence[str]) -> bytes:
    """The tags to inject: the launch data as JSON (``<`` escaped, so no text in it can end the block)
    and the runtime scripts."""
    data = json.dumps(launch, ensure_ascii=True, separators=(",", ":"))
    data = data.replace("<", "\\u003c").replace(">", "\\u003e").replace("&", "\\u0026")
    tags = [f'<script type="application/json" id="lms-scorm-launch">{data}</script>']
    tags += [f'<script src="{escape(url)}"></script>' for url in script_urls]
    return "".join(tags).encode("ascii")


def inject(page: bytes, block: bytes) -> bytes:
    """The page with ``block`` right after its ``<head>`` (or ``<html>``, or its doctype, or at the start)."""
    for pattern in (_HEAD, _HTML, _DOCTYPE):
        match = pattern.search(page)
        if match:
            return page[: match.end()] + block + page[match.end() :]
    return block + page


def script_tags(script_urls: Sequence[str]) -> bytes:
    """Only the runtime scripts (the package host: the launch data comes from the player page)."""
    return "".join(f'<script src="{escape(url)}"></script>' for url in script_urls).encode("ascii")
