"""Hostile input through the real bot (issue 8): thousands of generated updates, each step
judged by the oracle: no unallowed or unaudited change, nothing police-only to a partner,
stranger or another team's group, no unhandled exception or generic error, and the
legitimate officer still answered. On SQLite and on PostgreSQL (under CI=true nothing skips).
"""

from __future__ import annotations

from pathlib import Path

import pytest
from e2e.conftest import stop_bot

from .generator import FAMILIES
from .runner import Report, Runner
from .world import make_world

SEED = 2015
SQLITE_UPDATES = 2_000
POSTGRES_UPDATES = 1_000


async def _play(folder: Path, updates: int, db_url: str | None = None) -> Report:
    world = await make_world(folder, db_url)
    try:
        return await Runner(world, SEED).run(updates)
    finally:
        await stop_bot(world.bot)


def _verdict(report: Report, updates: int) -> None:
    assert report.total_updates >= updates
    assert set(FAMILIES) <= set(report.steps), report.steps
    assert report.watches > 0
    assert not report.violations, report.summary()


async def test_hostile_updates_change_nothing_unallowed_leak_nothing_on_sqlite(
        tmp_path: Path) -> None:
    _verdict(await _play(tmp_path, SQLITE_UPDATES), SQLITE_UPDATES)


@pytest.mark.postgres
async def test_hostile_updates_change_nothing_unallowed_leak_nothing_on_postgresql(
        tmp_path: Path, pg_url: str) -> None:
    _verdict(await _play(tmp_path, POSTGRES_UPDATES, pg_url), POSTGRES_UPDATES)
