"""Webhook delivery of the emulator: what Telegram's server does, against small test receivers.

Each receiver is a real aiohttp server on loopback whose answer the test chooses; the bot side
is python-telegram-bot's own Bot for setWebhook, getWebhookInfo and getUpdates.
"""

from __future__ import annotations

import asyncio
import itertools
import socket
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager
from dataclasses import dataclass, field

import pytest
from aiohttp import web
from telegram import Bot, Update
from telegram.error import BadRequest, Conflict

from botapi_emulator import SECRET_HEADER, BotApiEmulator, WebhookPolicy

TOKEN = "123456:TEST-TOKEN"
ANNA, BO, CILLA = 1001, 1002, 1003
FAST = WebhookPolicy(timeout=0.5, first_delay=0.05, max_delay=0.4, lifetime=30.0,
                     target_pause=5.0, gone_timeout=30.0)

Answer = Callable[[int, int], Awaitable[web.StreamResponse]]  # (update_id, nth POST of it)


@dataclass
class Receiver:
    """A webhook endpoint on loopback that records every POST and answers as told."""

    answer: Answer | None = None
    posts: list[tuple[int, dict[str, str]]] = field(default_factory=list)  # update_id, headers
    ok: list[int] = field(default_factory=list)  # update_ids answered 200, in order
    bodies: dict[int, dict[str, object]] = field(default_factory=dict)
    in_flight: int = 0
    peak: int = 0
    url: str = ""

    async def handle(self, request: web.Request) -> web.StreamResponse:
        body = await request.json()
        update_id = int(body["update_id"])
        self.posts.append((update_id, dict(request.headers)))
        self.bodies[update_id] = body
        nth = sum(1 for uid, _ in self.posts if uid == update_id)
        self.in_flight += 1
        self.peak = max(self.peak, self.in_flight)
        try:
            response = await self.answer(update_id, nth) if self.answer else web.Response()
        finally:
            self.in_flight -= 1
        if 200 <= response.status <= 299:
            self.ok.append(update_id)
        return response

    def count(self, update_id: int) -> int:
        return sum(1 for uid, _ in self.posts if uid == update_id)


@asynccontextmanager
async def receiving(receiver: Receiver, port: int = 0) -> AsyncIterator[Receiver]:
    app = web.Application()
    app.router.add_post("/telegram", receiver.handle)
    runner = web.AppRunner(app, access_log=None, shutdown_timeout=0.1)
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", port)
    await site.start()
    bound = runner.addresses[0][1]
    receiver.url = f"http://127.0.0.1:{bound}/telegram"
    try:
        yield receiver
    finally:
        await runner.cleanup()


def free_port() -> int:
    """A loopback port nothing listens on (bound, then closed)."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@asynccontextmanager
async def emulator(policy: WebhookPolicy = FAST) -> AsyncIterator[tuple[BotApiEmulator, Bot]]:
    async with BotApiEmulator(TOKEN, webhook_policy=policy) as emu:
        for uid, name in ((ANNA, "Anna"), (BO, "Bo"), (CILLA, "Cilla")):
            await emu.add_user(uid, name)
        async with Bot(TOKEN, base_url=emu.base_url) as bot:
            yield emu, bot


async def wait_for(check: Callable[[], object], timeout: float = 5.0) -> None:
    loop = asyncio.get_running_loop()
    deadline = loop.time() + timeout
    while not check():
        if loop.time() > deadline:
            raise TimeoutError("condition not met")
        await asyncio.sleep(0.01)


async def test_set_webhook_is_reported_by_get_webhook_info_and_refuses_get_updates() -> None:
    dead = f"http://127.0.0.1:{free_port()}/telegram"
    async with emulator() as (emu, bot):
        await emu.send_text(ANNA, "före webhooken")
        assert await bot.set_webhook(dead, secret_token="s3cret_-X", max_connections=7,
                                     allowed_updates=["message", "callback_query"])
        with pytest.raises(Conflict, match="can't use getUpdates method while webhook is active"):
            await bot.get_updates()
        info = await bot.get_webhook_info()
        assert info.url == dead and info.max_connections == 7
        assert info.allowed_updates == ("message", "callback_query")
        assert info.pending_update_count == 1  # the only target refuses: nothing delivered
        await wait_for(lambda: emu.webhook.last_error_message is not None)
        info = await bot.get_webhook_info()
        assert info.last_error_message == "Connection refused"
        assert info.last_error_date is not None
        assert await bot.delete_webhook()
        [update] = await bot.get_updates()  # the update waited; getUpdates has it after all
        assert update.message is not None and update.message.text == "före webhooken"
        with pytest.raises(BadRequest, match=r"(?i)secret token contains unallowed characters"):
            await bot.set_webhook(dead, secret_token="not allowed!")


async def test_each_update_is_posted_as_json_with_the_secret_header() -> None:
    async with emulator() as (emu, bot), receiving(Receiver()) as rec:
        await bot.set_webhook(rec.url, secret_token="hemlig-token_1")
        sent = await emu.send_text(ANNA, "/mina")
        await wait_for(lambda: rec.ok == [sent.update_id])
        [(update_id, headers)] = rec.posts
        assert headers[SECRET_HEADER] == "hemlig-token_1"
        assert headers["Content-Type"] == "application/json"
        update = Update.de_json(rec.bodies[update_id], bot)
        assert update.message is not None and update.message.text == "/mina"
        assert update.message.from_user is not None and update.message.from_user.id == ANNA
        assert (await bot.get_webhook_info()).pending_update_count == 0
        assert emu.acknowledged(sent.update_id) and emu.pending_updates() == []


async def test_an_update_answered_500_is_sent_again_until_a_2xx() -> None:
    async def answer(_update_id: int, nth: int) -> web.StreamResponse:
        return web.Response(status=500 if nth <= 2 else 200)

    async with emulator() as (emu, bot), receiving(Receiver(answer)) as rec:
        await bot.set_webhook(rec.url)
        sent = await emu.send_text(ANNA, "klar")
        await wait_for(lambda: rec.ok == [sent.update_id])
        assert rec.count(sent.update_id) == 3
        assert [a.status for a in emu.webhook.attempts_for(sent.update_id)] == [500, 500, 200]
        info = await bot.get_webhook_info()
        assert info.last_error_message == (
            "Wrong response from the webhook: 500 Internal Server Error")
        assert info.pending_update_count == 0


async def test_an_update_whose_answer_times_out_is_sent_again() -> None:
    async def answer(_update_id: int, nth: int) -> web.StreamResponse:
        if nth == 1:
            await asyncio.sleep(FAST.timeout * 3)  # the emulator gives up after FAST.timeout
        return web.Response()

    async with emulator() as (emu, bot), receiving(Receiver(answer)) as rec:
        await bot.set_webhook(rec.url)
        sent = await emu.send_text(ANNA, "klar")
        await wait_for(lambda: emu.acknowledged(sent.update_id))
        attempts = emu.webhook.attempts_for(sent.update_id)
        assert [(a.status, a.error) for a in attempts] == [(0, "Read timeout expired"), (200, None)]
        assert attempts[0].ended - attempts[0].started == pytest.approx(FAST.timeout, abs=0.3)
        assert rec.count(sent.update_id) == 2  # the bot saw it twice: it must tell by update_id


async def test_a_refused_connection_is_retried_with_backoff_until_the_bot_listens() -> None:
    port = free_port()
    policy = WebhookPolicy(timeout=0.5, first_delay=0.2, max_delay=1.0)
    async with emulator(policy) as (emu, bot):
        await bot.set_webhook(f"http://127.0.0.1:{port}/telegram")
        sent = await emu.send_text(ANNA, "klar")
        await wait_for(lambda: len(emu.webhook.attempts_for(sent.update_id)) >= 4)
        starts = [a.started for a in emu.webhook.attempts_for(sent.update_id)]
        gaps = [b - a for a, b in itertools.pairwise(starts)]
        assert gaps[0] < 0.2 and gaps[1] >= 0.39 and gaps[2] >= 0.79  # at once, then 2x, 4x
        async with receiving(Receiver(), port) as rec:
            await wait_for(lambda: rec.ok == [sent.update_id], timeout=3)
        assert {a.error for a in emu.webhook.attempts_for(sent.update_id)[:-1]} == {
            "Connection refused"}


async def test_a_403_is_resent_with_growing_delays_and_dropped_after_the_update_lifetime() -> None:
    """Telegram treats every non-2xx alike: resent, then dropped once the update expires."""
    policy = WebhookPolicy(timeout=0.5, first_delay=0.05, max_delay=0.2, lifetime=1.0)

    async def answer(update_id: int, _nth: int) -> web.StreamResponse:
        return web.Response(status=403 if update_id == first else 200)

    async with emulator(policy) as (emu, bot), receiving(Receiver(answer)) as rec:
        await bot.set_webhook(rec.url)
        first = (await emu.send_text(ANNA, "fel hemlighet")).update_id
        second = (await emu.send_text(ANNA, "nästa")).update_id
        await wait_for(lambda: rec.ok == [second], timeout=3)
        assert emu.webhook.dropped == [first]
        tries = rec.count(first)
        starts = [a.started for a in emu.webhook.attempts_for(first)]
        assert 4 <= tries <= 12 and starts[-1] - starts[0] <= policy.lifetime
        gaps = [b - a for a, b in itertools.pairwise(starts)]
        assert max(gaps) <= policy.max_delay + 0.3  # capped, and not a tight loop:
        assert min(gaps[1:]) >= 0.09
        await asyncio.sleep(0.4)
        assert rec.count(first) == tries  # dropped means never again
        info = await bot.get_webhook_info()
        assert info.pending_update_count == 0
        assert info.last_error_message == "Wrong response from the webhook: 403 Forbidden"


async def test_410_for_the_gone_timeout_removes_the_webhook() -> None:
    policy = WebhookPolicy(first_delay=0.02, max_delay=0.05, gone_timeout=0.3)

    async def answer(_update_id: int, _nth: int) -> web.StreamResponse:
        return web.Response(status=410)

    async with emulator(policy) as (emu, bot), receiving(Receiver(answer)) as rec:
        await bot.set_webhook(rec.url)
        await emu.send_text(ANNA, "hallå")
        await wait_for(lambda: not emu.webhook.active, timeout=3)
        assert (await bot.get_webhook_info()).url == ""
        assert len(await bot.get_updates()) == 1  # kept for getUpdates


async def test_one_chat_in_order_while_other_chats_are_not_held_up() -> None:
    async def answer(update_id: int, nth: int) -> web.StreamResponse:
        if update_id == anna_first and nth == 1:
            return web.Response(status=500, headers={"Retry-After": "1"})
        return web.Response()

    async with emulator() as (emu, bot), receiving(Receiver(answer)) as rec:
        anna_first = (await emu.send_text(ANNA, "1")).update_id
        anna = [anna_first] + [(await emu.send_text(ANNA, str(n))).update_id for n in (2, 3)]
        bo = [(await emu.send_text(BO, str(n))).update_id for n in (1, 2, 3)]
        await bot.set_webhook(rec.url)
        await wait_for(lambda: len(rec.ok) == 6, timeout=4)
        assert [u for u in rec.ok if u in anna] == anna
        assert rec.ok[:3] == bo  # Bo's three went while Anna's first waited out Retry-After
        assert [u for u, _ in rec.posts if u in anna] == [anna_first, *anna]


async def test_at_most_max_connections_deliveries_are_in_flight() -> None:
    release = asyncio.Event()

    async def answer(_update_id: int, _nth: int) -> web.StreamResponse:
        await release.wait()
        return web.Response()

    async with emulator(WebhookPolicy(timeout=30)) as (emu, bot), \
            receiving(Receiver(answer)) as rec:
        users = range(5001, 5011)
        for uid in users:
            await emu.add_user(uid, f"P{uid}")
            await emu.send_text(uid, "/mina")
        await bot.set_webhook(rec.url, max_connections=3)
        await wait_for(lambda: rec.in_flight == 3)
        await asyncio.sleep(0.1)
        assert rec.in_flight == 3
        release.set()
        await wait_for(lambda: len(rec.ok) == 10)
        assert rec.peak == 3


async def test_several_targets_take_turns_and_a_dead_one_is_skipped() -> None:
    dead = f"http://127.0.0.1:{free_port()}/telegram"
    async with emulator() as (emu, bot), receiving(Receiver()) as a, receiving(Receiver()) as b, \
            receiving(Receiver()) as c:
        await emu.set_webhook_targets([a.url, b.url, c.url])
        await bot.set_webhook("https://medlofte.example.se/telegram", max_connections=1)
        updates = [(await emu.send_text(uid, f"{uid}")).update_id
                   for uid in (ANNA, BO, CILLA) * 3]
        await wait_for(lambda: len(a.ok) + len(b.ok) + len(c.ok) == 9)
        order = [x.url for x in emu.webhook.attempts]
        assert order == [a.url, b.url, c.url] * 3
        assert (await bot.get_webhook_info()).url == "https://medlofte.example.se/telegram"

        await emu.set_webhook_targets([a.url, dead, c.url])
        later = [(await emu.send_text(uid, "igen")).update_id for uid in (ANNA, BO, CILLA) * 3]
        await wait_for(lambda: len(a.ok) + len(c.ok) == 3 + 3 + 9)
        to_dead = [x for x in emu.webhook.attempts if x.url == dead]
        assert len(to_dead) == 1 and to_dead[0].error == "Connection refused"  # then skipped
        assert sorted(a.ok + c.ok + b.ok) == sorted(updates + later)  # each delivered once
        assert len(set(a.ok + b.ok + c.ok)) == 18


async def test_drop_pending_updates_forgets_what_was_waiting() -> None:
    async with emulator() as (emu, bot), receiving(Receiver()) as rec:
        await emu.send_text(ANNA, "gammalt")
        await bot.set_webhook(rec.url, drop_pending_updates=True)
        fresh = await emu.send_text(ANNA, "nytt")
        await wait_for(lambda: rec.ok == [fresh.update_id])
        await asyncio.sleep(0.05)
        assert [u for u, _ in rec.posts] == [fresh.update_id]


async def test_with_delivery_off_the_webhook_is_stored_and_nothing_posted() -> None:
    async with emulator(WebhookPolicy(deliver=False)) as (emu, bot), \
            receiving(Receiver()) as rec:
        await bot.set_webhook(rec.url)
        await emu.send_text(ANNA, "hallå")
        await asyncio.sleep(0.2)
        assert rec.posts == [] and emu.webhook_url == rec.url
        assert (await bot.get_webhook_info()).pending_update_count == 1
        with pytest.raises(Conflict):
            await bot.get_updates()
