"""Which year the bot serves: the log at start, /status for coordinators, and one alert per
coordinator (through the outbox) when no promise set covers today."""

from __future__ import annotations

import logging
from collections.abc import Iterator
from datetime import datetime
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy import select

from medlofte_bot.bootstrap import current_year_config, log_year
from medlofte_bot.chat.render import status_answer
from medlofte_bot.chat.sender import render_outgoing
from medlofte_bot.configuration import load_promise_set
from medlofte_bot.scheduling.clock import ManualClock
from medlofte_bot.services.context import ServiceContext
from medlofte_bot.services.outbox import NO_PROMISE_SET, Outbox
from medlofte_bot.services.plans import apply_promise_set
from medlofte_bot.services.usecases import UseCases
from medlofte_bot.services.views import Actor
from medlofte_bot.settings import load_settings
from medlofte_bot.storage import models as m
from medlofte_bot.storage.database import Database

CONFIG = Path(__file__).parents[2] / "config" / "arvidsjaur-2015.toml"
STOCKHOLM = ZoneInfo("Europe/Stockholm")
IN_2015 = datetime(2015, 3, 2, 9, tzinfo=STOCKHOLM)
IN_2026 = datetime(2026, 11, 29, 9, tzinfo=STOCKHOLM)
BEFORE = datetime(2014, 12, 31, 12, tzinfo=STOCKHOLM)
COMMAND = "python -m medlofte_bot new-year config/arvidsjaur-2015.toml 2026"


@pytest.fixture
def world(db_url: str) -> Iterator[tuple[Database, ServiceContext]]:
    db = Database(db_url)
    db.migrate()
    loaded = load_promise_set(CONFIG)
    with db.transaction() as s:
        apply_promise_set(s, loaded, datetime(2015, 1, 1, tzinfo=STOCKHOLM))
        team = s.scalar(select(m.Team))
        s.add_all([
            m.Member(telegram_id=1, display_name="Sam", role="coordinator", created_at=IN_2015),
            m.Member(telegram_id=2, display_name="Kim", role="coordinator", created_at=IN_2015),
            m.Member(telegram_id=3, display_name="Olle", role="officer", created_at=IN_2015,
                     team_id=team.id if team else None)])
    ctx = ServiceContext(db, {("arvidsjaur", 2015): loaded.promise_set},
                         ManualClock(IN_2026))
    yield db, ctx
    db.dispose()


def _alerts(db: Database) -> list[m.Reminder]:
    with db.transaction(write=False) as s:
        return list(s.scalars(select(m.Reminder).where(m.Reminder.kind == NO_PROMISE_SET)))


def test_coordinators_are_told_once_when_no_set_covers_today(
        world: tuple[Database, ServiceContext]) -> None:
    db, ctx = world
    outbox = Outbox(ctx)
    outbox.prepare(IN_2026)
    outbox.prepare(IN_2026)  # the next tick makes no second alert
    rows = _alerts(db)
    assert len(rows) == 2 and {r.subject for r in rows} == {"year:2026"}
    ids = outbox.claim(IN_2026)
    messages = [x for x in (outbox.compose(i, IN_2026) for i in ids) if x is not None]
    alerts = [x for x in messages if x.kind == NO_PROMISE_SET]
    assert len(alerts) == 2
    parts, _ = render_outgoing(alerts[0], "medlofte_bot")
    assert len(parts) == 1
    text = parts[0]
    assert "Inga medborgarlöften gäller för 2026" in text and COMMAND in text
    assert "Arvidsjaur 2015" in text


def test_no_alert_while_the_year_is_covered_or_still_to_come(
        world: tuple[Database, ServiceContext]) -> None:
    db, ctx = world
    Outbox(ctx).prepare(IN_2015)
    Outbox(ctx).prepare(BEFORE)
    assert _alerts(db) == []


def test_status_names_the_sets_in_force_to_coordinators_only(
        world: tuple[Database, ServiceContext]) -> None:
    _, ctx = world
    usecases = UseCases(ctx)
    coordinator = usecases.status(Actor(1, "Sam")).value
    assert coordinator.year is not None and not coordinator.year.covered
    assert COMMAND in status_answer(coordinator, "sv")
    officer = usecases.status(Actor(3, "Olle")).value
    assert officer.year is None and COMMAND not in status_answer(officer, "sv")
    ctx.clock = ManualClock(IN_2015)
    now_covered = usecases.status(Actor(1, "Sam")).value
    assert "Löften i kraft: Arvidsjaur 2015." in status_answer(now_covered, "sv")
    ctx.clock = ManualClock(BEFORE)
    to_come = status_answer(usecases.status(Actor(1, "Sam")).value, "sv")
    assert "som ännu inte börjat gälla: Arvidsjaur 2015." in to_come and "new-year" not in to_come


def test_the_start_log_says_which_year_it_serves(caplog: pytest.LogCaptureFixture) -> None:
    ps = load_promise_set(CONFIG).promise_set
    with caplog.at_level(logging.INFO, logger="medlofte_bot.bootstrap"):
        log_year([ps], IN_2015)
        log_year([ps], IN_2026)
        log_year([ps], BEFORE)
    assert "promise sets in force: Arvidsjaur 2015" in caplog.messages[0]
    assert "no promise set covers today (2026-11-29)" in caplog.messages[1]
    assert COMMAND in caplog.messages[1]
    assert "not in force yet: Arvidsjaur 2015" in caplog.messages[2]


def test_without_medlofte_config_the_current_years_file_is_served(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)
    (tmp_path / "config").mkdir()
    default = load_settings({})
    assert current_year_config(default, IN_2026).configs == default.configs  # none for 2026
    (tmp_path / "config" / "arvidsjaur-2026.toml").write_text("", encoding="utf-8")
    assert current_year_config(default, IN_2026).configs == \
        [Path("config/arvidsjaur-2026.toml")]
    chosen = load_settings({"MEDLOFTE_CONFIG": "other.toml"})
    assert current_year_config(chosen, IN_2026).configs == [Path("other.toml")]
