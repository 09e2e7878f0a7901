"""gzip for text responses (HTML, CSS, JS, JSON, SVG), so a lesson page crosses a slow link small.

Pages are compressed per response; static files once per version (kept in memory, keyed by path and
mtime). Chromium asks for brotli only over HTTPS, so gzip (standard library) is what matters here.
"""

from __future__ import annotations

import gzip
from pathlib import Path

COMPRESSIBLE_TYPES = frozenset(
    {
        "text/html",
        "text/css",
        "text/javascript",
        "text/plain",
        "text/csv",
        "application/javascript",
        "application/json",
        "application/ld+json",
        "application/manifest+json",
        "image/svg+xml",
    }
)
MINIMUM_SIZE = 500  # below this, gzip's header costs more than it saves
# Level 4, measured on real pages (dashboard, lesson, quiz attempt; docs/performance.md): 0.3-1.9 % more
# bytes than level 6 for about 30 % less CPU per page. Levels 1-3 save more CPU, but cost 5-10 % more
# bytes on the slow links trainees read from.
LEVEL = 4

_static_cache: dict[Path, tuple[float, bytes]] = {}


def accepts_gzip(accept_encoding: str) -> bool:
    for part in accept_encoding.split(","):
        name, _, params = part.strip().partition(";")
        if name.strip().lower() in {"gzip", "*"}:
            return params.replace(" ", "") not in {"q=0", "q=0.0", "q=0.00", "q=0.000"}
    return False


def gzip_bytes(data: bytes) -> bytes:
    return gzip.compress(data, compresslevel=LEVEL, mtime=0)


def gzip_static(path: Path) -> bytes:
    mtime = path.stat().st_mtime
    cached = _static_cache.get(path)
    if cached and cached[0] == mtime:
        return cached[1]
    packed = gzip_bytes(path.read_bytes())
    _static_cache[path] = (mtime, packed)
    return packed
