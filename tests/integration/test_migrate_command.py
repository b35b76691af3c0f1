"""`python -m medlofte_bot migrate`, the one-shot step of a deployment, and migrations that
several processes start at once on one PostgreSQL."""

from __future__ import annotations

import threading

import pytest
from sqlalchemy import text

from medlofte_bot.cli import main
from medlofte_bot.storage.database import Database, head_revision, make_engine, migrate


@pytest.fixture(autouse=True)
def _isolated(cli_isolated: None) -> None:
    """Each test in its own folder, none of the bot's variables set (tests/conftest.py)."""


def test_migrate_brings_an_empty_database_to_head_and_says_so(
        db_url: str, monkeypatch: pytest.MonkeyPatch,
        capsys: pytest.CaptureFixture[str]) -> None:
    monkeypatch.setenv("DATABASE_URL", db_url)
    assert main(["migrate"]) == 0
    out = capsys.readouterr().out
    assert f"schemaversion {head_revision()}, den senaste" in out
    assert "password" not in out and "postgres:" not in out.split("(")[0]
    db = Database(db_url)
    try:
        assert db.at_head()
    finally:
        db.dispose()
    assert main(["--lang", "en", "migrate"]) == 0  # a second run changes nothing
    assert f"is at schema revision {head_revision()}" in capsys.readouterr().out


def test_migrate_exits_1_naming_the_host_when_the_database_cannot_be_reached(
        monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]) -> None:
    monkeypatch.setenv("DATABASE_URL",
                       "postgresql+psycopg://medlofte:hemligt@127.0.0.1:9/medlofte"
                       "?connect_timeout=2")
    assert main(["migrate"]) == 1
    err = capsys.readouterr().err
    assert "Databasen kunde inte nås (127.0.0.1:9/medlofte" in err
    assert "hemligt" not in err


@pytest.mark.postgres
def test_three_processes_migrating_one_empty_postgresql_at_once_all_succeed(
        pg_url: str) -> None:
    """Replicas started together each migrate at start: the advisory lock lets one upgrade
    while the others wait and then find the schema at head."""
    errors: list[BaseException] = []
    start = threading.Barrier(3)

    def run() -> None:
        engine = make_engine(pg_url)
        try:
            start.wait()
            migrate(engine)
        except BaseException as exc:
            errors.append(exc)
        finally:
            engine.dispose()

    threads = [threading.Thread(target=run) for _ in range(3)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(60)
    assert errors == []
    engine = make_engine(pg_url)
    try:
        with engine.connect() as conn:
            versions = conn.execute(text("SELECT version_num FROM alembic_version")).all()
    finally:
        engine.dispose()
    assert [v for (v,) in versions] == [head_revision()]
