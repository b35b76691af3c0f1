"""A running bot: the real PTB Application polling the local emulator over loopback."""

from __future__ import annotations

import asyncio
import io
import re
import socket
from collections.abc import AsyncIterator
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import httpx
import pytest
from sqlalchemy import select

from botapi_emulator import BotApiEmulator, WebhookPolicy
from medlofte_bot.bootstrap import Services, Web, build_bot, build_web, prepare
from medlofte_bot.chat.app import App, publish_commands
from medlofte_bot.chat.ratelimit import Pacer
from medlofte_bot.chat.sender import TelegramSender
from medlofte_bot.demo.runner import Demo
from medlofte_bot.scheduling.clock import ManualClock
from medlofte_bot.scheduling.jobs import tick
from medlofte_bot.services.context import ServiceContext
from medlofte_bot.settings import Settings
from medlofte_bot.storage import models as m
from medlofte_bot.storage.database import Database
from medlofte_bot.web.run import run_with_server
from medlofte_bot.web.server import SECRET_HEADER, Server, make_server

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


# the demo after playing Arvidsjaur 2015 as shipped, what it printed, its last figures
PlayedYear = tuple[Demo, dict[str, Any], str]


@pytest.fixture(scope="session")
def arvidsjaur_year(tmp_path_factory: pytest.TempPathFactory) -> PlayedYear:
    """The whole Arvidsjaur 2015 year played once through the bot (test_year.py and
    test_secret_details.py read it)."""
    from zoneinfo import ZoneInfo

    tz = ZoneInfo("Europe/Stockholm")
    out = io.StringIO()
    demo = Demo(CONFIG, datetime(2015, 1, 1, 6, tzinfo=tz), out)
    figures = asyncio.run(demo.run(datetime(2016, 1, 9, tzinfo=tz),
                                   tmp_path_factory.mktemp("year")))
    return demo, figures, out.getvalue()


@pytest.fixture
async def bot(tmp_path: Path) -> AsyncIterator[Harness]:
    from zoneinfo import ZoneInfo

    h = await start_bot(tmp_path, datetime(2015, 3, 1, 9, 0, tzinfo=ZoneInfo("Europe/Stockholm")))
    try:
        yield h
    finally:
        await stop_bot(h)


# ===== webhook mode: the same bot behind its ASGI app, updates posted over HTTP ==============

SECRET = "e2e-webhook-secret_1"


def free_port() -> int:
    """A loopback port nobody listens on (now)."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@dataclass
class WebhookHarness(Harness):
    """A bot in webhook mode: its ASGI app served by uvicorn on loopback; ``say`` makes
    the update in the emulator (so replies and buttons work) and posts its JSON, as
    Telegram would, to the webhook."""

    web: Web
    server: Server
    serving: asyncio.Task[None]
    url: str
    http: httpx.AsyncClient
    lease_clock: ManualClock
    owns_emu: bool = True

    async def tick(self) -> dict[str, int]:
        """One reminder tick now, its outcomes counted in the metrics as in production."""
        return await tick(self.services.outbox,
                          TelegramSender(self.app.bot, self.web.metrics.delivered), self.clock)

    async def post(self, payload: dict[str, Any], secret: str | None = SECRET) -> httpx.Response:
        """POST an update as Telegram does (with ``secret`` in the header unless None)."""
        headers = {} if secret is None else {SECRET_HEADER: secret}
        return await self.http.post(self.url, json=payload, headers=headers)

    async def deliver(self, update_id: int, secret: str | None = SECRET) -> httpx.Response:
        """Post the emulator's update ``update_id`` to the webhook."""
        payload = self.emu.update_json(update_id)
        assert payload is not None, update_id
        return await self.post(payload, secret)

    async def say(self, user: int, text: str, reply_to: int | None = None,
                  chat: int | None = None) -> str:
        """Send text as a user through the webhook; the bot's next message in that chat."""
        action = await self.emu.send_text(user, text, chat_id=chat, reply_to=reply_to)
        answer = await self.deliver(action.update_id)
        assert answer.status_code == 200, answer.text
        msg = await self.emu.wait_for_message(chat or user, timeout=5.0)
        return msg.text or ""

    def base(self) -> str:
        """The server's root URL."""
        return self.url.rsplit("/", 1)[0]


async def start_webhook_bot(tmp_path: Path, now: datetime, db_url: str | None = None,
                            recover_every: float = 3600.0, emu: BotApiEmulator | None = None,
                            worker: str = "bot") -> WebhookHarness:
    """Emulator (or ``emu``, shared with another bot) + migrated database + the bot in
    webhook mode on a free loopback port. Leases run on a ManualClock the test moves;
    recovery runs at start and every ``recover_every`` s (or when a test calls it)."""
    owns_emu = emu is None
    if emu is None:
        # the tests post each update themselves (a wrong secret, a resend by hand)
        emu = BotApiEmulator(token=TOKEN, bot_username="medlofte_bot",
                             webhook_policy=WebhookPolicy(deliver=False))
        await emu.start()
    port = free_port()
    url = f"http://127.0.0.1:{port}/telegram"
    settings = Settings(token=TOKEN, base_url=emu.base_url,
                        database_url=db_url or f"sqlite:///{tmp_path}/bot.db",
                        configs=[CONFIG], admin_ids=frozenset({COORDINATOR}),
                        webhook_url=url, webhook_secret=SECRET, listen=f"127.0.0.1:{port}")
    services = prepare(settings, ManualClock(datetime(2014, 12, 31, 12, tzinfo=now.tzinfo)),
                       pacer=Pacer(per_second=0, private_gap=0, group_gap=0), worker=worker)
    clock = ManualClock(now)
    services.ctx.clock = clock
    lease_clock = ManualClock(datetime(2026, 1, 1, tzinfo=UTC))
    web = build_web(services, lease_clock=lease_clock, tick_enabled=False)
    server = make_server(web.asgi, "127.0.0.1", port)
    serving = asyncio.create_task(run_with_server(web.app, server, web.intake, web.webhook,
                                                  recover_every=recover_every,
                                                  handle_signals=False))
    for _ in range(500):  # setWebhook comes once the server listens
        if emu.webhook_url == url or serving.done():
            break
        await asyncio.sleep(0.02)
    if serving.done():
        await serving  # its error
    assert emu.webhook_url == url, "no setWebhook within 10 s"
    if owns_emu:
        await emu.add_user(COORDINATOR, "Cora")
    return WebhookHarness(emu, services, clock, web.app, web, server, serving, url,
                          httpx.AsyncClient(timeout=10), lease_clock, owns_emu)


async def stop_webhook_bot(h: WebhookHarness) -> None:
    """Stop the server and the Application as SIGTERM would, then the emulator."""
    h.server.should_exit = True
    await asyncio.wait_for(h.serving, 20)
    await h.http.aclose()
    if h.owns_emu:
        await h.emu.stop()
    h.services.dispose()


@pytest.fixture
async def webhook_bot(tmp_path: Path) -> AsyncIterator[WebhookHarness]:
    from zoneinfo import ZoneInfo

    h = await start_webhook_bot(tmp_path, datetime(2015, 3, 1, 9, 0,
                                                   tzinfo=ZoneInfo("Europe/Stockholm")))
    try:
        yield h
    finally:
        await stop_webhook_bot(h)
