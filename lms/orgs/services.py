"""Reference data: countries and authorities, loaded from a YAML file without duplicating."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import yaml
from flask_babel import gettext as _
from sqlalchemy import func, select

from lms.audit.services import record_event
from lms.config import LANGUAGES
from lms.db import utcnow
from lms.errors import Conflict, ValidationFailed
from lms.extensions import db
from lms.orgs.models import Authority, Country

REFERENCE_FILE = Path(__file__).with_name("reference_data.yml")


@dataclass(frozen=True)
class ReferenceLoadResult:
    countries_added: int
    authorities_added: int
    updated: int


def load_reference_data(path: Path = REFERENCE_FILE) -> ReferenceLoadResult:
    data = yaml.safe_load(path.read_text(encoding="utf-8"))
    countries = {c.code: c for c in db.session.query(Country).all()}
    authorities = {a.code: a for a in db.session.query(Authority).all()}
    added_countries = added_authorities = updated = 0
    for row in data["countries"]:
        code = str(row["code"]).upper()
        names = {lang: row[f"name_{lang}"] for lang in LANGUAGES if lang != "en" and row.get(f"name_{lang}")}
        country = countries.get(code)
        if country is None:
            country = Country(code=code, name=row["name"])
            db.session.add(country)
            countries[code] = country
            added_countries += 1
        elif (country.name, country.names, country.groups) != (row["name"], names, row.get("groups", [])):
            updated += 1
        country.name = row["name"]
        country.names = names
        country.groups = list(row.get("groups", []))
        for item in row.get("authorities", []):
            authority = authorities.get(item["code"])
            if authority is None:
                authority = Authority(code=item["code"], name=item["name"], country_code=code)
                db.session.add(authority)
                authorities[item["code"]] = authority
                added_authorities += 1
            elif authority.edited_at is not None:
                continue  # an admin's rename or move wins over the file
            elif (authority.name, authority.kind, authority.country_code) != (
                item["name"], item.get("kind", "other"), code,
            ):  # fmt: skip
                updated += 1
            authority.name = item["name"]
            authority.kind = item.get("kind", "other")
            authority.country_code = code
    db.session.flush()
    return ReferenceLoadResult(added_countries, added_authorities, updated)


# --- Administration of countries, authorities and focal points (every change is audited) ---

AUTHORITY_KINDS = ("border_guard", "migration", "interior", "police", "other")


def authority_view(authority: Authority) -> dict[str, object]:
    return {
        "code": authority.code,
        "name": authority.name,
        "kind": authority.kind,
        "country": authority.country_code,
        "retired_at": authority.retired_at.isoformat() if authority.retired_at else None,
    }


def _check_country(country_code: str) -> str:
    code = country_code.strip().upper()
    if db.session.get(Country, code) is None:
        raise ValidationFailed(_("Choose a country from the list."))
    return code


def create_country(code: str, name: str, actor_id: int | None) -> Country:
    code = code.strip().upper()
    if len(code) != 2 or not code.isalpha() or not code.isascii():
        raise ValidationFailed(_("A country code has two letters (ISO 3166-1 alpha-2)."))
    if not name.strip():
        raise ValidationFailed(_("The country needs a name."))
    if db.session.get(Country, code) is not None:
        raise Conflict(_("Country %(code)s already exists.", code=code))
    country = Country(code=code, name=name.strip(), names={}, groups=[])
    db.session.add(country)
    db.session.flush()
    record_event("orgs.country_create", "country", code, actor_id=actor_id, after={"name": country.name})
    return country


def create_authority(code: str, name: str, kind: str, country_code: str, actor_id: int | None) -> Authority:
    code = code.strip().lower()
    if not code or not all(ch.isascii() and (ch.isalnum() or ch == "-") for ch in code):
        raise ValidationFailed(_("The code may contain Latin letters, digits and hyphens only."))
    if not name.strip():
        raise ValidationFailed(_("The authority needs a name."))
    if kind not in AUTHORITY_KINDS:
        raise ValidationFailed(_("Choose the kind of authority."))
    country = _check_country(country_code)
    if db.session.scalar(select(Authority.id).where(func.lower(Authority.code) == code)) is not None:
        raise Conflict(_("An authority with the code %(code)s already exists.", code=code))
    authority = Authority(code=code, name=name.strip(), kind=kind, country_code=country, edited_at=utcnow())
    db.session.add(authority)
    db.session.flush()
    record_event("orgs.authority_create", "authority", authority.id, actor_id=actor_id,
                 after=authority_view(authority))  # fmt: skip
    return authority


def update_authority(
    authority: Authority, name: str, kind: str, country_code: str, actor_id: int | None
) -> Authority:
    if not name.strip():
        raise ValidationFailed(_("The authority needs a name."))
    if kind not in AUTHORITY_KINDS:
        raise ValidationFailed(_("Choose the kind of authority."))
    country = _check_country(country_code)
    before = authority_view(authority)
    authority.name = name.strip()
    authority.kind = kind
    authority.country_code = country
    after = authority_view(authority)
    if before != after:
        authority.edited_at = utcnow()
        db.session.flush()
        record_event("orgs.authority_update", "authority", authority.id, actor_id=actor_id,
                     before=before, after=after)  # fmt: skip
    return authority


def retire_authority(authority: Authority, actor_id: int | None) -> Authority:
    """A retired authority keeps its staff, history and reports; it takes no new accounts or focal points.

    Focal points are auth's rows: the caller, `lms.admin.services.retire_authority`, refuses while any remain.
    """
    if authority.is_retired:
        raise Conflict(_("This authority is already retired."))
    before = authority_view(authority)
    authority.retired_at = utcnow()
    db.session.flush()
    record_event("orgs.authority_retire", "authority", authority.id, actor_id=actor_id,
                 before=before, after=authority_view(authority))  # fmt: skip
    return authority


def reinstate_authority(authority: Authority, actor_id: int | None) -> Authority:
    if not authority.is_retired:
        raise Conflict(_("This authority is not retired."))
    before = authority_view(authority)
    authority.retired_at = None
    db.session.flush()
    record_event("orgs.authority_reinstate", "authority", authority.id, actor_id=actor_id,
                 before=before, after=authority_view(authority))  # fmt: skip
    return authority


def resync_reference_data(actor_id: int | None, path: Path = REFERENCE_FILE) -> ReferenceLoadResult:
    result = load_reference_data(path)
    counts = {
        "countries_added": result.countries_added,
        "authorities_added": result.authorities_added,
        "updated": result.updated,
    }
    record_event("orgs.reference_resync", "reference_data", path.name, actor_id=actor_id, after=counts)
    return result
