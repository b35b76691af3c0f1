"""The python-telegram-bot Application: handlers, commands per language, context and limits."""

from __future__ import annotations

from collections.abc import Callable, Coroutine
from typing import Any

from telegram import BotCommand
from telegram.ext import (
    Application,
    BaseRateLimiter,
    CallbackQueryHandler,
    CommandHandler,
    ContextTypes,
    MessageHandler,
    filters,
)

from medlofte_bot import texts
from medlofte_bot.chat import handlers as h
from medlofte_bot.chat import members as mb
from medlofte_bot.chat import task_actions as a
from medlofte_bot.chat.buttons import on_button
from medlofte_bot.chat.context import BotContext, ChatDeps
from medlofte_bot.chat.updates import Finished, PerPersonUpdates, UpdateGate
from medlofte_bot.chat.web import on_web

COMMANDS = [  # (Swedish, English alias, handler)
    ("start", "start", h.on_start), ("hjalp", "help", h.on_help), ("mina", "mine", h.on_mine),
    ("plan", "plan", h.on_plan), ("status", "status", h.on_status), ("klar", "done", a.on_done),
    ("flytta", "move", a.on_move), ("stallin", "cancel", a.on_cancel),
    ("sprak", "lang", h.on_language), ("bjud", "invite", h.on_invite),
    ("rapport", "report", h.on_report), ("grupp", "group", h.on_group),
    ("arsrapport", "yearreport", h.on_year_report), ("kommentar", "comment", h.on_comment),
    ("medlemmar", "members", mb.on_members), ("avsluta", "remove", mb.on_remove),
    ("roll", "role", mb.on_role), ("inbjudningar", "invites", mb.on_invites),
    ("aterkalla", "revoke", mb.on_revoke), ("webb", "web", on_web),
]
App = Application[Any, BotContext, Any, Any, Any, Any]
# the update types the handlers below use: what setWebhook asks Telegram for
ALLOWED_UPDATES = ("message", "edited_message", "callback_query")


def file_url(base_url: str) -> str:
    """Telegram's file URL beside its API URL ('…/bot' -> '…/file/bot')."""
    return base_url[: -len("bot")] + "file/bot" if base_url.endswith("/bot") else base_url


async def publish_commands(app: App) -> None:
    """setMyCommands in Swedish (default) and English."""
    for lang, code in (("sv", None), ("en", "en")):
        names = [(sv if lang == "sv" else en, sv) for sv, en, _ in COMMANDS]
        await app.bot.set_my_commands(
            [BotCommand(name, texts.t(f"cmd.{key}", lang)) for name, key in names],
            language_code=code)


def build_application(token: str, base_url: str, deps: ChatDeps,
                      rate_limiter: BaseRateLimiter[Any],
                      post_init: Callable[[App], Coroutine[Any, Any, None]] | None = None,
                      gate: UpdateGate | None = None, *, polling: bool = True,
                      on_finished: Finished | None = None) -> App:
    """Wire the handlers, the typed context, the rate limiter and the update processor
    (``gate``: which updates it drops; by default on the system's monotonic clock;
    ``on_finished``: told of each update dealt with). ``polling=False``: no Updater, the
    webhook puts updates on the queue."""
    processor = PerPersonUpdates(gate=gate, on_flood=h.tell_flooding, on_finished=on_finished)
    builder = (Application.builder().token(token).base_url(base_url)
               .base_file_url(file_url(base_url))
               .context_types(ContextTypes(context=BotContext))
               .rate_limiter(rate_limiter)
               .concurrent_updates(processor))
    if not polling:
        builder = builder.updater(None)
    if post_init is not None:
        builder = builder.post_init(post_init)
    app: App = builder.build()
    app.bot_data["deps"] = deps
    new = filters.UpdateType.MESSAGE  # an edit never runs a command: it gets on_edited
    for sv, en, handler in COMMANDS:
        app.add_handler(CommandHandler(list(dict.fromkeys([sv, en])), handler, filters=new))
    app.add_handler(CallbackQueryHandler(mb.on_member_button, pattern=mb.CALLBACK_PATTERN))
    app.add_handler(CallbackQueryHandler(on_button))
    app.add_handler(MessageHandler(filters.UpdateType.EDITED_MESSAGE, h.on_edited))
    app.add_handler(MessageHandler(filters.COMMAND & new, h.on_unknown_command))
    app.add_handler(MessageHandler(
        filters.TEXT & ~filters.COMMAND & ~filters.FORWARDED & filters.UpdateType.MESSAGE,
        h.on_text))
    app.add_handler(MessageHandler(
        (filters.Sticker.ALL | filters.PHOTO | filters.FORWARDED | filters.Document.ALL)
        & filters.UpdateType.MESSAGE, h.on_media))
    app.add_error_handler(h.on_error)
    return app
