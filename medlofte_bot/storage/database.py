"""Engines, sessions and migrations: SQLite in ./data by default, PostgreSQL by URL."""

from __future__ import annotations

import functools
import threading
from collections.abc import Callable, Iterator, Sequence
from contextlib import AbstractContextManager, contextmanager, nullcontext
from pathlib import Path
from typing import Any, TypeVar

from alembic import command
from alembic.config import Config
from sqlalchemy import Connection, Engine, create_engine, event, inspect, text
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.exc import DBAPIError
from sqlalchemy.orm import DeclarativeBase, Session, sessionmaker

T = TypeVar("T")
C = TypeVar("C")

MIGRATIONS = Path(__file__).parent / "migrations"
DEFAULT_SQLITE = "sqlite:///data/medlofte.db"
CHUNK = 500
# one PostgreSQL advisory lock key for schema upgrades ("medlofte" on a phone keypad)
MIGRATION_LOCK = 63_356_383


def database_url(value: str | None) -> str:
    """The configured URL, or the SQLite file in ./data (created if missing)."""
    if value:
        return value.replace("postgresql://", "postgresql+psycopg://", 1) \
            if value.startswith("postgresql://") else value
    Path("data").mkdir(exist_ok=True)
    return DEFAULT_SQLITE


def make_engine(url: str) -> Engine:
    """An engine; SQLite waits on locks, checks foreign keys and runs in WAL mode.

    ``synchronous=NORMAL`` in WAL mode: a commit is durable against a crash of the
    process, and only a power cut or OS crash can lose the last commits (never corrupt
    the file). The trade buys a commit without an fsync (see README, "Storage").

    The pool hands out the connection used last (LIFO), not the one idle longest: updates
    run one after another, so one connection serves nearly all of them and keeps its caches
    warm. Rotating through four pooled connections, a SQLite connection that had sat idle
    while the others wrote found its page cache stale: a confirmation cost 745 µs of CPU
    against 672 µs through the last one used (measured before storage.driver). On
    PostgreSQL psycopg prepares a statement on a connection only after it has run there
    five times; the same connection gets there sooner.
    """
    if url.startswith("sqlite"):
        engine = create_engine(url, pool_use_lifo=True,
                               connect_args={"timeout": 30, "check_same_thread": False})

        @event.listens_for(engine, "connect")
        def _pragmas(dbapi_conn: Any, _record: Any) -> None:
            cur = dbapi_conn.cursor()
            cur.execute("PRAGMA foreign_keys=ON")
            cur.execute("PRAGMA journal_mode=WAL")
            cur.execute("PRAGMA synchronous=NORMAL")
            cur.execute("PRAGMA busy_timeout=30000")
            cur.close()

        return engine
    # no pre-ping (a round trip per transaction): a connection found dead is invalidated
    # and the use case runs once more (Database.run)
    return create_engine(url, pool_use_lifo=True)


def migrate(engine: Engine, revision: str = "head") -> None:
    """Bring the schema to ``revision`` with Alembic (from empty on first use).

    On PostgreSQL several processes may start at once (replicas, the one-shot migration):
    each waits for a transaction-wide advisory lock, so one upgrades and the others then
    find the schema at head and change nothing (the DDL is transactional there).
    """
    cfg = Config()
    cfg.set_main_option("script_location", str(MIGRATIONS))
    with engine.begin() as conn:
        if conn.dialect.name == "postgresql":
            conn.execute(text("SELECT pg_advisory_xact_lock(:key)"), {"key": MIGRATION_LOCK})
        cfg.attributes["connection"] = conn
        command.upgrade(cfg, revision)


@functools.cache  # the files do not change under a running process; reading them costs ~30 ms
def head_revision() -> str | None:
    """The newest migration's revision id."""
    from alembic.script import ScriptDirectory

    cfg = Config()
    cfg.set_main_option("script_location", str(MIGRATIONS))
    return ScriptDirectory.from_config(cfg).get_current_head()


def session_factory(engine: Engine) -> sessionmaker[Session]:
    """Sessions that keep loaded values after commit."""
    return sessionmaker(engine, expire_on_commit=False)


def insert_ignoring_duplicates(session: Session, model: type[DeclarativeBase],
                               rows: Sequence[dict[str, Any]]) -> int:
    """INSERT … ON CONFLICT DO NOTHING (SQLite and PostgreSQL); returns rows inserted."""
    if not rows:
        return 0
    dialect = postgresql if session.get_bind().dialect.name == "postgresql" else sqlite
    inserted = 0
    for start in range(0, len(rows), CHUNK):  # SQLite allows some 32 000 parameters at once
        statement = dialect.insert(model.__table__).values(list(rows[start:start + CHUNK]))
        result = session.connection().execute(statement.on_conflict_do_nothing(),
                                              execution_options={"preserve_rowcount": True})
        inserted += max(int(getattr(result, "rowcount", 0) or 0), 0)
    return inserted


class Database:
    """One engine and its sessions: each transaction opened, committed and closed here."""

    def __init__(self, url: str) -> None:
        self.url = url
        self.engine = make_engine(url)
        self.sessions = session_factory(self.engine)
        # SQLite has one writer: threads of this process take turns here instead of
        # polling the file lock in SQLite's busy handler (which sleeps up to 100 ms a try)
        self._writer = threading.Lock() if url.startswith("sqlite") else None

    @contextmanager
    def transaction(self, write: bool = True) -> Iterator[Session]:
        """A session in one transaction: committed on leaving, rolled back on an error.

        ``write=False`` promises only reads: on SQLite it does not queue for the writer.
        """
        with self._turn(write), self.sessions.begin() as session:
            yield session

    def _turn(self, write: bool) -> AbstractContextManager[object]:
        """A writer's turn on SQLite (``_writer``); nothing to wait for otherwise."""
        return self._writer if write and self._writer else nullcontext()

    def run(self, work: Callable[[Session], T], write: bool = True) -> T:
        """``work`` in one transaction; once more if the connection was found dead (a
        database restarted under the bot): nothing was committed the first time."""
        return self._retried(lambda: self.transaction(write), work)

    @contextmanager
    def plain_transaction(self, write: bool = True) -> Iterator[Connection]:
        """``transaction`` on a bare connection, for work in plain statements: a session
        and its transaction cost twice a connection's (about 130 µs of CPU against 65)."""
        with self._turn(write), self.engine.begin() as connection:
            yield connection

    def run_plain(self, work: Callable[[Connection], T], write: bool = True) -> T:
        """``run`` on a bare connection (``plain_transaction``)."""
        return self._retried(lambda: self.plain_transaction(write), work)

    @staticmethod
    def _retried(opened: Callable[[], AbstractContextManager[C]], work: Callable[[C], T]) -> T:
        for attempt in (1, 2):
            try:
                with opened() as handle:
                    return work(handle)
            except DBAPIError as exc:
                if attempt == 2 or not exc.connection_invalidated:
                    raise
        raise AssertionError("unreachable")

    def migrate(self) -> None:
        """Bring the schema to the newest revision."""
        migrate(self.engine)

    def at_head(self) -> bool:
        """Whether the schema is at the newest revision (for readiness checks)."""
        head = head_revision()
        with self.engine.connect() as conn:
            if not inspect(conn).has_table("alembic_version"):
                return False
            return conn.execute(text("SELECT version_num FROM alembic_version")).scalar() == head

    def dispose(self) -> None:
        """Close every pooled connection."""
        self.engine.dispose()
