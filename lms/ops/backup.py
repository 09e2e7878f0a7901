"""``flask lms backup`` / ``flask lms restore``: a consistent database snapshot plus the instance
files that matter, in one tar.gz.

Consistency under write load:
- SQLite: ``VACUUM INTO`` (one read transaction, about a second here under load; the page-by-page
  online backup API restarts on every concurrent write and never finished under load);
- PostgreSQL: ``pg_dump`` inside a REPEATABLE READ transaction whose exported snapshot also gives
  the row counts written to the manifest, so the counts describe exactly the dumped data.

Instance files: everything under the instance folder (signing keys, uploads, issued PDFs, the
secret key, config.py) except live SQLite files (the database is in the snapshot; the job queue is
rebuilt from the data) and the backups folder itself. The archive holds secrets: it is written 0600.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import sqlite3
import subprocess
import tarfile
import tempfile
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from flask import current_app
from sqlalchemy import text
from sqlalchemy.engine import URL, Connection

from lms.db import utcnow
from lms.extensions import db

FORMAT_VERSION = 1
MANIFEST = "manifest.json"
SQLITE_SNAPSHOT = "database.sqlite"
POSTGRES_DUMP = "database.pgdump"
INSTANCE_PREFIX = "instance"
BACKUPS_FOLDER = "backups"
LIVE_SQLITE_SUFFIXES = (".sqlite", ".sqlite3", ".db", "-wal", "-shm", "-journal")


class BackupError(Exception):
    pass


@dataclass
class RestoreReport:
    archive: Path
    dialect: str
    files: int
    counts: dict[str, int]
    mismatches: dict[str, tuple[int, int]] = field(default_factory=dict)  # table: (expected, found)
    integrity: str = "ok"

    @property
    def ok(self) -> bool:
        return not self.mismatches and self.integrity == "ok"


# --- backup ----------------------------------------------------------------------------------


def default_backup_folder() -> Path:
    return Path(current_app.config.get("BACKUP_FOLDER") or Path(current_app.instance_path) / BACKUPS_FOLDER)


def create_backup(output: Path | None = None) -> Path:
    """Write the archive; ``output`` is a folder (a dated name is chosen) or a .tar.gz path."""
    stamp = utcnow().strftime("%Y%m%dT%H%M%S%fZ")
    output = Path(output) if output else default_backup_folder()
    target = output if output.name.endswith(".tar.gz") else output / f"lms-backup-{stamp}.tar.gz"
    target.parent.mkdir(parents=True, exist_ok=True)
    dialect = db.engine.dialect.name
    with tempfile.TemporaryDirectory(dir=target.parent, prefix=".backup-") as work:
        work_dir = Path(work)
        if dialect == "sqlite":
            snapshot = work_dir / SQLITE_SNAPSHOT
            snapshot_sqlite(sqlite_database_path(), snapshot)
            counts = sqlite_row_counts(snapshot)
        elif dialect == "postgresql":
            snapshot = work_dir / POSTGRES_DUMP
            counts = snapshot_postgresql(snapshot)
        else:
            raise BackupError(f"no backup method for the {dialect} database")
        files = instance_files(
            Path(current_app.instance_path), exclude=[target.parent, sqlite_path_or_none()]
        )
        manifest = {
            "format": FORMAT_VERSION,
            "created_at": utcnow().isoformat(),
            "dialect": dialect,
            "database_file": snapshot.name,
            "row_counts": counts,
            "instance_files": [relative for relative, _ in files],
        }
        (work_dir / MANIFEST).write_text(json.dumps(manifest, indent=2, sort_keys=True))
        partial = work_dir / "archive.tar.gz"
        fd = os.open(partial, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        with os.fdopen(fd, "wb") as raw, tarfile.open(fileobj=raw, mode="w:gz") as archive:
            archive.add(work_dir / MANIFEST, arcname=MANIFEST)
            archive.add(snapshot, arcname=snapshot.name)
            for relative, path in files:
                archive.add(path, arcname=f"{INSTANCE_PREFIX}/{relative}", recursive=False)
        os.replace(partial, target)  # a half-written archive never carries the final name
    return target


def sqlite_database_path() -> Path:
    database = db.engine.url.database
    if not database or database == ":memory:":
        raise BackupError("the SQLite database is in memory: nothing to back up")
    return Path(database).resolve()


def sqlite_path_or_none() -> Path | None:
    return sqlite_database_path() if db.engine.dialect.name == "sqlite" else None


def snapshot_sqlite(live: Path, target: Path) -> None:
    """VACUUM INTO: a transactionally consistent copy while writers go on (WAL: they are not blocked)."""
    connection = sqlite3.connect(str(live), timeout=60, isolation_level=None)
    try:
        connection.execute("PRAGMA busy_timeout=60000")
        connection.execute("VACUUM INTO ?", (str(target),))
    finally:
        connection.close()


def sqlite_row_counts(path: Path) -> dict[str, int]:
    connection = sqlite3.connect(f"file:{path}?mode=ro", uri=True)
    try:
        names = [
            row[0]
            for row in connection.execute(
                "SELECT name FROM sqlite_master "
                "WHERE type = 'table' AND name NOT LIKE 'sqlite_%' ORDER BY name"
            )
        ]
        return {
            name: int(connection.execute(f'SELECT count(*) FROM "{name}"').fetchone()[0])  # noqa: S608 -- names from sqlite_master
            for name in names
        }
    finally:
        connection.close()


def libpq_command_parts(url: URL) -> tuple[str, dict[str, str]]:
    """The SQLAlchemy URL as a libpq connection string; the password goes in PGPASSWORD, never on
    the command line (where `ps` shows it)."""
    env = dict(os.environ)
    if url.password:
        env["PGPASSWORD"] = str(url.password)
    plain = url.set(drivername="postgresql", password=None)
    return plain.render_as_string(hide_password=False), env


def postgres_client(program: str) -> tuple[str, int]:
    """The full path and major version of pg_dump / pg_restore."""
    executable = shutil.which(program)
    if executable is None:
        raise BackupError(f"{program} is not installed (Debian: apt-get install postgresql-client)")
    version = subprocess.run([executable, "--version"], capture_output=True, text=True, check=True)  # noqa: S603 -- fixed program, no shell
    match = re.search(r"\(PostgreSQL\) (\d+)", version.stdout)
    if match is None:
        raise BackupError(f"cannot read the version of {program}: {version.stdout.strip()}")
    return executable, int(match.group(1))


def _server_major(connection: Connection) -> int:
    return int(connection.execute(text("SHOW server_version_num")).scalar_one()) // 10000


def postgres_row_counts(connection: Connection) -> dict[str, int]:
    names = connection.execute(
        text(
            "SELECT table_name FROM information_schema.tables "
            "WHERE table_schema = current_schema() AND table_type = 'BASE TABLE' ORDER BY table_name"
        )
    ).scalars()
    quote = connection.dialect.identifier_preparer.quote
    return {
        name: int(connection.execute(text(f"SELECT count(*) FROM {quote(name)}")).scalar_one())  # noqa: S608 -- catalogue names, quoted
        for name in list(names)
    }


def snapshot_postgresql(target: Path) -> dict[str, int]:
    url, env = libpq_command_parts(db.engine.url)
    with db.engine.connect() as connection:
        connection = connection.execution_options(isolation_level="REPEATABLE READ")
        with connection.begin():
            server = _server_major(connection)
            pg_dump, client = postgres_client("pg_dump")
            if client < server:
                raise BackupError(
                    f"pg_dump {client} cannot dump a PostgreSQL {server} server; install client {server}"
                )
            snapshot_id = connection.execute(text("SELECT pg_export_snapshot()")).scalar_one()
            counts = postgres_row_counts(connection)
            result = subprocess.run(  # noqa: S603 -- fixed program and arguments, no shell
                [pg_dump, "--format=custom", "--no-owner", "--no-privileges", f"--snapshot={snapshot_id}",
                 f"--file={target}", f"--dbname={url}"],
                env=env, capture_output=True, text=True, check=False,
            )  # fmt: skip
            if result.returncode != 0:
                raise BackupError(f"pg_dump failed: {result.stderr.strip()}")
    return counts


def instance_files(instance: Path, exclude: list[Path | None]) -> list[tuple[str, Path]]:
    """(relative name, path) of every regular file worth keeping, sorted, in any subfolder."""
    excluded = [path.resolve() for path in exclude if path is not None]
    kept: list[tuple[str, Path]] = []
    if not instance.exists():
        return kept
    for path in sorted(instance.rglob("*")):
        resolved = path.resolve()
        if not path.is_file() or path.is_symlink():
            continue
        if any(resolved == skip or skip in resolved.parents for skip in excluded):
            continue
        if path.name.endswith(LIVE_SQLITE_SUFFIXES) or path.name.startswith(".backup-"):
            continue
        kept.append((path.relative_to(instance).as_posix(), path))
    return kept


# --- restore ---------------------------------------------------------------------------------


def read_manifest(archive_path: Path) -> dict[str, Any]:
    with tarfile.open(archive_path, "r:gz") as archive:
        member = archive.extractfile(MANIFEST)
        if member is None:
            raise BackupError(f"{archive_path} has no {MANIFEST}: not an Academy LMS backup")
        return dict(json.loads(member.read()))


def restore_backup(archive_path: Path) -> RestoreReport:
    """Replace this app's database and instance files by the archive's, then check the result.

    Stop the web and job processes first: the database is replaced underneath them."""
    archive_path = Path(archive_path)
    manifest = read_manifest(archive_path)
    if manifest.get("format") != FORMAT_VERSION:
        raise BackupError(f"unsupported backup format {manifest.get('format')!r}")
    dialect = db.engine.dialect.name
    if manifest["dialect"] != dialect:
        raise BackupError(f"the backup is of a {manifest['dialect']} database; this app uses {dialect}")
    instance = Path(current_app.instance_path)
    with tempfile.TemporaryDirectory(prefix=".restore-") as work:
        work_dir = Path(work)
        with tarfile.open(archive_path, "r:gz") as archive:
            archive.extractall(work_dir, filter="data")  # refuses absolute paths, '..', devices
        db.session.remove()
        db.engine.dispose()
        if dialect == "sqlite":
            _restore_sqlite(work_dir / manifest["database_file"], sqlite_database_path())
        else:
            _restore_postgresql(work_dir / manifest["database_file"])
        restored_files = _restore_instance_files(work_dir / INSTANCE_PREFIX, instance)
    db.engine.dispose()
    return check_restored(archive_path, manifest, restored_files)


def _restore_sqlite(snapshot: Path, live: Path) -> None:
    live.parent.mkdir(parents=True, exist_ok=True)
    partial = live.with_name(live.name + ".restoring")
    shutil.copyfile(snapshot, partial)
    for suffix in ("-wal", "-shm", "-journal"):
        live.with_name(live.name + suffix).unlink(missing_ok=True)
    os.replace(partial, live)


def _restore_postgresql(dump: Path) -> None:
    pg_restore, _ = postgres_client("pg_restore")
    url, env = libpq_command_parts(db.engine.url)
    result = subprocess.run(  # noqa: S603 -- fixed program and arguments, no shell
        [pg_restore, "--clean", "--if-exists", "--no-owner", "--no-privileges", "--single-transaction",
         "--exit-on-error", f"--dbname={url}", str(dump)],
        env=env, capture_output=True, text=True, check=False,
    )  # fmt: skip
    if result.returncode != 0:
        raise BackupError(f"pg_restore failed: {result.stderr.strip()}")


def _restore_instance_files(source: Path, instance: Path) -> int:
    restored = 0
    if not source.exists():
        return restored
    for path in sorted(source.rglob("*")):
        if not path.is_file():
            continue
        target = instance / path.relative_to(source)
        target.parent.mkdir(parents=True, exist_ok=True)
        partial = target.with_name(target.name + ".restoring")
        shutil.copy2(path, partial)
        os.replace(partial, target)
        restored += 1
    return restored


def check_restored(archive_path: Path, manifest: dict[str, Any], files: int) -> RestoreReport:
    expected: dict[str, int] = {str(k): int(v) for k, v in manifest["row_counts"].items()}
    with db.engine.connect() as connection:
        if connection.dialect.name == "sqlite":
            integrity = str(connection.exec_driver_sql("PRAGMA integrity_check").scalar())
            broken_keys = connection.exec_driver_sql("PRAGMA foreign_key_check").fetchall()
            if broken_keys:
                integrity = f"{len(broken_keys)} foreign key violations"
            found = sqlite_row_counts(sqlite_database_path())
        else:
            integrity = "ok"  # pg_restore --single-transaction --exit-on-error either restored all or nothing
            found = postgres_row_counts(connection)
        connection.rollback()
    mismatches = {
        table: (count, found.get(table, -1))
        for table, count in expected.items()
        if found.get(table, -1) != count
    }
    return RestoreReport(
        archive=archive_path, dialect=manifest["dialect"], files=files, counts=found,
        mismatches=mismatches, integrity=integrity.lower(),
    )  # fmt: skip
