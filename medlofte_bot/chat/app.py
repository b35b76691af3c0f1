"""The python-telegram-bot Application: handlers, commands per language, the tick."""

from __future__ import annotations

import logging
import os

from telegram import BotCommand, Update
from telegram.ext import (
    Application,
    CallbackQueryHandler,
    CommandHandler,
    ContextTypes,
    MessageHandler,
    filters,
)

from medlofte_bot import texts
from medlofte_bot.chat import handlers as h
from medlofte_bot.chat import task_actions as a
from medlofte_bot.chat.buttons import on_button
from medlofte_bot.chat.context import Deps
from medlofte_bot.chat.delivery import Pacer
from medlofte_bot.scheduling.jobs import tick

log = logging.getLogger(__name__)
# Opt in now to what PTB 23 does anyway: RetryAfter.retry_after as a timedelta (our delivery
# reads both), instead of a deprecation warning on every 429.
os.environ.setdefault("PTB_TIMEDELTA", "true")
COMMANDS = [  # (Swedish, English alias, handler)
    ("start", "start", h.on_start), ("hjalp", "help", h.on_help), ("mina", "mine", h.on_mine),
    ("plan", "plan", h.on_plan), ("status", "status", h.on_status), ("klar", "done", a.on_done),
    ("flytta", "move", a.on_move), ("stallin", "cancel", a.on_cancel),
    ("sprak", "lang", h.on_language), ("bjud", "invite", h.on_invite),
    ("rapport", "report", h.on_report), ("grupp", "group", h.on_group),
]
TICK_CLOCK_SECONDS = 60.0


def file_url(base_url: str) -> str:
    """Telegram's file URL beside its API URL ('…/bot' -> '…/file/bot')."""
    return base_url[: -len("bot")] + "file/bot" if base_url.endswith("/bot") else base_url


async def publish_commands(app: Application) -> None:
    """setMyCommands in Swedish (default) and English."""
    for lang, code in (("sv", None), ("en", "en")):
        names = [(sv if lang == "sv" else en, sv) for sv, en, _ in COMMANDS]
        await app.bot.set_my_commands(
            [BotCommand(name, texts.t(f"cmd.{key}", lang)) for name, key in names],
            language_code=code)


def build_application(token: str, base_url: str, d: Deps,
                      tick_interval: float | None = None) -> Application:
    """Wire handlers and the reminder tick into one Application."""
    pacer = Pacer()

    async def on_tick(context: ContextTypes.DEFAULT_TYPE) -> None:
        try:
            await tick(context.bot, d, pacer)
        except Exception:  # one failed tick must not stop the next; the rows keep the state
            log.exception("reminder tick failed")

    async def post_init(app: Application) -> None:
        await publish_commands(app)
        interval = tick_interval or max(d.clock.real_seconds(TICK_CLOCK_SECONDS), 0.05)
        assert app.job_queue is not None
        app.job_queue.run_repeating(on_tick, interval=min(interval, 30.0), first=0.0,
                                    name="reminders")

    app = (Application.builder().token(token).base_url(base_url)
           .base_file_url(file_url(base_url)).post_init(post_init).build())
    app.bot_data["deps"] = d
    for sv, en, handler in COMMANDS:
        app.add_handler(CommandHandler(list(dict.fromkeys([sv, en])), handler))
    app.add_handler(CallbackQueryHandler(on_button))
    app.add_handler(MessageHandler(filters.COMMAND, h.on_unknown_command))
    app.add_handler(MessageHandler(
        filters.TEXT & ~filters.COMMAND & ~filters.FORWARDED & filters.UpdateType.MESSAGE,
        h.on_text))
    app.add_handler(MessageHandler(
        (filters.Sticker.ALL | filters.PHOTO | filters.FORWARDED | filters.Document.ALL)
        & filters.UpdateType.MESSAGE, h.on_media))
    app.add_error_handler(h.on_error)
    return app


__all__ = ["Update", "build_application", "publish_commands"]
