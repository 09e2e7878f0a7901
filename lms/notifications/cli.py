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
    # No unit of work: send_due_mail commits each message's claim before its SMTP call (a crash
    # never sends a message twice), so it commits in steps by design.
    sent, failed = send_due_mail(limit=limit)
    click.echo(f"sent: {sent}, failed (will retry): {failed}")


@mail_group.command("clear-sent")
def clear_sent() -> None:
    """Empty the text of mail already sent or given up on (reset and confirmation links are secrets)."""
    # No unit of work: clear_done_bodies is one UPDATE that takes the writer lock and commits itself
    # (writing_transactions), the same call the admin's page makes.
    click.echo(f"cleared: {clear_done_bodies()}")
