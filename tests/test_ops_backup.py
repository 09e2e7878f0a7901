"""Backup under write load -> restore into a new instance -> integrity and row counts match.

On SQLite (VACUUM INTO) and on PostgreSQL (pg_dump in an exported snapshot). The PostgreSQL case
creates and drops its own databases (lms_ops_<random>), never touching the suite's `test` database.
"""

from __future__ import annotations

import json
import secrets
import shutil
import tarfile
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest
from flask import Flask
from sqlalchemy import func, select

from lms import create_app
from lms.certificates import keys
from lms.db import writing_transactions
from lms.extensions import db
from lms.notifications.models import OutgoingMail
from lms.ops import backup

POSTGRES_ADMIN_URL = "postgresql://postgres@127.0.0.1:5432/postgres"


@contextmanager
def temporary_postgres_database(suffix: str = "") -> Iterator[str]:
    """A database of our own on the local server; skips the test when there is no server."""
    psycopg = pytest.importorskip("psycopg")
    name = f"lms_ops_{secrets.token_hex(4)}{suffix}"
    try:
        admin = psycopg.connect(POSTGRES_ADMIN_URL, autocommit=True, connect_timeout=3)
    except psycopg.OperationalError:
        pytest.skip("no PostgreSQL server on 127.0.0.1:5432")
    try:
        admin.execute(f'CREATE DATABASE "{name}"')
        yield f"postgresql+psycopg://postgres@127.0.0.1:5432/{name}"
    finally:
        admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        admin.close()


def make_app(instance: Path, url: str) -> Flask:
    return create_app({"TESTING": True, "INSTANCE_PATH": str(instance), "SQLALCHEMY_DATABASE_URI": url,
                       "SECRET_KEY": "backup-test", "LOG_REQUESTS": False})  # fmt: skip


def populate_instance(instance: Path) -> dict[str, bytes]:
    """Files that matter: signing key, an upload, an issued PDF; returns relative name -> content."""
    keys.load_signing_key(instance)
    (instance / "uploads" / "course-7").mkdir(parents=True)
    (instance / "uploads" / "course-7" / "handout.pdf").write_bytes(b"%PDF-1.7 handout")
    (instance / "certificates").mkdir()
    (instance / "certificates" / "ABCD2345EFGH.pdf").write_bytes(b"%PDF-1.7 certificate")
    return {
        path.relative_to(instance).as_posix(): path.read_bytes()
        for path in instance.rglob("*")
        if path.is_file() and not path.name.startswith(("lms.sqlite", "jobs.sqlite"))
    }


@contextmanager
def write_load(app: Flask, writers: int = 3) -> Iterator[list[int]]:
    """Threads inserting and updating rows without pause; yields the running count of commits."""
    stop = threading.Event()
    commits = [0]
    errors: list[BaseException] = []

    def write() -> None:
        try:
            with app.app_context(), writing_transactions():
                while not stop.is_set():
                    mail = OutgoingMail(recipient="load@agency.test", subject="load", body="x" * 200)
                    db.session.add(mail)
                    db.session.flush()
                    mail.attempts += 1
                    db.session.commit()
                    commits[0] += 1
                db.session.remove()
        except BaseException as error:  # surfaced in the test below
            errors.append(error)

    threads = [threading.Thread(target=write) for _ in range(writers)]
    for thread in threads:
        thread.start()
    try:
        while commits[0] < 50:  # the load is really running before the backup starts
            time.sleep(0.01)
        yield commits
    finally:
        stop.set()
        for thread in threads:
            thread.join()
    assert not errors, errors


def backup_restore_round_trip(
    source: Flask, target: Flask, source_instance: Path, target_instance: Path
) -> None:
    expected_files = populate_instance(source_instance)
    with source.app_context():
        db.create_all()
    with write_load(source) as commits:
        before = commits[0]
        with source.app_context():
            archive = backup.create_backup()
        assert commits[0] > before, "writes went on during the backup"
    with source.app_context():
        live_rows = db.session.scalar(select(func.count()).select_from(OutgoingMail))
        db.session.remove()

    assert archive.parent == source_instance / "backups"
    assert oct(archive.stat().st_mode & 0o777) == "0o600"
    manifest = backup.read_manifest(archive)
    snapshot_rows = manifest["row_counts"]["outgoing_mail"]
    assert 50 <= snapshot_rows <= live_rows
    with tarfile.open(archive) as tar:
        names = set(tar.getnames())
    instance_names = {name for name in names if name.startswith("instance/")}
    assert names - instance_names == {"manifest.json", manifest["database_file"]}
    assert not any(name.endswith((".sqlite", "-wal", "-shm")) for name in instance_names)
    assert not any("backups/" in name for name in instance_names)
    assert "instance/uploads/course-7/handout.pdf" in instance_names

    with target.app_context():
        report = backup.restore_backup(archive)
        assert report.ok, (report.mismatches, report.integrity)
        assert report.counts == manifest["row_counts"]
        restored = db.session.scalars(select(OutgoingMail)).all()
        assert len(restored) == snapshot_rows
        assert all(mail.attempts == 1 for mail in restored)  # each insert+update landed whole
        db.session.remove()
    for relative, content in expected_files.items():
        assert (target_instance / relative).read_bytes() == content, relative
    key_file = next((target_instance / keys.KEYS_FOLDER).glob("*.pem"))
    assert oct(key_file.stat().st_mode & 0o777) == "0o600"  # the private key keeps its mode


def test_backup_under_load_and_restore_on_sqlite(tmp_path: Path) -> None:
    source_instance, target_instance = tmp_path / "source", tmp_path / "target"
    source_instance.mkdir()
    target_instance.mkdir()
    source = make_app(source_instance, f"sqlite:///{source_instance / 'lms.sqlite'}")
    target = make_app(target_instance, f"sqlite:///{target_instance / 'lms.sqlite'}")
    backup_restore_round_trip(source, target, source_instance, target_instance)


def test_backup_under_load_and_restore_on_postgresql(tmp_path: Path) -> None:
    if shutil.which("pg_dump") is None:
        pytest.skip("pg_dump is not installed")
    source_instance, target_instance = tmp_path / "source", tmp_path / "target"
    source_instance.mkdir()
    target_instance.mkdir()
    with temporary_postgres_database("_src") as source_url, temporary_postgres_database("_dst") as target_url:
        source = make_app(source_instance, source_url)
        target = make_app(target_instance, target_url)
        try:
            backup_restore_round_trip(source, target, source_instance, target_instance)
        finally:
            for app in (source, target):
                with app.app_context():
                    db.engine.dispose()


def test_cli_backup_and_restore(tmp_path: Path) -> None:
    instance = tmp_path / "instance"
    instance.mkdir()
    app = make_app(instance, f"sqlite:///{instance / 'lms.sqlite'}")
    with app.app_context():
        db.create_all()
        db.session.add(OutgoingMail(recipient="a@agency.test", subject="s", body="b"))
        db.session.commit()
    runner = app.test_cli_runner()
    output = tmp_path / "out.tar.gz"
    result = runner.invoke(args=["lms", "backup", "--output", str(output)])
    assert result.exit_code == 0, result.output
    assert "backup written" in result.output and output.exists()

    with app.app_context():
        db.session.add(OutgoingMail(recipient="b@agency.test", subject="s", body="b"))
        db.session.commit()
        db.session.remove()
    refused = runner.invoke(args=["lms", "restore", str(output)], input="n\n")
    assert refused.exit_code != 0
    result = runner.invoke(args=["lms", "restore", "--yes", str(output)])
    assert result.exit_code == 0, result.output
    assert "row counts match" in result.output
    with app.app_context():
        assert db.session.scalars(select(OutgoingMail.recipient)).all() == ["a@agency.test"]
        db.session.remove()


def test_restore_refuses_a_backup_of_another_database_kind(tmp_path: Path) -> None:
    archive = tmp_path / "fake.tar.gz"
    manifest = tmp_path / "manifest.json"
    manifest.write_text(json.dumps({"format": 1, "dialect": "postgresql", "row_counts": {}}))
    with tarfile.open(archive, "w:gz") as tar:
        tar.add(manifest, arcname="manifest.json")
    app = make_app(tmp_path, f"sqlite:///{tmp_path / 'lms.sqlite'}")
    with app.app_context(), pytest.raises(backup.BackupError, match="postgresql"):
        backup.restore_backup(archive)
