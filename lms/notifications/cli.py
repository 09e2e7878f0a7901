from __future__ import annotations

import click

from lms.notifications.services import clear_done_bodies, send_due_mail


@click.group("mail")
def mail_group() -> None:
    """Outgoing mail."""


@mail_group.command("send")
@click.option("--limit", default=500, show_default=True)
def send(limit: int) -> None:
    """Send pending messages that are due, retrying earlier failures."""
    sent, failed = send_due_mail(limit=limit)
    click.echo(f"sent: {sent}, failed (will retry): {failed}")


@mail_group.command("clear-sent")
def clear_sent() -> None:
    """Empty the text of mail already sent or given up on (reset and confirmation links are secrets)."""
    click.echo(f"cleared: {clear_done_bodies()}")
