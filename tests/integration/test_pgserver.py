"""The throwaway PostgreSQL server used by the tests (tests/pgserver.py, tests/conftest.py)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
import sqlalchemy as sa
from pgserver import PostgresServer
from sqlalchemy import create_engine, text


@pytest.mark.postgres
def test_server_accepts_connections_and_is_postgresql_13_or_newer(pg_url: str) -> None:
    engine = create_engine(pg_url)
    try:
        with engine.connect() as conn:
            version_num = int(conn.execute(text("SHOW server_version_num")).scalar_one())
            encoding = conn.execute(text("SHOW server_encoding")).scalar_one()
    finally:
        engine.dispose()
    assert version_num >= 130000
    assert encoding == "UTF8"


@pytest.mark.postgres
def test_each_test_database_is_isolated(pg_server: PostgresServer, pg_url: str) -> None:
    other_url = pg_server.create_database("isolation_other")
    first, second = create_engine(pg_url), create_engine(other_url)
    try:
        with first.begin() as conn:
            conn.execute(text("CREATE TABLE only_here (id int)"))
        with second.connect() as conn:
            assert not sa.inspect(conn).has_table("only_here")
        with first.connect() as conn:
            assert sa.inspect(conn).has_table("only_here")
    finally:
        first.dispose()
        second.dispose()
        pg_server.drop_database("isolation_other")


@pytest.mark.postgres
def test_restart_keeps_committed_data_and_the_same_url_works(
        pg_server: PostgresServer, pg_url: str) -> None:
    if pg_server.external:
        pytest.skip("restart() needs a server started by the tests (MEDLOFTE_TEST_PG_URL is set)")
    url_before = pg_server.url
    engine = create_engine(pg_url)
    try:
        with engine.begin() as conn:
            conn.execute(text("CREATE TABLE kept (v text)"))
            conn.execute(text("INSERT INTO kept VALUES ('before restart')"))
    finally:
        engine.dispose()

    pg_server.restart()

    assert pg_server.url == url_before
    engine = create_engine(pg_url)
    try:
        with engine.begin() as conn:
            assert conn.execute(text("SELECT v FROM kept")).scalars().all() == ["before restart"]
            conn.execute(text("INSERT INTO kept VALUES ('after restart')"))
    finally:
        engine.dispose()


@pytest.mark.postgres
def test_pooled_connection_recovers_after_restart_with_pre_ping(
        pg_server: PostgresServer, pg_url: str) -> None:
    if pg_server.external:
        pytest.skip("restart() needs a server started by the tests (MEDLOFTE_TEST_PG_URL is set)")
    engine = create_engine(pg_url, pool_pre_ping=True)
    try:
        with engine.connect() as conn:
            conn.execute(text("SELECT 1"))
        pg_server.restart()  # the pooled connection is now dead
        with engine.connect() as conn:
            assert conn.execute(text("SELECT 1")).scalar_one() == 1
    finally:
        engine.dispose()


@pytest.mark.postgres
def test_timestamptz_round_trip_returns_an_equal_aware_datetime(pg_url: str) -> None:
    metadata = sa.MetaData()
    events = sa.Table(
        "events", metadata,
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column("at", sa.DateTime(timezone=True), nullable=False),
    )
    # 02:30 on the night the clocks go forward would not exist; 01:30 CET (+01:00) does
    written = datetime(2025, 3, 30, 1, 30, tzinfo=ZoneInfo("Europe/Stockholm"))
    engine = create_engine(pg_url)
    try:
        metadata.create_all(engine)
        with engine.begin() as conn:
            conn.execute(sa.insert(events).values(id=1, at=written))
        with engine.connect() as conn:
            read = conn.execute(sa.select(events.c.at)).scalar_one()
    finally:
        engine.dispose()
    assert read.tzinfo is not None and read.utcoffset() is not None
    assert read == written
    assert read.astimezone(UTC) == datetime(2025, 3, 30, 0, 30, tzinfo=UTC)
    assert written.utcoffset() == timedelta(hours=1)


def test_sqlite_url_points_into_tmp_path(sqlite_url: str, tmp_path: Path) -> None:
    assert sqlite_url == f"sqlite:///{tmp_path}/test.db"


def test_db_url_runs_on_both_backends(db_url: str) -> None:
    engine = create_engine(db_url)
    try:
        with engine.begin() as conn:
            conn.execute(text("CREATE TABLE t (v int)"))
            conn.execute(text("INSERT INTO t VALUES (1)"))
            assert conn.execute(text("SELECT v FROM t")).scalar_one() == 1
    finally:
        engine.dispose()
