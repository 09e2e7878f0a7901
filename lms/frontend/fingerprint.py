"""Static asset fingerprints: ``url_for('static', ...)`` gains ``?v=<content hash>``.

A URL then names one exact content, so the response may be cached for a year (``immutable``): a changed
file gets a new hash and therefore a new URL. Hashes are cached per (path, mtime, size), so a file edited
while the server runs is picked up on the next request.
"""

from __future__ import annotations

import hashlib
from pathlib import Path

_cache: dict[Path, tuple[float, int, str]] = {}

HASH_LENGTH = 12
ONE_YEAR = 365 * 24 * 3600


def content_hash(path: Path) -> str | None:
    try:
        stat = path.stat()
    except OSError:
        return None
    cached = _cache.get(path)
    if cached and cached[0] == stat.st_mtime and cached[1] == stat.st_size:
        return cached[2]
    digest = hashlib.sha256(path.read_bytes()).hexdigest()[:HASH_LENGTH]
    _cache[path] = (stat.st_mtime, stat.st_size, digest)
    return digest


def static_file(static_folder: str, filename: str) -> Path | None:
    """The file a static URL names, or None when it would leave the static folder."""
    root = Path(static_folder).resolve()
    path = (root / filename).resolve()
    if root not in path.parents:
        return None
    return path
