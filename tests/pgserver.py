"""A throwaway PostgreSQL server for the tests (stdlib + psycopg only).

    with PostgresServer() as pg:
        url = pg.create_database("t_example")   # postgresql+psycopg://postgres@127.0.0.1:PORT/t_example
        ...
        pg.restart()                             # fast shutdown + start, same port and data dir

The server runs from a temp dir under /tmp (data dir, unix socket, log), listens on
127.0.0.1 only, trusts every local connection and is tuned for speed, not durability
(fsync=off etc.). When running as root, initdb and postgres run as the ``postgres``
system user. If MEDLOFTE_TEST_PG_URL is set, that server is used instead and nothing is
started (``restart()`` then raises).
"""

from __future__ import annotations

import atexit
import contextlib
import glob
import os
import pwd
import shutil
import signal
import socket
import subprocess
import tempfile
import time
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit, urlunsplit

import psycopg
from deathsig import die_with_parent

ENV_URL = "MEDLOFTE_TEST_PG_URL"
START_TIMEOUT = 30.0
STOP_TIMEOUT = 30.0
_SETTINGS = {
    "fsync": "off",
    "synchronous_commit": "off",
    "full_page_writes": "off",
    "max_connections": "100",
}


class PostgresUnavailable(RuntimeError):
    """The PostgreSQL server binaries (initdb, postgres) are not installed."""


def find_bindir() -> Path:
    """Dir with initdb and postgres: PATH first, then the newest /usr/lib/postgresql/*/bin."""
    candidates: list[Path] = []
    on_path = shutil.which("initdb")
    if on_path:
        candidates.append(Path(on_path).resolve().parent)

    def version(p: str) -> tuple[int, ...]:
        name = Path(p).parent.name
        return tuple(int(x) for x in name.split(".") if x.isdigit()) or (0,)

    candidates += [Path(p) for p in sorted(glob.glob("/usr/lib/postgresql/*/bin"), key=version,
                                           reverse=True)]
    for d in candidates:
        if all(os.access(d / exe, os.X_OK) for exe in ("initdb", "postgres")):
            return d
    raise PostgresUnavailable(
        "PostgreSQL server binaries not found (looked for initdb and postgres on PATH and in "
        "/usr/lib/postgresql/*/bin); install e.g. the Debian package postgresql-15, or set "
        f"{ENV_URL} to an existing server's URL"
    )


def _free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _libpq(url: str) -> str:
    """SQLAlchemy URL -> libpq URL (drops the +driver)."""
    parts = urlsplit(url)
    return urlunsplit(parts._replace(scheme=parts.scheme.split("+", 1)[0]))


def _with_database(url: str, name: str) -> str:
    return urlunsplit(urlsplit(url)._replace(path="/" + name))


def _quote_ident(name: str) -> str:
    return '"' + name.replace('"', '""') + '"'


class PostgresServer:
    """A PostgreSQL server for one test session. Call start() or use it as a context manager."""

    def __init__(self) -> None:
        self.url = ""
        self.external = False
        self.port = 0
        self.tmpdir: Path | None = None
        self.bindir: Path | None = None
        self._proc: subprocess.Popen[bytes] | None = None
        self._as_user: dict[str, Any] = {}
        self._atexit_registered = False

    # -- public API ---------------------------------------------------------------------------

    def start(self) -> PostgresServer:
        external = os.environ.get(ENV_URL)
        if external:
            scheme, sep, rest = external.partition("://")
            if scheme in ("postgres", "postgresql"):
                scheme = "postgresql+psycopg"
            self.url, self.external = f"{scheme}{sep}{rest}", True
            self._wait_ready(time.monotonic() + START_TIMEOUT)
            return self
        self.bindir = find_bindir()
        if not self._atexit_registered:
            atexit.register(self.stop)
            self._atexit_registered = True
        try:
            self._initdb()
            self.port = _free_port()
            self.url = f"postgresql+psycopg://postgres@127.0.0.1:{self.port}/postgres"
            self._start_postgres()
        except BaseException:
            self.stop()
            raise
        return self

    def create_database(self, name: str) -> str:
        """CREATE DATABASE name; returns its SQLAlchemy URL."""
        with psycopg.connect(_libpq(self.url), autocommit=True) as conn:
            conn.execute(f"CREATE DATABASE {_quote_ident(name)}")
        return _with_database(self.url, name)

    @contextlib.contextmanager
    def scratch_database(self, prefix: str = "test") -> Iterator[str]:
        """A new database with a unique name for the duration of the block; its URL."""
        name = f"{prefix}_{uuid.uuid4().hex[:16]}"
        url = self.create_database(name)
        try:
            yield url
        finally:
            self.drop_database(name)

    def drop_database(self, name: str) -> None:
        """DROP DATABASE IF EXISTS name, disconnecting its other sessions first."""
        with psycopg.connect(_libpq(self.url), autocommit=True) as conn:
            conn.execute(f"DROP DATABASE IF EXISTS {_quote_ident(name)} WITH (FORCE)")

    def restart(self) -> None:
        """Fast shutdown, then start again on the same port and data dir (same URL)."""
        if self.external:
            raise RuntimeError(
                f"restart() is not possible on an external server ({ENV_URL} is set)"
            )
        if self.tmpdir is None:
            raise RuntimeError("the server is not running")
        self._stop_postgres()
        self._start_postgres()

    def stop(self) -> None:
        """Fast shutdown and remove the temp dir. Idempotent; also registered with atexit."""
        try:
            self._stop_postgres()
        finally:
            if self.tmpdir is not None:
                shutil.rmtree(self.tmpdir, ignore_errors=True)
                self.tmpdir = None

    def log_tail(self, lines: int = 30) -> str:
        if self.tmpdir is None:
            return ""
        try:
            text = (self.tmpdir / "postgres.log").read_text(errors="replace")
        except OSError:
            return ""
        return "\n".join(text.splitlines()[-lines:])

    def __enter__(self) -> PostgresServer:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()

    # -- internals ----------------------------------------------------------------------------

    def _initdb(self) -> None:
        # /tmp rather than $TMPDIR: the postgres user must be able to traverse every parent,
        # and the unix socket path must stay short (< 108 bytes).
        base = "/tmp" if os.path.isdir("/tmp") else None
        self.tmpdir = Path(tempfile.mkdtemp(prefix="medlofte-pg-", dir=base))
        if os.geteuid() == 0:
            try:
                pw = pwd.getpwnam("postgres")
            except KeyError:
                raise PostgresUnavailable(
                    "running as root, but there is no 'postgres' system user to run the server as"
                ) from None
            os.chown(self.tmpdir, pw.pw_uid, pw.pw_gid)
            self._as_user = {"user": pw.pw_uid, "group": pw.pw_gid, "extra_groups": []}
        os.chmod(self.tmpdir, 0o700)
        assert self.bindir is not None
        cmd = [str(self.bindir / "initdb"), "-D", str(self.tmpdir / "data"), "-A", "trust",
               "-U", "postgres", "--no-sync", "-E", "UTF8", "--locale=C"]
        res = subprocess.run(cmd, cwd=self.tmpdir, capture_output=True, text=True,
                             check=False, **self._as_user)
        if res.returncode != 0:
            raise RuntimeError(f"initdb failed ({res.returncode}):\n{res.stdout}\n{res.stderr}")

    def _start_postgres(self) -> None:
        assert self.tmpdir is not None and self.bindir is not None
        cmd = [str(self.bindir / "postgres"), "-D", str(self.tmpdir / "data"),
               "-p", str(self.port), "-k", str(self.tmpdir),
               "-c", "listen_addresses=127.0.0.1"]
        for key, value in _SETTINGS.items():
            cmd += ["-c", f"{key}={value}"]
        preexec = die_with_parent(signal.SIGINT)  # fast shutdown if the test run dies
        with open(self.tmpdir / "postgres.log", "ab") as log:
            self._proc = subprocess.Popen(
                cmd, cwd=self.tmpdir, stdin=subprocess.DEVNULL, stdout=log, stderr=log,
                start_new_session=True, preexec_fn=preexec, **self._as_user,
            )
        self._wait_ready(time.monotonic() + START_TIMEOUT)

    def _wait_ready(self, deadline: float) -> None:
        last: Exception | None = None
        while time.monotonic() < deadline:
            if self._proc is not None and self._proc.poll() is not None:
                raise RuntimeError(
                    f"postgres exited with code {self._proc.returncode} while starting; "
                    f"log tail:\n{self.log_tail()}"
                )
            try:
                with psycopg.connect(_libpq(self.url), connect_timeout=2) as conn:
                    conn.execute("SELECT 1")
                return
            except psycopg.OperationalError as e:
                last = e
                time.sleep(0.05)
        self._stop_postgres()
        raise RuntimeError(
            f"PostgreSQL at {self.url} did not accept connections within {START_TIMEOUT:.0f} s "
            f"(last error: {last}); log tail:\n{self.log_tail()}"
        )

    def _stop_postgres(self) -> None:
        proc, self._proc = self._proc, None
        if proc is None or proc.poll() is not None:
            return
        proc.send_signal(signal.SIGINT)  # "fast" shutdown
        try:
            proc.wait(STOP_TIMEOUT)
        except subprocess.TimeoutExpired:
            proc.send_signal(signal.SIGQUIT)  # "immediate" shutdown
            try:
                proc.wait(10)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait()
