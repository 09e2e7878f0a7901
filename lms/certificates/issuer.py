"""Who issues certificates: the academy's name, public address and did:web identifier.

They come from the academy settings (lms.settings: a database row over PUBLIC_BASE_URL and
ACADEMY_NAME in the config), read through this one function.
"""

from __future__ import annotations

from dataclasses import dataclass

from lms.settings.did_web import did_web_from_base_url, normalise_base_url
from lms.settings.services import get_settings

DEFAULT_PUBLIC_BASE_URL = "http://127.0.0.1:5000"


@dataclass(frozen=True)
class Issuer:
    name: str
    base_url: str  # no trailing slash
    did: str

    def url(self, path: str) -> str:
        return self.base_url + path


def did_web(base_url: str) -> str:
    """did:web of a base URL: the port's colon is percent-encoded, path segments join with ':'."""
    return did_web_from_base_url(base_url)


def academy_issuer() -> Issuer:
    settings = get_settings()
    return issuer_at(settings.academy_name, settings.public_base_url)


def issuer_at(name: str, base_url: str) -> Issuer:
    """The issuer reached at ``base_url``. The URL is normalised (host in lower case, no trailing
    slash) so that the verify and status-list URLs name the same address as the DID does: with a
    path, did:web:host:academy resolves to <base>/did.json, which the app serves."""
    base_url = normalise_base_url(base_url)
    return Issuer(name=name, base_url=base_url, did=did_web(base_url))
