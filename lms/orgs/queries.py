"""Read side of countries and authorities, shaped for forms and pages."""

from __future__ import annotations

from sqlalchemy import select
from wtforms import SelectChoice

from lms.extensions import db
from lms.orgs.models import Authority, Country


def country_choices(language: str) -> list[SelectChoice]:
    countries = db.session.scalars(select(Country)).all()
    return sorted(
        (SelectChoice(c.code, c.localized_name(language)) for c in countries),
        key=lambda choice: choice.label,
    )


def authority_choices_by_country(language: str) -> list[SelectChoice]:
    """Active authorities, each in an <optgroup> named after its country."""
    rows = db.session.execute(
        select(Authority, Country)
        .join(Country, Authority.country_code == Country.code)
        .where(Authority.retired_at.is_(None))
        .order_by(Country.name, Authority.name)
    ).all()
    choices = [
        SelectChoice(str(authority.id), authority.name, optgroup=country.localized_name(language))
        for authority, country in rows
    ]
    return sorted(choices, key=lambda choice: choice.optgroup or "")
