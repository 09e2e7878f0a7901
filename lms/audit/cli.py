from __future__ import annotations

import click

from lms.audit.services import verify_audit_chain
from lms.certificates import audit_checkpoints
from lms.unit_of_work import unit_of_work


@click.group("audit")
def audit_group() -> None:
    """The tamper-evident audit trail."""


@audit_group.command("verify")
def verify() -> None:
    """Check that no audit record was edited, deleted, reordered or rewritten since the last signed
    checkpoint."""
    problems = [f"record {p.record_id}: {p.message}" for p in verify_audit_chain()]
    checkpoints = audit_checkpoints.load_checkpoints()
    problems += [f"checkpoint {p.created}: {p.message}" for p in audit_checkpoints.verify_checkpoints()]
    for problem in problems:
        click.echo(problem, err=True)
    if problems:
        raise click.ClickException(f"the audit trail was tampered with ({len(problems)} problem(s))")
    click.echo(f"audit trail intact ({len(checkpoints)} signed checkpoint(s) hold)")


@audit_group.command("checkpoint")
def checkpoint() -> None:
    """Sign the chain's head (record count and newest hash) with the issuer key."""
    with unit_of_work():
        signed = audit_checkpoints.create_checkpoint()
    if signed is None:
        click.echo("the audit trail is empty: nothing to sign")
        return
    click.echo(f"checkpoint: {signed['recordCount']} records, head {signed['headId']} {signed['headHash']}")
