"""Reference data: countries and authorities, loaded from a YAML file without duplicating."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import yaml

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
        names = {lang: row[f"name_{lang}"] for lang in ("ru", "fr", "ar") if row.get(f"name_{lang}")}
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
            elif (authority.name, authority.kind) != (item["name"], item.get("kind", "other")):
                updated += 1
            authority.name = item["name"]
            authority.kind = item.get("kind", "other")
            authority.country_code = code
    db.session.flush()
    return ReferenceLoadResult(added_countries, added_authorities, updated)
