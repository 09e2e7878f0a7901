from __future__ import annotations

import json

import click

from lms.certificates import signed_documents
from lms.unit_of_work import unit_of_work


@click.group("certificates")
def certificates_group() -> None:
    """Certificates: signing key and DID document."""


@certificates_group.command("rotate-key")
def rotate_key() -> None:
    """Start signing with a new key; retired public keys stay in the DID document."""
    with unit_of_work():
        new_id = signed_documents.rotate_signing_key()
    click.echo(f"new signing key {new_id}; earlier credentials stay verifiable")


@certificates_group.command("did")
def show_did() -> None:
    """Print the DID document served at /.well-known/did.json and /did.json."""
    click.echo(json.dumps(signed_documents.did_document(), indent=2))
