"""The Pacer against the Bot API emulator with Telegram's flood limits on: nothing lost, no 429.

Pacing is real time here: 8 messages to one chat take ~7.4 s, the whole file ~15 s.
"""

from __future__ import annotations

import asyncio
import datetime as dtm
import itertools
from collections.abc import AsyncIterator

import pytest
from telegram import Message, Update
from telegram.ext import ApplicationBuilder, CommandHandler, ContextTypes, ExtBot

from botapi_emulator import BotApiEmulator, FloodLimits
from medlofte_bot.chat.ratelimit import Pacer

TOKEN = "123456:TEST-TOKEN"
OFFICER = 1
BULK: dict[str, object] = {"priority": "bulk"}


@pytest.fixture(autouse=True)
def _timedelta_periods(monkeypatch: pytest.MonkeyPatch) -> None:
    """PTB 22 warns unless time periods (RetryAfter.retry_after) are timedeltas."""
    monkeypatch.setenv("PTB_TIMEDELTA", "true")


@pytest.fixture
async def emu() -> AsyncIterator[BotApiEmulator]:
    """Telegram's documented limits: 30/s overall, 1/s per private chat, 20/min per group."""
    async with BotApiEmulator(TOKEN, enforce_limits=True, limits=FloodLimits()) as emulator:
        for uid in range(1, 42):
            await emulator.add_user(uid, f"U{uid}")
        yield emulator


@pytest.fixture
async def bot(emu: BotApiEmulator) -> AsyncIterator[ExtBot[dict[str, object]]]:
    async with ExtBot(TOKEN, base_url=emu.base_url, rate_limiter=Pacer()) as client:
        yield client


def texts_to(emu: BotApiEmulator, chat: int) -> list[str | None]:
    return [m.text for m in emu.messages_to(chat)]


async def test_messages_to_one_private_chat_sent_at_once_all_arrive_in_order_without_429(
        emu: BotApiEmulator, bot: ExtBot[dict[str, object]]) -> None:
    sent = await asyncio.gather(*(bot.send_message(OFFICER, f"kort {i}") for i in range(8)))
    assert all(isinstance(m, Message) for m in sent)
    assert texts_to(emu, OFFICER) == [f"kort {i}" for i in range(8)]
    assert emu.count_429 == 0
    times = [m.sent_at for m in emu.messages_to(OFFICER)]
    assert min(b - a for a, b in itertools.pairwise(times)) >= 1.0


async def test_many_private_chats_with_several_messages_each_lose_nothing_and_draw_no_429(
        emu: BotApiEmulator, bot: ExtBot[dict[str, object]]) -> None:
    chats = range(1, 21)
    await asyncio.gather(*(bot.send_message(chat, f"{chat}:{i}") for i in range(4)
                           for chat in chats))
    assert len(emu.all_sent()) == 80
    assert {chat: texts_to(emu, chat) for chat in chats} == {
        chat: [f"{chat}:{i}" for i in range(4)] for chat in chats}
    assert emu.count_429 == 0
    assert [r.status for r in emu.requests_for("sendMessage")] == [200] * 80


async def test_an_answer_to_a_person_overtakes_queued_bulk_messages(emu: BotApiEmulator) -> None:
    """The officer's /mina is answered by reply_text (no rate_limit_args: interactive)."""

    async def mina(update: Update, _context: ContextTypes.DEFAULT_TYPE) -> None:
        assert update.message is not None
        await update.message.reply_text("dina uppgifter")

    app = (ApplicationBuilder().token(TOKEN).base_url(emu.base_url)
           .rate_limiter(Pacer()).build())
    app.add_handler(CommandHandler("mina", mina))
    async with app:
        await app.start()
        assert app.updater is not None
        await app.updater.start_polling(poll_interval=0.0, timeout=dtm.timedelta(seconds=1))
        try:
            others = range(2, 42)
            bulk = [asyncio.create_task(app.bot.send_message(
                chat, "påminnelse", rate_limit_args=BULK)) for chat in others]
            await asyncio.sleep(0.1)  # a few have gone; the rest wait for the global slot
            await emu.send_text(OFFICER, "/mina")
            answer = await emu.wait_for_message(OFFICER, timeout=5.0)
            await asyncio.gather(*bulk)
        finally:
            await app.updater.stop()
            await app.stop()
    order = [m.chat_id for m in emu.all_sent()]
    assert len(order) == 41 and answer.text == "dina uppgifter"
    assert order.index(OFFICER) < 10, order  # without priority it would be last (40)
    assert emu.count_429 == 0

