"""Parts of every page that depend on a few values only, rendered once per process.

The navigation (which links a person sees depends on their roles and the language) and the words
handed to the page script (the language) are the same on thousands of pages, yet rendering them
(translations, ``url_for``) cost a good share of a page. A template wraps such a part in
``{% call cached_fragment('name', value, ...) %}...{% endcall %}``: the values are the whole key, so
the part must not read anything else (no user names, no CSRF token, no current path).
"""

from __future__ import annotations

from collections.abc import Callable, Hashable
from threading import Lock

from flask import request
from markupsafe import Markup

# Enough for every (part, language, role set, mount point); the bound guards against a key mistake.
MAX_FRAGMENTS = 2048

_fragments: dict[tuple[Hashable, ...], Markup] = {}
_lock = Lock()


def cached_fragment(*key: Hashable, caller: Callable[[], str]) -> Markup:
    # The mount point is part of every key: the same code may be served under two prefixes.
    full_key = (request.script_root, *key)
    hit = _fragments.get(full_key)
    if hit is None:
        hit = Markup(caller())  # noqa: S704 — the caller is a template block: Jinja escaped it already
        with _lock:
            if len(_fragments) >= MAX_FRAGMENTS:
                _fragments.clear()
            _fragments[full_key] = hit
    return hit
