"""The package host (issue 25, docs/packages-player.md "Offline"): when ``PACKAGE_FILES_BASE_URL`` names a
host of its own, package files are served there and only there, the academy's pages never are, and the
package frame may keep its origin (``allow-same-origin``: the package host's, not the academy's), which
lets a service worker of that host keep a version's files for offline use. Pure: reads a config mapping.
"""

from __future__ import annotations

from collections.abc import Mapping
from urllib.parse import urlsplit


def _origin(url: object) -> str | None:
    parts = urlsplit(str(url or "").strip())
    if parts.scheme not in {"http", "https"} or not parts.netloc:
        return None
    return f"{parts.scheme}://{parts.netloc}".lower()


def package_origin(config: Mapping[str, object]) -> str | None:
    """The package host's origin (``https://packages.academy.example``), or None without a package host."""
    return _origin(config.get("PACKAGE_FILES_BASE_URL"))


def academy_origin(config: Mapping[str, object]) -> str | None:
    """The academy's own origin (PUBLIC_BASE_URL): the only page allowed to frame the package host."""
    return _origin(config.get("PUBLIC_BASE_URL"))


def package_host(config: Mapping[str, object]) -> str | None:
    """The Host header of requests to the package host (``packages.academy.example[:port]``)."""
    origin = package_origin(config)
    if origin is None:
        return None
    host = urlsplit(origin).netloc
    academy = academy_origin(config)
    # The same host for both would serve packages with the academy's cookies: no package host then.
    return None if academy is not None and urlsplit(academy).netloc == host else host
