"""A running bot: the real PTB Application polling the local emulator over loopback."""

from __future__ import annotations

import re
from collections.abc import AsyncIterator
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path

import pytest
from sqlalchemy import select

from botapi_emulator import BotApiEmulator
from medlofte_bot.bootstrap import Services, build_bot, prepare
from medlofte_bot.chat.app import App, publish_commands
from medlofte_bot.chat.ratelimit import Pacer
from medlofte_bot.chat.sender import TelegramSender
from medlofte_bot.scheduling.clock import ManualClock
from medlofte_bot.scheduling.jobs import tick
from medlofte_bot.services.context import ServiceContext
from medlofte_bot.settings import Settings
from medlofte_bot.storage import models as m
from medlofte_bot.storage.database import Database

TOKEN = "424242:E2E-TOKEN"
CONFIG = Path(__file__).parents[2] / "config" / "arvidsjaur-2015.toml"
COORDINATOR = 1


def invite_code(link_text: str) -> str:
    """The code in an invite link ("…?start=CODE")."""
    match = re.search(r"start=([\w-]+)", link_text)
    assert match, link_text
    return match[1]


@dataclass
class Harness:
    """The emulator, the bot's dependencies and a clock the test moves."""

    emu: BotApiEmulator
    services: Services
    clock: ManualClock
    app: App

    @property
    def ctx(self) -> ServiceContext:
        """The services' context: promise sets, worker name."""
        return self.services.ctx

    @property
    def db(self) -> Database:
        """The bot's database, for a test to read what was stored."""
        return self.services.ctx.db

    async def tick(self) -> dict[str, int]:
        """Run one reminder tick now."""
        return await tick(self.services.outbox, TelegramSender(self.app.bot), self.clock)

    async def join(self, user: int, name: str, invite: str, by: int = COORDINATOR) -> int:
        """``user`` (named ``name``) joins by an invite ``by`` makes with ``/bjud WORDS``
        (``invite`` is the words, "/bjud" optional); the new member's id."""
        await self.emu.add_user(user, name)
        link = await self.say(by, f"/bjud {invite.removeprefix('/bjud').strip()}")
        assert "Välkommen" in await self.say(user, f"/start {invite_code(link)}")
        with self.db.sessions() as s:
            member_id = s.scalar(select(m.Member.id).where(m.Member.telegram_id == user))
        assert member_id is not None
        return member_id

    async def say(self, user: int, text: str, reply_to: int | None = None,
                  chat: int | None = None) -> str:
        """Send text as a user and wait for the bot's next message in that chat."""
        await self.emu.send_text(user, text, chat_id=chat, reply_to=reply_to)
        msg = await self.emu.wait_for_message(chat or user, timeout=5.0)
        return msg.text or ""


async def start_bot(tmp_path: Path, now: datetime, db_url: str | None = None,
                    pacer: Pacer | None = None, configs: list[Path] | None = None,
                    web_url: str | None = None) -> Harness:
    """Emulator + migrated database with the Arvidsjaur plan (or ``configs``) + a polling
    Application.

    Pacing is off unless a test passes a Pacer: the emulator's flood limits are off too.
    """
    emu = BotApiEmulator(token=TOKEN, bot_username="medlofte_bot")
    await emu.start()
    clock = ManualClock(now)
    settings = Settings(token=TOKEN, base_url=emu.base_url,
                        database_url=db_url or f"sqlite:///{tmp_path}/bot.db",
                        configs=configs or [CONFIG], admin_ids=frozenset({COORDINATOR}),
                        web_url=web_url)
    services = prepare(settings, ManualClock(datetime(2014, 12, 31, 12, tzinfo=now.tzinfo)),
                       pacer=pacer or Pacer(per_second=0, private_gap=0, group_gap=0))
    services.ctx.clock = clock
    app = build_bot(services, tick_enabled=False)
    await app.initialize()
    await publish_commands(app)
    await app.start()
    assert app.updater is not None
    await app.updater.start_polling(poll_interval=0.0, timeout=1)
    await emu.add_user(COORDINATOR, "Cora")
    return Harness(emu, services, clock, app)


async def stop_bot(h: Harness) -> None:
    """Stop polling, the application and the emulator."""
    app = h.app
    assert app.updater is not None
    await app.updater.stop()
    await app.stop()
    await app.shutdown()
    await h.emu.stop()
    h.services.dispose()


@pytest.fixture
async def bot(tmp_path: Path) -> AsyncIterator[Harness]:
    from zoneinfo import ZoneInfo

    h = await start_bot(tmp_path, datetime(2015, 3, 1, 9, 0, tzinfo=ZoneInfo("Europe/Stockholm")))
    try:
        yield h
    finally:
        await stop_bot(h)
