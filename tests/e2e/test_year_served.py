"""Through the real bot: when the year is over, the coordinator hears it once in private and
in /status, with the command that writes this year's file."""

from __future__ import annotations

from datetime import datetime
from pathlib import Path
from zoneinfo import ZoneInfo

from .conftest import COORDINATOR, start_bot, stop_bot

JANUARY_2016 = datetime(2016, 1, 4, 9, 0, tzinfo=ZoneInfo("Europe/Stockholm"))
COMMAND = "python -m medlofte_bot new-year config/arvidsjaur-2015.toml 2016"


async def test_a_year_over_is_said_once_to_the_coordinator_and_in_status(
        tmp_path: Path) -> None:
    bot = await start_bot(tmp_path, JANUARY_2016)
    try:
        status = await bot.say(COORDINATOR, "/status")
        assert "Inga medborgarlöften gäller för 2016" in status and COMMAND in status
        assert "Arvidsjaur 2015" in status
        await bot.tick()
        await bot.tick()
        alerts = [x for x in bot.emu.messages_to(COORDINATOR)
                  if "Inga medborgarlöften" in (x.text or "")]
        assert len(alerts) == 2  # the /status answer and one alert, not one per tick
        assert COMMAND in (alerts[-1].text or "")
    finally:
        await stop_bot(bot)
