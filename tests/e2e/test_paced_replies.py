"""Every Bot API call goes through one rate limiter: with Telegram's limits on, answers of
several messages arrive whole, for one officer and for twenty at once, without a 429."""

from __future__ import annotations

import asyncio
import re
from datetime import datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

from sqlalchemy import select

from medlofte_bot.chat.ratelimit import Pacer
from medlofte_bot.storage import models as m

from .conftest import COORDINATOR, Harness, start_bot, stop_bot

NOW = datetime(2015, 3, 1, 9, 0, tzinfo=ZoneInfo("Europe/Stockholm"))
FIRST = 5001


async def _officers(bot: Harness, n: int) -> list[int]:
    ids = list(range(FIRST, FIRST + n))
    for uid in ids:
        await bot.emu.add_user(uid, f"Polis{uid}")
        link = await bot.say(COORDINATOR, "/bjud polis lag-1")
        code = re.search(r"start=([\w-]+)", link)
        assert code, link
        assert "Välkommen" in await bot.say(uid, f"/start {code[1]}")
    return ids


async def _wait_for(bot: Harness, chat: int, count: int, timeout: float) -> int:
    deadline = asyncio.get_running_loop().time() + timeout
    while len(bot.emu.messages_to(chat)) < count:
        assert asyncio.get_running_loop().time() < deadline, (chat, bot.emu.messages_to(chat))
        await asyncio.sleep(0.05)
    return len(bot.emu.messages_to(chat))


async def test_mina_with_eight_cards_and_twenty_at_once_arrive_whole_under_telegrams_limits(
        tmp_path: Path) -> None:
    bot = await start_bot(tmp_path, NOW, pacer=Pacer())
    try:
        officers = await _officers(bot, 20)
        with bot.db.transaction() as s:  # eight bar inspections in the next eight days
            team = s.scalars(select(m.Team).where(m.Team.key == "lag-1")).one()
            promise = s.scalars(select(m.Promise).where(m.Promise.key == "krogtillsyn")).one()
            s.add_all([m.Task(promise_id=promise.id, key=f"extra-{day}", kind="bar_inspection",
                              start_at=NOW + timedelta(days=day, hours=13),
                              end_at=NOW + timedelta(days=day, hours=17), team_id=team.id,
                              visibility="police", updated_at=NOW) for day in range(1, 9)])
        bot.emu.enforce_limits = True  # Telegram's documented flood limits from here on
        before = {uid: len(bot.emu.messages_to(uid)) for uid in officers}
        await bot.emu.send_text(officers[0], "/mina")
        first = await _wait_for(bot, officers[0], before[officers[0]] + 9, timeout=20)
        cards = bot.emu.messages_to(officers[0])[before[officers[0]] + 1:first]
        assert len(cards) == 8 and all(c.button_data() for c in cards)
        before = {uid: len(bot.emu.messages_to(uid)) for uid in officers}
        await asyncio.gather(*(bot.emu.send_text(uid, "/mina") for uid in officers))
        for uid in officers:
            await _wait_for(bot, uid, before[uid] + 9, timeout=60)
        assert bot.emu.count_429 == 0, "the rate limiter kept under every limit"
    finally:
        await stop_bot(bot)
