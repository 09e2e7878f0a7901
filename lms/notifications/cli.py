from __future__ import annotations

import click

from lms.notifications.services import send_due_mail


@click.group("mail")
def mail_group() -> None:
    """Outgoing mail."""


@mail_group.command("send")
@click.option("--limit", default=500, show_default=True)
def send(limit: int) -> None:
    """Send pending messages that are due, retrying earlier failures."""
    sent, failed = send_due_mail(limit=limit)
    click.echo(f"sent: {sent}, failed (will retry): {failed}")
