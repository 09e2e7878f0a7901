from __future__ import annotations

import click

from lms.extensions import db
from lms.orgs.services import load_reference_data


@click.group("orgs")
def orgs_group() -> None:
    """Countries and authorities."""


@orgs_group.command("load")
def load() -> None:
    """Load or re-sync the participating states and their authorities (never duplicates)."""
    result = load_reference_data()
    db.session.commit()
    click.echo(
        f"countries added: {result.countries_added}, authorities added: {result.authorities_added}, "
        f"updated: {result.updated}"
    )
