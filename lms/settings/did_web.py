"""did:web identifiers from a public base URL (W3C did:web method, section 3.1.1), as pure functions."""

from __future__ import annotations

from urllib.parse import quote, urlsplit


class InvalidBaseUrl(ValueError):
    pass


def normalise_base_url(url: str) -> str:
    """'https://Academy.example.org/lms/' -> 'https://academy.example.org/lms'; refuses what is not a
    plain http(s) origin with an optional path (no query, fragment or credentials)."""
    parts = urlsplit(url.strip())
    if parts.scheme not in {"http", "https"} or not parts.hostname:
        raise InvalidBaseUrl("the public base URL must start with https:// (or http://) and name a host")
    if parts.query or parts.fragment or parts.username or parts.password:
        raise InvalidBaseUrl("the public base URL must not carry a query, fragment or credentials")
    host = parts.hostname.lower()
    netloc = f"[{host}]" if ":" in host else host
    if parts.port is not None:
        netloc += f":{parts.port}"
    path = parts.path.rstrip("/")
    return f"{parts.scheme}://{netloc}{path}"


def did_web_from_base_url(url: str) -> str:
    """The host (with the port's colon percent-encoded) then each path segment, joined by colons."""
    parts = urlsplit(normalise_base_url(url))
    host = parts.hostname or ""
    identifier = "did:web:" + quote(host, safe="")
    if parts.port is not None:
        identifier += "%3A" + str(parts.port)
    for segment in parts.path.split("/"):
        if segment:
            identifier += ":" + quote(segment, safe="")
    return identifier
