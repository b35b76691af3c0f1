"""What the database tests share: a migrated database on each backend."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime

import pytest
from seeding import variant_set
from sqlalchemy.orm import Session, sessionmaker

from medlofte_bot.domain.promise_set import PromiseSet
from medlofte_bot.services.plans import apply_promise_set
from medlofte_bot.storage.database import make_engine, migrate, session_factory

PLANNED_AT = datetime(2015, 1, 1, 6, tzinfo=UTC)


@pytest.fixture
def sessions(db_url: str) -> Iterator[sessionmaker[Session]]:
    """Sessions on a fresh database at the newest schema (SQLite and PostgreSQL)."""
    engine = make_engine(db_url)
    migrate(engine)
    yield session_factory(engine)
    engine.dispose()


@pytest.fixture
def area(db_url: str) -> Iterator[tuple[sessionmaker[Session],
                                        dict[tuple[str, int], PromiseSet]]]:
    """Arvidsjaur and Arjeplog (one police area) and Kiruna (another), planned on New Year's
    morning 2015; the sessions and the promise sets by (slug, year)."""
    engine = make_engine(db_url)
    migrate(engine)
    sessions = session_factory(engine)
    sets = [variant_set("arvidsjaur", "LPO Piteå Älvdal"),
            variant_set("arjeplog", "LPO Piteå Älvdal"), variant_set("kiruna", "LPO Kiruna")]
    with sessions.begin() as s:
        for loaded in sets:
            apply_promise_set(s, loaded, PLANNED_AT)
    yield sessions, {(x.promise_set.slug, 2015): x.promise_set for x in sets}
    engine.dispose()
