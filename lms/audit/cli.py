from __future__ import annotations

import click

from lms.audit.services import verify_audit_chain


@click.group("audit")
def audit_group() -> None:
    """The tamper-evident audit trail."""


@audit_group.command("verify")
def verify() -> None:
    """Check that no audit record was edited, deleted or reordered."""
    problems = verify_audit_chain()
    for problem in problems:
        click.echo(f"record {problem.record_id}: {problem.message}", err=True)
    if problems:
        raise click.ClickException(f"the audit trail was tampered with ({len(problems)} problem(s))")
    click.echo("audit trail intact")
