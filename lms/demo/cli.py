from __future__ import annotations

import click

from lms.certificates.rendering import store_missing_pdfs
from lms.demo.load import load_demo_data
from lms.demo.services import DEMO_PASSWORD
from lms.unit_of_work import unit_of_work


@click.group("demo")
def demo_group() -> None:
    """Demo people and progress (development only)."""


@demo_group.command("load")
def load() -> None:
    """Create the demo accounts documented in README.md (idempotent)."""
    with unit_of_work():
        created = load_demo_data()
    # The certificates' PDFs are the job's work after a commit; here, so that they download at once.
    # Outside the unit of work on purpose: store_missing_pdfs renders with no transaction open and
    # commits each PDF's row on its own (a long rendering never holds the write lock).
    store_missing_pdfs(limit=10_000, grace_seconds=0)
    for email in created:
        click.echo(f"created {email} (password: {DEMO_PASSWORD})")
    click.echo(f"{len(created)} demo account(s) created")
