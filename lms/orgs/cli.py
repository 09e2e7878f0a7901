from __future__ import annotations

import click

from lms.orgs.services import load_reference_data
from lms.unit_of_work import unit_of_work


@click.group("orgs")
def orgs_group() -> None:
    """Countries and authorities."""


@orgs_group.command("load")
def load() -> None:
    """Load or re-sync the participating states and their authorities (never duplicates)."""
    with unit_of_work():
        result = load_reference_data()
    click.echo(
        f"countries added: {result.countries_added}, authorities added: {result.authorities_added}, "
        f"updated: {result.updated}"
    )
