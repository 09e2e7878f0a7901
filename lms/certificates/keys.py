"""The academy's Ed25519 signing key, kept in the instance folder (never committed).

Layout of ``instance/certificate-keys/``:
    <key-id>.pem   the private key (mode 0600); only the active key has one
    <key-id>.pub   the public key (Multikey) of every key ever used, active or retired
    active         the id of the key that signs new credentials

The key is created on first use. Rotation makes a new key active and deletes the old private key,
but keeps its public key: the DID document lists every public key, so credentials signed before
a rotation stay verifiable.
"""

from __future__ import annotations

import hashlib
import os
from dataclasses import dataclass
from pathlib import Path

from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey

from lms.certificates.dataintegrity import public_key_from_multibase, public_key_multibase

KEYS_FOLDER = "certificate-keys"
ACTIVE_FILE = "active"


@dataclass(frozen=True)
class SigningKey:
    key_id: str
    private_key: Ed25519PrivateKey


@dataclass(frozen=True)
class PublishedKey:
    key_id: str
    public_key_multibase: str
    active: bool

    @property
    def public_key(self) -> Ed25519PublicKey:
        return public_key_from_multibase(self.public_key_multibase)


def key_id_for(public_key: Ed25519PublicKey) -> str:
    return "key-" + hashlib.sha256(public_key.public_bytes_raw()).hexdigest()[:12]


def _folder(instance_dir: Path) -> Path:
    folder = Path(instance_dir) / KEYS_FOLDER
    folder.mkdir(parents=True, exist_ok=True, mode=0o700)
    return folder


def _write_new(path: Path, data: bytes, mode: int) -> None:
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, mode)
    with os.fdopen(fd, "wb") as handle:
        handle.write(data)


def _new_key(folder: Path) -> str:
    private_key = Ed25519PrivateKey.generate()
    key_id = key_id_for(private_key.public_key())
    pem = private_key.private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
    )
    _write_new(folder / f"{key_id}.pem", pem, 0o600)
    _write_new(folder / f"{key_id}.pub", public_key_multibase(private_key.public_key()).encode(), 0o644)
    return key_id


def _active_id(folder: Path) -> str | None:
    active = folder / ACTIVE_FILE
    return active.read_text().strip() if active.exists() else None


def load_signing_key(instance_dir: Path) -> SigningKey:
    """The active key, created on first use (two processes racing end up with one key)."""
    folder = _folder(instance_dir)
    key_id = _active_id(folder)
    if key_id is None:
        candidate = _new_key(folder)
        try:
            _write_new(folder / ACTIVE_FILE, candidate.encode(), 0o644)
            key_id = candidate
        except FileExistsError:  # another process won the race: keep its key, drop ours
            (folder / f"{candidate}.pem").unlink()
            (folder / f"{candidate}.pub").unlink()
            key_id = _active_id(folder)
            if key_id is None:
                raise RuntimeError("the signing key's 'active' file vanished") from None
    private_key = serialization.load_pem_private_key((folder / f"{key_id}.pem").read_bytes(), None)
    if not isinstance(private_key, Ed25519PrivateKey):
        raise ValueError(f"{key_id}.pem is not an Ed25519 key")
    return SigningKey(key_id=key_id, private_key=private_key)


def rotate(instance_dir: Path) -> tuple[str | None, str]:
    """Make a new key active; the old private key is deleted, its public key kept. (old id, new id)"""
    folder = _folder(instance_dir)
    old_id = _active_id(folder)
    new_id = _new_key(folder)
    temporary = folder / f"{ACTIVE_FILE}.tmp"
    temporary.write_text(new_id)
    os.replace(temporary, folder / ACTIVE_FILE)
    if old_id is not None:
        (folder / f"{old_id}.pem").unlink(missing_ok=True)
    return old_id, new_id


def published_keys(instance_dir: Path) -> list[PublishedKey]:
    """Every public key ever used, the active one first (creating it if there is none yet)."""
    active = load_signing_key(instance_dir).key_id
    folder = _folder(instance_dir)
    keys = [
        PublishedKey(
            key_id=path.stem, public_key_multibase=path.read_text().strip(), active=path.stem == active
        )
        for path in sorted(folder.glob("*.pub"))
    ]
    return sorted(keys, key=lambda key: not key.active)
