"""End-to-end tests of the Bot API emulator, driven by the real python-telegram-bot client."""

from __future__ import annotations

import asyncio
import datetime as dtm
import time
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any, TypeAlias

import aiohttp
import pytest
from telegram import (
    Bot,
    BotCommand,
    BotCommandScopeChat,
    InlineKeyboardButton,
    InlineKeyboardMarkup,
    MessageOriginHiddenUser,
    ReplyParameters,
    Update,
)
from telegram.error import BadRequest, Conflict, Forbidden, InvalidToken, NetworkError, RetryAfter
from telegram.ext import (
    Application,
    ApplicationBuilder,
    CallbackQueryHandler,
    CommandHandler,
    ContextTypes,
    ExtBot,
    JobQueue,
)

from botapi_emulator import BotApiEmulator, EmulatorThread, FloodLimits

TOKEN = "123456:TEST-TOKEN"
ANNA = 1001
BO = 1002
GROUP = -100500
PNG = (
    bytes.fromhex("89504e470d0a1a0a0000000d49484452000000020000000308060000009db8a1e3") + b"\0" * 40
)


class FakeClock:
    """A clock that only moves when told to."""

    def __init__(self, now: float) -> None:
        self.now = now

    def __call__(self) -> float:
        return self.now

    def advance(self, seconds: float) -> None:
        self.now += seconds


def keyboard(*data: str) -> InlineKeyboardMarkup:
    return InlineKeyboardMarkup([[InlineKeyboardButton(d.upper(), callback_data=d)] for d in data])


@pytest.fixture(autouse=True)
def _timedelta_periods(monkeypatch: pytest.MonkeyPatch) -> None:
    """PTB 22 warns unless time periods (RetryAfter.retry_after) are timedeltas."""
    monkeypatch.setenv("PTB_TIMEDELTA", "true")


@pytest.fixture
async def emu() -> AsyncIterator[BotApiEmulator]:
    async with BotApiEmulator(TOKEN, "medlofte_bot") as emulator:
        await emulator.add_user(ANNA, "Anna", "anna")
        await emulator.add_user(BO, "Bo", language_code="en")
        await emulator.add_group(GROUP, "Grannar", [ANNA, BO])
        yield emulator


@pytest.fixture
async def bot(emu: BotApiEmulator) -> AsyncIterator[Bot]:
    async with Bot(TOKEN, base_url=emu.base_url, base_file_url=emu.base_file_url) as client:
        yield client


# what ApplicationBuilder().build() makes when nothing but the URLs is set
DefaultApplication: TypeAlias = Application[
    ExtBot[None], ContextTypes.DEFAULT_TYPE, dict[Any, Any], dict[Any, Any], dict[Any, Any],
    JobQueue[ContextTypes.DEFAULT_TYPE]]


@asynccontextmanager
async def polling(app: DefaultApplication) -> AsyncIterator[DefaultApplication]:
    async with app:
        await app.start()
        assert app.updater is not None
        await app.updater.start_polling(poll_interval=0.0, timeout=dtm.timedelta(seconds=2))
        try:
            yield app
        finally:
            await app.updater.stop()
            await app.stop()


def build_app(emu: BotApiEmulator) -> DefaultApplication:
    return (
        ApplicationBuilder()
        .token(TOKEN)
        .base_url(emu.base_url)
        .base_file_url(emu.base_file_url)
        .build()
    )


async def test_sent_message_is_recorded_for_its_chat_with_keyboard_and_reply(
    emu: BotApiEmulator, bot: Bot
) -> None:
    asked = await emu.send_text(ANNA, "hej")
    msg = await bot.send_message(
        ANNA,
        "<b>Hej</b> Anna",
        parse_mode="HTML",
        reply_markup=keyboard("yes", "no"),
        reply_parameters=ReplyParameters(asked.message_id),
    )
    assert msg.message_id == asked.message_id + 1
    assert msg.text == "Hej Anna" and msg.from_user is not None and msg.from_user.is_bot
    assert msg.reply_to_message is not None and msg.reply_to_message.text == "hej"
    [sent] = emu.messages_to(ANNA)
    assert (sent.text, sent.kind, sent.reply_to) == ("<b>Hej</b> Anna", "text", asked.message_id)
    assert sent.button_data() == ["yes", "no"]
    assert emu.messages_to(BO) == [] and emu.last_message(ANNA) is sent


async def test_message_dates_come_from_the_injected_clock() -> None:
    clock = FakeClock(1_700_000_000.0)
    async with BotApiEmulator(TOKEN, clock=clock) as emu:
        await emu.add_user(ANNA, "Anna")
        async with Bot(TOKEN, base_url=emu.base_url) as bot:
            msg = await bot.send_message(ANNA, "x")
            clock.advance(3600)
            await emu.send_text(ANNA, "later")
            [update] = await bot.get_updates()
    assert msg.date == dtm.datetime.fromtimestamp(1_700_000_000, dtm.UTC)
    assert update.message is not None and update.message.date.timestamp() == 1_700_003_600


async def test_wrong_token_is_401_and_unknown_method_404_in_telegram_envelope(
    emu: BotApiEmulator,
) -> None:
    wrong = Bot("999:WRONG", base_url=emu.base_url)
    with pytest.raises(InvalidToken):
        await wrong.initialize()
    await wrong.shutdown()
    async with aiohttp.ClientSession() as http:
        async with http.post(f"{emu.base_url}999:WRONG/getMe") as resp:
            assert resp.status == 401
            assert await resp.json() == {
                "ok": False,
                "error_code": 401,
                "description": "Unauthorized",
            }
        async with http.post(f"{emu.base_url}{TOKEN}/noSuchMethod") as resp:
            assert resp.status == 404 and (await resp.json())["description"] == "Not Found"
        body = {"chat_id": ANNA, "text": "via json", "reply_markup": keyboard("a").to_dict()}
        async with http.post(f"{emu.base_url}{TOKEN}/sendMessage", json=body) as resp:
            assert resp.status == 200 and (await resp.json())["result"]["text"] == "via json"
    assert emu.messages_to(ANNA)[0].reply_markup == keyboard("a").to_dict()


async def test_command_reaches_application_command_handler_and_reply_is_recorded(
    emu: BotApiEmulator,
) -> None:
    async def start(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
        assert update.effective_message is not None
        await update.effective_message.reply_text(f"args={context.args}")

    app = build_app(emu)
    app.add_handler(CommandHandler("start", start))
    async with polling(app):
        await emu.send_text(ANNA, "/start abc")
        private = await emu.wait_for_message(ANNA)
        await emu.send_text(BO, "/start@medlofte_bot x y", chat_id=GROUP)
        group = await emu.wait_for_message(GROUP)
    assert private.text == "args=['abc']"
    assert group.text == "args=['x', 'y']"
    assert emu.count_by_method["deleteWebhook"] == 1 and emu.count_by_method["getMe"] >= 1


async def test_pressed_button_reaches_callback_handler_and_answer_is_recorded(
    emu: BotApiEmulator, bot: Bot
) -> None:
    async def on_button(update: Update, _context: ContextTypes.DEFAULT_TYPE) -> None:
        query = update.callback_query
        assert query is not None and query.message is not None
        await query.answer(f"got {query.data}")
        await query.edit_message_text(f"chose {query.data}")

    offer = await bot.send_message(ANNA, "Pick", reply_markup=keyboard("sv", "en"))
    app = build_app(emu)
    app.add_handler(CallbackQueryHandler(on_button))
    async with polling(app):
        query_id = await emu.press_button(ANNA, ANNA, offer.message_id, "en")
        await emu.wait_until(lambda: getattr(emu.last_message(ANNA), "edits", None), timeout=5)
    [answer] = emu.answered_callbacks
    assert (answer.callback_query_id, answer.text) == (query_id, "got en")
    edited = emu.last_message(ANNA)
    assert edited is not None and edited.text == "chose en" and edited.reply_markup is None
    assert edited.edits[0].old_text == "Pick"


async def test_a_callback_query_answered_after_its_timeout_is_refused_as_too_old(
    emu: BotApiEmulator, bot: Bot
) -> None:
    offer = await bot.send_message(ANNA, "Pick", reply_markup=keyboard("sv"))
    emu.callback_answer_timeout = 0.0
    late = await emu.press_button(ANNA, ANNA, offer.message_id, "sv")
    with pytest.raises(BadRequest, match=r"(?i)query is too old"):
        await bot.answer_callback_query(late)
    emu.callback_answer_timeout = None
    prompt = await emu.press_button(ANNA, ANNA, offer.message_id, "sv")
    assert await bot.answer_callback_query(prompt) is True
    assert [a.callback_query_id for a in emu.answered_callbacks] == [prompt]


async def test_every_enqueued_update_can_be_read_back_after_it_was_confirmed(
    emu: BotApiEmulator, bot: Bot
) -> None:
    sent = await emu.send_text(ANNA, "/klar 7")
    updates = await bot.get_updates(timeout=0)
    await bot.get_updates(offset=updates[-1].update_id + 1, timeout=0)
    assert emu.pending_updates() == []
    raw = emu.update_json(sent.update_id)
    assert raw is not None and raw["message"]["text"] == "/klar 7"
    assert emu.update_json(sent.update_id + 100) is None


async def test_long_poll_returns_as_soon_as_an_update_arrives(
    emu: BotApiEmulator, bot: Bot
) -> None:
    started = time.monotonic()
    poll = asyncio.create_task(bot.get_updates(timeout=5))
    await asyncio.sleep(0.2)
    await emu.send_text(ANNA, "wake up")
    updates = await poll
    assert time.monotonic() - started < 2.0
    assert [u.message.text for u in updates if u.message] == ["wake up"]
    started = time.monotonic()
    assert (
        await bot.get_updates(offset=updates[-1].update_id + 1, timeout=dtm.timedelta(seconds=0.5))
        == ()
    )
    assert time.monotonic() - started >= 0.45
    assert emu.pending_updates() == []


async def test_second_concurrent_get_updates_ends_the_first_with_conflict(
    emu: BotApiEmulator, bot: Bot
) -> None:
    first = asyncio.create_task(bot.get_updates(timeout=3))
    await asyncio.sleep(0.1)
    async with Bot(TOKEN, base_url=emu.base_url) as second_instance:
        second = asyncio.create_task(second_instance.get_updates(timeout=0))
        with pytest.raises(Conflict):
            await first
        assert await second == ()


async def test_blocked_or_never_started_users_and_unknown_chats_are_refused(
    emu: BotApiEmulator, bot: Bot
) -> None:
    await emu.block(ANNA)
    with pytest.raises(Forbidden, match="bot was blocked by the user"):
        await bot.send_message(ANNA, "hello?")
    await emu.unblock(ANNA)
    await bot.send_message(ANNA, "hello again")
    await emu.add_user(2001, "Cecilia", started=False)
    with pytest.raises(Forbidden, match="can't initiate conversation"):
        await bot.send_message(2001, "hi")
    with pytest.raises(BadRequest, match=r"(?i)chat not found"):
        await bot.send_message(424242, "hi")
    kinds = [next(k for k in u if k != "update_id") for u in emu.pending_updates()]
    assert kinds == ["my_chat_member", "my_chat_member"]
    blocked, unblocked = await bot.get_updates()
    assert blocked.my_chat_member is not None and unblocked.my_chat_member is not None
    assert blocked.my_chat_member.new_chat_member.status == "kicked"
    assert unblocked.my_chat_member.new_chat_member.status == "member"
    assert [s.status for s in emu.requests_for("sendMessage")] == [403, 200, 403, 400]


async def test_second_message_to_a_private_chat_within_a_second_gets_429() -> None:
    mono = FakeClock(100.0)
    async with BotApiEmulator(TOKEN, monotonic=mono, enforce_limits=True) as emu:
        await emu.add_user(ANNA, "Anna")
        await emu.add_user(BO, "Bo")
        async with Bot(TOKEN, base_url=emu.base_url) as bot:
            await bot.send_message(ANNA, "1")
            await bot.send_message(BO, "other chat is fine")
            mono.advance(0.5)
            with pytest.raises(RetryAfter) as caught:
                await bot.send_message(ANNA, "2")
            mono.advance(0.5)
            await bot.send_message(ANNA, "2 again")
    retry_after = caught.value.retry_after
    assert isinstance(retry_after, dtm.timedelta) and retry_after.total_seconds() >= 1
    assert emu.count_429 == 1
    assert [m.text for m in emu.messages_to(ANNA)] == ["1", "2 again"]


async def test_group_and_global_limits_refuse_the_message_over_the_limit() -> None:
    mono = FakeClock(0.0)
    limits = FloodLimits(global_per_second=30, global_burst=30)
    async with BotApiEmulator(TOKEN, monotonic=mono, enforce_limits=True, limits=limits) as emu:
        for uid in range(1, 32):
            await emu.add_user(uid, f"U{uid}")
        await emu.add_group(GROUP, "G", [1])
        async with Bot(TOKEN, base_url=emu.base_url) as bot:
            for i in range(20):
                await bot.send_message(GROUP, f"g{i}")
            with pytest.raises(RetryAfter):
                await bot.send_message(GROUP, "g20")
            mono.advance(3.0)  # 20/min: one message per 3 s
            await bot.send_message(GROUP, "g20")
            mono.advance(10.0)
            for uid in range(1, 31):
                await bot.send_message(uid, "burst")
            with pytest.raises(RetryAfter):
                await bot.send_message(31, "31st within a second")
    assert emu.count_429 == 2 and len(emu.messages_to(GROUP)) == 21


async def test_injected_5xx_faults_raise_network_error_then_requests_succeed(
    emu: BotApiEmulator, bot: Bot
) -> None:
    emu.fail_next(2, status=500)
    emu.fail_next(1, status=502, description="Bad Gateway")
    for _ in range(3):
        with pytest.raises(NetworkError):
            await bot.send_message(ANNA, "x")
    emu.fail_next(1, status=429, retry_after=7)
    with pytest.raises(RetryAfter):
        await bot.send_message(ANNA, "x")
    await bot.send_message(ANNA, "finally")
    assert [r.status for r in emu.requests_for("sendMessage")] == [500, 500, 502, 429, 200]
    assert emu.count_429 == 1


async def test_outage_fails_every_request_and_the_same_port_works_after_it(
    emu: BotApiEmulator, bot: Bot
) -> None:
    port = emu.port
    await bot.get_me()
    await emu.outage(True)
    for _ in range(2):  # first on the kept-alive connection, then a refused new one
        with pytest.raises(NetworkError):
            await bot.get_me()
    await emu.outage(False)
    assert (await bot.get_me()).username == "medlofte_bot" and emu.port == port
    await emu.outage(True, mode="502")
    with pytest.raises(NetworkError, match="Bad Gateway"):
        await bot.get_updates()
    await emu.outage(False)
    assert await bot.get_updates() == ()


async def test_polling_application_recovers_after_a_timed_outage(emu: BotApiEmulator) -> None:
    async def echo(update: Update, _context: ContextTypes.DEFAULT_TYPE) -> None:
        assert update.effective_message is not None
        await update.effective_message.reply_text("pong")

    app = build_app(emu)
    app.add_handler(CommandHandler("ping", echo))
    async with polling(app):
        await emu.outage_for(0.3)
        assert emu.in_outage
        await emu.send_text(ANNA, "/ping")
        reply = await emu.wait_for_message(ANNA, timeout=8)
    assert reply.text == "pong" and not emu.in_outage
    assert any(r.status == 0 for r in emu.request_log)


async def test_uploaded_photo_and_document_are_recorded_and_downloadable(
    emu: BotApiEmulator, bot: Bot
) -> None:
    photo = await bot.send_photo(ANNA, PNG, caption="Kalender")
    doc = await bot.send_document(GROUP, b"BEGIN:VCALENDAR", filename="lofte.ics", caption="ics")
    sent_photo, sent_doc = emu.all_sent()
    assert (sent_photo.kind, sent_photo.caption, sent_photo.file_size) == (
        "photo",
        "Kalender",
        len(PNG),
    )
    assert (photo.photo[-1].width, photo.photo[-1].height) == (2, 3)
    assert (sent_doc.kind, sent_doc.file_name, sent_doc.chat_id) == ("document", "lofte.ics", GROUP)
    assert doc.document is not None and doc.document.file_name == "lofte.ics"
    file = await bot.get_file(doc.document.file_id)
    assert bytes(await file.download_as_bytearray()) == b"BEGIN:VCALENDAR"


async def test_commands_are_stored_per_language_and_scope(emu: BotApiEmulator, bot: Bot) -> None:
    await bot.set_my_commands(
        [BotCommand("start", "Börja"), BotCommand("idag", "Idag")], language_code="sv"
    )
    await bot.set_my_commands([BotCommand("start", "Start")], language_code="en")
    await bot.set_my_commands([BotCommand("admin", "Admin")], scope=BotCommandScopeChat(ANNA))
    assert [c.command for c in await bot.get_my_commands(language_code="sv")] == ["start", "idag"]
    assert [c.description for c in await bot.get_my_commands(language_code="en")] == ["Start"]
    assert await bot.get_my_commands() == ()
    assert emu.commands_for("", {"type": "chat", "chat_id": ANNA})[0]["command"] == "admin"
    await bot.delete_my_commands(language_code="en")
    assert emu.commands_for("en") == [] and len(emu.commands_for("sv")) == 2


async def test_edits_keep_history_and_unchanged_or_missing_messages_are_bad_requests(
    emu: BotApiEmulator, bot: Bot
) -> None:
    msg = await bot.send_message(ANNA, "v1", reply_markup=keyboard("a"))
    await bot.edit_message_text("v2", ANNA, msg.message_id, reply_markup=keyboard("a"))
    with pytest.raises(BadRequest, match=r"(?i)message is not modified"):
        await bot.edit_message_text("v2", ANNA, msg.message_id, reply_markup=keyboard("a"))
    await bot.edit_message_reply_markup(ANNA, msg.message_id)
    with pytest.raises(BadRequest, match=r"(?i)message to edit not found"):
        await bot.edit_message_text("x", ANNA, 999)
    with pytest.raises(BadRequest, match=r"(?i)can't parse entities"):
        await bot.send_message(ANNA, "<b>open", parse_mode="HTML")
    sent = emu.sent_message(ANNA, msg.message_id)
    assert sent is not None and sent.text == "v2" and sent.reply_markup is None
    assert [(e.method, e.old_text, e.new_text) for e in sent.edits] == [
        ("editMessageText", "v1", "v2"),
        ("editMessageReplyMarkup", "v2", "v2"),
    ]


async def test_user_side_updates_for_bad_input_parse_in_ptb(emu: BotApiEmulator, bot: Bot) -> None:
    first = await emu.send_text(ANNA, "tpyo")
    await emu.edit_text(ANNA, None, first.message_id, "typo")
    await emu.send_sticker(ANNA)
    await emu.send_photo_from_user(ANNA, caption="look")
    await emu.forward_text(ANNA, "forwarded", origin_name="Someone")
    updates = await bot.get_updates()
    original, edited, sticker, photo, forward = updates
    assert original.message is not None and original.message.text == "tpyo"
    assert edited.edited_message is not None and edited.edited_message.text == "typo"
    assert sticker.message is not None and sticker.message.sticker is not None
    assert photo.message is not None and photo.message.caption == "look"
    assert forward.message is not None
    assert isinstance(forward.message.forward_origin, MessageOriginHiddenUser)
    assert [u.update_id for u in updates] == sorted(u.update_id for u in updates)


async def test_chat_info_actions_and_delay_are_served(emu: BotApiEmulator, bot: Bot) -> None:
    chat = await bot.get_chat(GROUP)
    assert (chat.type, chat.title) == ("group", "Grannar")
    await bot.send_chat_action(ANNA, "typing")
    assert [(a.chat_id, a.action) for a in emu.chat_actions] == [(ANNA, "typing")]
    emu.set_delay(0.3)
    started = time.monotonic()
    await bot.get_me()
    assert time.monotonic() - started >= 0.29
    emu.set_delay(0)
    with pytest.raises(TimeoutError):
        await emu.wait_for_message(ANNA, timeout=0.1)


async def test_emulator_thread_serves_a_bot_running_in_another_loop() -> None:
    runner = EmulatorThread(BotApiEmulator(TOKEN))
    emu = runner.start()
    try:
        runner.call(emu.add_user(ANNA, "Anna"))
        async with Bot(TOKEN, base_url=emu.base_url) as bot:
            await runner.acall(emu.send_text(ANNA, "/start"))
            [update] = await bot.get_updates(timeout=2)
            assert update.message is not None and update.message.text == "/start"
            await bot.send_message(ANNA, "welcome")
        assert runner.call(emu.wait_for_message(ANNA, timeout=1)).text == "welcome"
    finally:
        runner.stop()
    assert runner.loop is not None and runner.loop.is_closed()


async def test_a_repeated_update_reaches_the_application_twice_with_the_same_id(
    emu: BotApiEmulator,
) -> None:
    seen: list[tuple[int, str]] = []

    async def record(update: Update, _context: ContextTypes.DEFAULT_TYPE) -> None:
        assert update.message is not None
        seen.append((update.update_id, update.message.text or ""))

    app = build_app(emu)
    app.add_handler(CommandHandler("klar", record))
    async with polling(app):
        first = await emu.send_text(ANNA, "/klar 1")
        await emu.wait_until(lambda: emu.acknowledged(first.update_id), timeout=5)
        await emu.repeat_update(first.update_id)
        assert not emu.acknowledged(first.update_id)
        assert [int(u["update_id"]) for u in emu.pending_updates()] == [first.update_id]
        await emu.send_text(ANNA, "/klar 2")
        await emu.wait_until(lambda: len(seen) == 3, timeout=5)
        assert seen == [(first.update_id, "/klar 1"), (first.update_id, "/klar 1"),
                        (first.update_id + 1, "/klar 2")]
        await emu.wait_until(lambda: emu.acknowledged(first.update_id), timeout=5)
    with pytest.raises(ValueError, match="no update"):
        await emu.repeat_update(999)


async def test_an_update_is_acknowledged_only_once_the_bot_polls_again(
    emu: BotApiEmulator, bot: Bot
) -> None:
    sent = await emu.send_text(ANNA, "hej")
    assert emu.last_update_id == sent.update_id and not emu.acknowledged(sent.update_id)
    (update,) = await bot.get_updates()
    assert update.update_id == sent.update_id and not emu.acknowledged(sent.update_id)
    assert await bot.get_updates(offset=sent.update_id + 1) == ()
    assert emu.acknowledged(sent.update_id)


async def test_channel_posts_and_their_edits_come_signed_by_the_channel(
    emu: BotApiEmulator, bot: Bot
) -> None:
    await emu.add_channel(-100777, "Nyheter", username="nyheter")
    post = await emu.post_to_channel(-100777, "/status")
    await emu.edit_channel_post(-100777, post.message_id, "/klar 1")
    first, edited = await bot.get_updates()
    assert first.channel_post is not None and first.channel_post.from_user is None
    assert first.channel_post.sender_chat is not None
    assert first.channel_post.sender_chat.id == -100777
    assert first.channel_post.chat.type == "channel" and first.effective_user is None
    assert first.channel_post.text == "/status" and first.channel_post.entities
    assert edited.edited_channel_post is not None
    assert edited.edited_channel_post.text == "/klar 1"
    with pytest.raises(ValueError, match="post_to_channel"):
        await emu.send_text(ANNA, "hej", chat_id=-100777)
    with pytest.raises(ValueError, match="add_channel"):
        await emu.add_group(-100888, "Kanal", type="channel")
    sent = await bot.send_message(-100777, "svar")
    assert emu.messages_to(-100777)[0].message_id == sent.message_id
