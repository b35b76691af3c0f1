"""/webb in chat, through the real bot and the emulator: a one-time login link in the
member's private chat (asked in a group too), a plain sentence where no web view is set
up, and nothing for strangers."""

from __future__ import annotations

import re
from collections.abc import AsyncIterator
from datetime import datetime
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest

from e2e.conftest import COORDINATOR, Harness, start_bot, stop_bot
from medlofte_bot.domain.errors import UserError
from medlofte_bot.services.web import WebAccess

WEB = "https://medlofte.example.se"
OFFICER, STRANGER, GROUP = 20, 99, -100555


@pytest.fixture
async def web_bot(tmp_path: Path) -> AsyncIterator[Harness]:
    h = await start_bot(tmp_path, datetime(2015, 3, 1, 9, 0, tzinfo=ZoneInfo("Europe/Stockholm")),
                        web_url=WEB)
    try:
        yield h
    finally:
        await stop_bot(h)


def _token(text: str) -> str:
    found = re.search(rf"{re.escape(WEB)}/webb/logga-in/([\w-]+)", text)
    assert found, text
    return found[1]


async def test_webb_sends_a_one_time_link_in_private_even_when_asked_in_a_group(
        web_bot: Harness) -> None:
    await web_bot.join(OFFICER, "Olle", "polis lag-1")
    answer = await web_bot.say(OFFICER, "/webb")
    assert "gäller i 10 minuter och fungerar en gång" in answer
    access = WebAccess(web_bot.ctx)
    assert access.redeem(_token(answer)).member.name == "Olle"
    with pytest.raises(UserError) as used:
        access.redeem(_token(answer))
    assert used.value.key == "web.link_used"
    await web_bot.emu.add_group(GROUP, "Lag 1", members=[COORDINATOR, OFFICER])
    assert "privat" in await web_bot.say(OFFICER, "/web", chat=GROUP)
    private = await web_bot.emu.wait_for_message(OFFICER, timeout=5.0)
    assert _token(private.text or "") != _token(answer)
    in_group = " ".join(x.text or "" for x in web_bot.emu.messages_to(GROUP))
    assert "/webb/logga-in/" not in in_group
    await web_bot.emu.add_user(STRANGER, "Sten")
    assert "logga-in" not in await web_bot.say(STRANGER, "/webb")


async def test_webb_says_so_when_no_web_view_is_set_up(bot: Harness) -> None:
    answer = await bot.say(COORDINATOR, "/webb")
    assert "Webbvyn är inte uppsatt" in answer and "logga-in" not in answer
