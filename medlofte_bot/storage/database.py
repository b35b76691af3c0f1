"""Engines, sessions and migrations: SQLite in ./data by default, PostgreSQL by URL."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from alembic import command
from alembic.config import Config
from sqlalchemy import Engine, create_engine, event
from sqlalchemy.orm import Session, sessionmaker

MIGRATIONS = Path(__file__).parent / "migrations"
DEFAULT_SQLITE = "sqlite:///data/medlofte.db"


def database_url(value: str | None) -> str:
    """The configured URL, or the SQLite file in ./data (created if missing)."""
    if value:
        return value.replace("postgresql://", "postgresql+psycopg://", 1) \
            if value.startswith("postgresql://") else value
    Path("data").mkdir(exist_ok=True)
    return DEFAULT_SQLITE


def make_engine(url: str) -> Engine:
    """An engine; SQLite waits on locks and checks foreign keys."""
    if url.startswith("sqlite"):
        engine = create_engine(url, connect_args={"timeout": 30})

        @event.listens_for(engine, "connect")
        def _pragmas(dbapi_conn: Any, _record: Any) -> None:
            cur = dbapi_conn.cursor()
            cur.execute("PRAGMA foreign_keys=ON")
            cur.execute("PRAGMA journal_mode=WAL")
            cur.execute("PRAGMA busy_timeout=30000")
            cur.close()

        return engine
    return create_engine(url, pool_pre_ping=True)


def migrate(engine: Engine, revision: str = "head") -> None:
    """Bring the schema to ``revision`` with Alembic (from empty on first use)."""
    cfg = Config()
    cfg.set_main_option("script_location", str(MIGRATIONS))
    with engine.begin() as conn:
        cfg.attributes["connection"] = conn
        command.upgrade(cfg, revision)


def session_factory(engine: Engine) -> sessionmaker[Session]:
    """Sessions that keep loaded values after commit."""
    return sessionmaker(engine, expire_on_commit=False)
