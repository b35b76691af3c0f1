from __future__ import annotations

import os
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

# ===== Database servers (PostgreSQL via tests/pgserver.py, SQLite) ===========================
# pg_server: session-wide PostgresServer (skipped if PostgreSQL is not installed, unless CI=true)
# pg_url:    SQLAlchemy URL of a fresh, empty PostgreSQL database for this test (dropped after)
# sqlite_url: SQLAlchemy URL of a fresh SQLite file in tmp_path
# db_url:    parametrized over ["sqlite", "postgresql"]; tests using it run on both backends

if str(Path(__file__).parent) not in sys.path:  # tests/ is not a package
    sys.path.insert(0, str(Path(__file__).parent))
from pgserver import PostgresServer, PostgresUnavailable


@pytest.fixture(scope="session")
def pg_server() -> Iterator[PostgresServer]:
    server = PostgresServer()
    try:
        server.start()
    except PostgresUnavailable as e:
        if os.environ.get("CI", "").lower() == "true":
            pytest.fail(f"PostgreSQL is required under CI=true: {e}", pytrace=False)
        pytest.skip(str(e))
    try:
        yield server
    finally:
        server.stop()


@pytest.fixture
def pg_url(pg_server: PostgresServer) -> Iterator[str]:
    with pg_server.scratch_database() as url:
        yield url


@pytest.fixture
def cli_isolated(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """A command-line test runs in its own folder with none of the bot's variables set."""
    monkeypatch.chdir(tmp_path)
    for name in ("DATABASE_URL", "MEDLOFTE_CLOCK", "MEDLOFTE_LANG"):
        monkeypatch.delenv(name, raising=False)


@pytest.fixture
def sqlite_url(tmp_path: Path) -> str:
    return f"sqlite:///{tmp_path}/test.db"


@pytest.fixture(params=["sqlite", pytest.param("postgresql", marks=pytest.mark.postgres)])
def db_url(request: pytest.FixtureRequest) -> str:
    url: str = request.getfixturevalue("pg_url" if request.param == "postgresql" else "sqlite_url")
    return url


# ===== end of database servers ===============================================================
