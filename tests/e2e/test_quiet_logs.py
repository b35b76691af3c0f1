"""Logs an operator can read: nothing for a tick that sent nothing, one line for one that did."""

from __future__ import annotations

import logging
import re
from datetime import timedelta

import pytest
from sqlalchemy import select

from medlofte_bot.storage import models as m

from .conftest import Harness

OFFICER = 2001


async def test_a_tick_logs_nothing_when_idle_and_one_line_when_it_sent(
        bot: Harness, caplog: pytest.LogCaptureFixture) -> None:
    await bot.emu.add_user(OFFICER, "Olle")
    link = await bot.say(1, "/bjud polis lag-1")
    code = re.search(r"start=([\w-]+)", link)
    assert code and "Välkommen" in await bot.say(OFFICER, f"/start {code[1]}")
    caplog.set_level(logging.DEBUG, logger="medlofte_bot")
    for _ in range(5):
        assert await bot.tick() == {}
    assert not caplog.records, [r.getMessage() for r in caplog.records]
    with bot.db.sessions() as s:
        task = s.scalars(select(m.Task).join(m.Team).where(
            m.Team.key == "lag-1", m.Task.status == "pending").order_by(m.Task.start_at)).first()
        assert task is not None
    bot.clock.current = task.start_at - timedelta(hours=2) + timedelta(seconds=10)
    outcomes = await bot.tick()
    assert outcomes.get("sent", 0) >= 1
    lines = [r for r in caplog.records if r.name.startswith("medlofte_bot")]
    assert len(lines) == 1 and lines[0].levelno == logging.INFO, [r.getMessage() for r in lines]
    assert f"sent {outcomes['sent']}" in lines[0].getMessage()
