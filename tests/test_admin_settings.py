"""Academy settings: stored in the database over config defaults; logo; did:web; registration policy."""

from __future__ import annotations

import struct
import zlib
from collections.abc import Callable, Iterator

import pytest
from flask import Flask, g
from flask.testing import FlaskClient
from flask_babel import refresh
from sqlalchemy import select

from lms.audit.models import AuditRecord
from lms.auth.models import Role, User
from lms.auth.services import find_user_by_email
from lms.errors import ValidationFailed
from lms.extensions import db
from lms.orgs.models import Authority
from lms.settings import services
from lms.settings.did_web import InvalidBaseUrl, did_web_from_base_url, normalise_base_url
from lms.settings.sniff import sniff_raster_image
from tests.conftest import login
from tests.test_auth import registration_form


@pytest.fixture(autouse=True)
def _fresh_settings(app: Flask) -> Iterator[None]:
    services.clear_settings_cache()
    yield
    services.clear_settings_cache()


def tiny_png() -> bytes:
    def chunk(kind: bytes, data: bytes) -> bytes:
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))

    header = struct.pack(">IIBBBBB", 1, 1, 8, 2, 0, 0, 0)
    pixels = zlib.compress(b"\x00\x0b\x4f\x8a")
    return b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", header) + chunk(b"IDAT", pixels) + chunk(b"IEND", b"")


# --- Pure functions ----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("url", "did"),
    [
        ("https://academy.example.org", "did:web:academy.example.org"),
        ("https://Academy.Example.org/", "did:web:academy.example.org"),
        ("https://example.org:8443/lms/", "did:web:example.org%3A8443:lms"),
        ("https://example.org/training/academy", "did:web:example.org:training:academy"),
    ],
)
def test_did_web_derives_from_the_public_base_url(url: str, did: str) -> None:
    assert did_web_from_base_url(url) == did


@pytest.mark.parametrize(
    "url", ["ftp://example.org", "example.org", "https://x.org/?a=1", "https://u:p@x.org"]
)
def test_a_public_base_url_must_be_a_plain_http_origin(url: str) -> None:
    with pytest.raises(InvalidBaseUrl):
        normalise_base_url(url)


def test_only_png_and_jpeg_logos_are_recognised() -> None:
    assert sniff_raster_image(tiny_png()) == "png"
    assert sniff_raster_image(b"\xff\xd8\xff\xe0" + b"\x00" * 20 + b"\xff\xd9") == "jpeg"
    assert sniff_raster_image(b'<svg xmlns="http://www.w3.org/2000/svg"><script/></svg>') is None
    assert sniff_raster_image(b"\x89PNG\r\n\x1a\n<svg>") is None
    assert sniff_raster_image(b"GIF89a") is None


# --- Service and pages ----------------------------------------------------------------------------


def test_defaults_come_from_config_until_an_admin_saves(app: Flask, make_user: Callable[..., User]) -> None:
    settings = services.get_settings()
    assert settings.academy_name == app.config["ACADEMY_NAME"]
    assert services.public_base_url() == app.config["PUBLIC_BASE_URL"].rstrip("/")
    admin = make_user(Role.ADMIN)
    services.update_settings(
        services.SettingsChange(academy_name="Prague Process Training Academy",
                                public_base_url="https://academy.example.org/"),
        actor_id=admin.id,
    )  # fmt: skip
    assert services.public_base_url() == "https://academy.example.org"
    assert services.did_web_identifier() == "did:web:academy.example.org"
    record = db.session.scalar(select(AuditRecord).where(AuditRecord.action == "settings.update"))
    assert record.actor_id == admin.id
    assert record.before == {"academy_name": "Academy LMS", "public_base_url": "http://127.0.0.1:5000"}
    assert record.after["academy_name"] == "Prague Process Training Academy"
    with pytest.raises(ValidationFailed):
        services.update_settings(services.SettingsChange(registration_policy="domains"), actor_id=admin.id)


def test_an_admin_edits_the_settings_page(client: FlaskClient, make_user: Callable[..., User]) -> None:
    admin = make_user(Role.ADMIN)
    login(client, admin)
    page = client.get("/admin/settings")
    assert page.status_code == 200
    assert "did:web:127.0.0.1%3A5000" in page.get_data(as_text=True)
    response = client.post(
        "/admin/settings",
        data={"academy_name": "MCP Med Training Institute", "contact_email": "training@mcp.example",
              "default_language": "fr", "registration_policy": "domains",
              "allowed_email_domains": "interieur.gov.ma\n@PSD.gov.jo", "public_base_url": "https://mcp.example",
              "mail_sender": "MCP Med <no-reply@mcp.example>"},
    )  # fmt: skip
    assert response.status_code == 302
    settings = services.get_settings()
    assert settings.allowed_email_domains == ("interieur.gov.ma", "psd.gov.jo")
    assert settings.default_language == "fr" and settings.mail_sender == "MCP Med <no-reply@mcp.example>"
    assert "MCP Med Training Institute" in client.get("/").get_data(as_text=True)  # every page shows it
    client.post("/logout")
    refresh()  # the test shares one app context between requests: drop Flask-Babel's cached locale
    g.pop("_login_user", None)
    assert '<html lang="fr"' in client.get("/login").get_data(as_text=True)  # no Accept-Language: the default
    login(client, admin)
    bad = client.post(
        "/admin/settings",
        data={"academy_name": "X", "default_language": "en", "registration_policy": "open",
              "public_base_url": "https://x.example/?q=1", "mail_sender": "x@x.example"},
    )  # fmt: skip
    assert bad.status_code == 422
    assert services.get_settings().academy_name == "MCP Med Training Institute"


def test_the_logo_accepts_raster_images_only(
    client: FlaskClient, make_user: Callable[..., User], app: Flask
) -> None:
    import io

    login(client, make_user(Role.ADMIN))
    svg = b'<svg xmlns="http://www.w3.org/2000/svg" onload="alert(1)"/>'
    refused = client.post(
        "/admin/settings/logo", data={"logo": (io.BytesIO(svg), "logo.png")}, follow_redirects=True
    )
    assert "must be a PNG or JPEG" in refused.get_data(as_text=True)
    assert services.get_settings().logo_filename is None
    client.post("/admin/settings/logo", data={"logo": (io.BytesIO(tiny_png()), "anything.svg")})
    filename = services.get_settings().logo_filename
    assert filename is not None and filename.endswith(".png")
    with client.get("/branding/logo") as served:  # a file response: close it
        assert served.status_code == 200 and served.mimetype == "image/png"
        assert served.headers["X-Content-Type-Options"] == "nosniff"
        assert served.data == tiny_png()
    assert "/branding/logo" in client.get("/").get_data(as_text=True)
    client.post("/admin/settings/logo/remove")
    assert client.get("/branding/logo").status_code == 404


# --- Registration policy ------------------------------------------------------------------------------


def set_policy(policy: str, domains: tuple[str, ...] = ()) -> None:
    services.update_settings(
        services.SettingsChange(allowed_email_domains=domains, registration_policy=policy), actor_id=None
    )
    db.session.commit()


def test_closed_registration_refuses_everyone(
    client: FlaskClient, make_authority: Callable[..., Authority]
) -> None:
    authority = make_authority("UA")
    set_policy("closed")
    page = client.get("/register")
    assert "Self-registration is closed" in page.get_data(as_text=True)
    response = client.post("/register", data=registration_form(authority))
    assert response.status_code == 403
    assert find_user_by_email("olena.koval@dpsu.example") is None


def test_domain_registration_admits_listed_domains_only(
    client: FlaskClient, make_authority: Callable[..., Authority]
) -> None:
    authority = make_authority("UA")
    set_policy("domains", ("dpsu.example",))
    assert "dpsu.example" in client.get("/register").get_data(as_text=True)
    refused = client.post("/register", data=registration_form(authority, email="olena@gmail.example"))
    assert refused.status_code == 422
    assert "official email addresses only" in refused.get_data(as_text=True)
    assert find_user_by_email("olena@gmail.example") is None
    accepted = client.post("/register", data=registration_form(authority, email="olena@kyiv.dpsu.example"))
    assert accepted.status_code == 302
    assert find_user_by_email("olena@kyiv.dpsu.example") is not None
