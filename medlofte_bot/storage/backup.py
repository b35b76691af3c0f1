"""Backups that restore: a consistent copy while the bot runs, put back into an empty database.

SQLite: the online backup API (``sqlite3.Connection.backup``) copies a snapshot page by page
while other connections read and write. PostgreSQL: ``pg_dump -Fc`` (one consistent
snapshot) and ``pg_restore``, of a major version no older than the server's.
"""

from __future__ import annotations

import glob
import os
import re
import shutil
import sqlite3
import subprocess
import tempfile
from collections.abc import Iterator
from contextlib import closing, contextmanager
from dataclasses import dataclass
from pathlib import Path

from sqlalchemy import inspect, make_url, text
from sqlalchemy.engine import URL

from medlofte_bot.domain.errors import UserError
from medlofte_bot.storage.database import make_engine, migrate

SQLITE_MAGIC = b"SQLite format 3\x00"
PG_MAGIC = b"PGDMP"


@dataclass(frozen=True)
class Copied:
    """What a backup or restore did: the file, its size, and the tool that did it."""

    file: Path
    size: int
    tool: str


def _sqlite_path(url: URL) -> Path:
    if not url.database or url.database == ":memory:":
        raise UserError("backup.no_file", url=url.render_as_string(hide_password=True))
    return Path(url.database)


def _major(version_text: str) -> int:
    """15 from 'pg_dump (PostgreSQL) 15.10 (Debian 15.10-1.pgdg120+1)'."""
    match = re.search(r"\)\s*(\d+)", version_text)
    return int(match[1]) if match else 0


def find_pg_tool(name: str, server_major: int) -> tuple[Path, int]:
    """``pg_dump`` or ``pg_restore`` of the server's major version (or the nearest newer):
    on PATH first, then /usr/lib/postgresql/*/bin, as tests/pgserver.py looks."""
    found: list[tuple[int, Path]] = []
    candidates = [shutil.which(name), *sorted(glob.glob(f"/usr/lib/postgresql/*/bin/{name}"))]
    for candidate in candidates:
        if not candidate or not os.access(candidate, os.X_OK):
            continue
        try:
            said = subprocess.run([candidate, "--version"], capture_output=True, text=True,
                                  timeout=30, check=True).stdout
        except (OSError, subprocess.SubprocessError):
            continue
        found.append((_major(said), Path(candidate)))
    usable = sorted((v, p) for v, p in found if v >= server_major)
    if not usable:
        have = ", ".join(f"{p} ({v})" for v, p in found) or "-"
        raise UserError("backup.no_pg_tool", tool=name, server=server_major, found=have)
    version, path = usable[0]
    return path, version


def _pg_server_major(url: str) -> int:
    engine = make_engine(url)
    try:
        with engine.connect() as conn:
            return int(conn.execute(text("SHOW server_version_num")).scalar_one()) // 10000
    finally:
        engine.dispose()


def _conninfo_value(value: object) -> str:
    text_value = str(value)
    return "'" + text_value.replace("\\", "\\\\").replace("'", "\\'") + "'"


@contextmanager
def _pg_dbname(url: URL) -> Iterator[str]:
    """A libpq connection string for ``--dbname``. A password goes into a passfile readable
    by this user only, named in the string: never on a command line others can see."""
    parts = {"dbname": url.database, "host": url.host, "port": url.port, "user": url.username}
    with tempfile.TemporaryDirectory(prefix="medlofte-pg-") as folder:
        if url.password:
            passfile = Path(folder) / "pgpass"
            secret = str(url.password).replace("\\", "\\\\").replace(":", "\\:")
            passfile.write_text(f"*:*:*:*:{secret}\n", encoding="utf-8")
            passfile.chmod(0o600)
            parts["passfile"] = str(passfile)
        yield " ".join(f"{k}={_conninfo_value(v)}" for k, v in parts.items() if v)


def _run(command: list[str], tool: str) -> None:
    done = subprocess.run(command, capture_output=True, text=True, check=False)
    if done.returncode != 0:
        lines = (done.stderr or done.stdout).strip().splitlines()
        raise UserError("backup.tool_failed", tool=tool, code=done.returncode,
                        reason=lines[-1] if lines else "-")


def _sqlite_copy(source_path: Path | str, target_path: Path, single_file: bool) -> None:
    """SQLite's online backup from one file to another; its errors said in words."""
    uri = str(source_path).startswith("file:")
    try:
        with closing(sqlite3.connect(source_path, uri=uri)) as source, \
                closing(sqlite3.connect(target_path)) as target:
            with target:
                source.backup(target)
            if single_file:  # no -wal beside it to forget when the file is copied
                target.execute("PRAGMA journal_mode=DELETE")
    except sqlite3.Error as exc:
        raise UserError("backup.sqlite_failed", source=str(source_path),
                        target=str(target_path), reason=str(exc)) from exc


def backup(url_text: str, file: Path) -> Copied:
    """Write a consistent copy of the database at ``url_text`` to ``file`` (never over one)."""
    if file.exists():
        raise UserError("backup.exists", file=str(file))
    url = make_url(url_text)
    partial = file.with_name(f".{file.name}.partial")
    try:
        if url.get_backend_name() == "sqlite":
            source_path = _sqlite_path(url)
            if not source_path.exists():
                raise UserError("backup.no_database", url=str(source_path))
            _sqlite_copy(source_path, partial, single_file=True)
            tool = f"sqlite3 {sqlite3.sqlite_version} (online backup)"
        else:
            major = _pg_server_major(url_text)
            pg_dump, version = find_pg_tool("pg_dump", major)
            with _pg_dbname(url) as dbname:
                _run([str(pg_dump), "--format=custom", f"--file={partial}",
                      f"--dbname={dbname}"], "pg_dump")
            tool = f"pg_dump {version} (server {major})"
        os.replace(partial, file)
    finally:
        partial.unlink(missing_ok=True)
    return Copied(file, file.stat().st_size, tool)


def _empty(url_text: str) -> bool:
    engine = make_engine(url_text)
    try:
        with engine.connect() as conn:
            return not inspect(conn).get_table_names()
    finally:
        engine.dispose()


def restore(url_text: str, file: Path) -> Copied:
    """Put a backup back into the database at ``url_text``, which must be empty; then bring
    the schema to the newest revision (a backup may be older than the code)."""
    try:
        with file.open("rb") as f:
            head = f.read(len(SQLITE_MAGIC))
    except OSError as exc:
        raise UserError("config_unreadable", file=str(file),
                        reason=exc.strerror or str(exc)) from exc
    url = make_url(url_text)
    sqlite = url.get_backend_name() == "sqlite"
    if not head.startswith(SQLITE_MAGIC if sqlite else PG_MAGIC):
        raise UserError("restore.wrong_kind", file=str(file),
                        expected="SQLite" if sqlite else "pg_dump -Fc")
    where = url.render_as_string(hide_password=True)
    if sqlite:
        target_path = _sqlite_path(url)
        if target_path.exists() and not _empty(url_text):
            raise UserError("restore.not_empty", url=where)
        _sqlite_copy(f"file:{file}?mode=ro", target_path, single_file=False)
        tool = f"sqlite3 {sqlite3.sqlite_version} (online backup)"
    else:
        if not _empty(url_text):
            raise UserError("restore.not_empty", url=where)
        major = _pg_server_major(url_text)
        pg_restore, version = find_pg_tool("pg_restore", major)
        with _pg_dbname(url) as dbname:
            _run([str(pg_restore), "--no-owner", "--no-privileges", "--exit-on-error",
                  f"--dbname={dbname}", str(file)], "pg_restore")
        tool = f"pg_restore {version} (server {major})"
    engine = make_engine(url_text)
    try:
        migrate(engine)
    finally:
        engine.dispose()
    return Copied(file, file.stat().st_size, tool)
