"""What every handler shares: who sent the update, replies, running a use case off the loop."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from typing import Any, ParamSpec, TypeVar

from telegram import Message, Update
from telegram.constants import ChatType

from medlofte_bot import texts
from medlofte_bot.chat import render
from medlofte_bot.chat.context import BotContext
from medlofte_bot.domain.errors import UserError
from medlofte_bot.domain.parsing import clean_text, task_number
from medlofte_bot.domain.policy import Place
from medlofte_bot.services.usecases import NotMember, UseCases
from medlofte_bot.services.views import Actor, Answer, ChatRef, SentRecord

FLUSH_AFTER = 0.1  # seconds: the sent-message log is written in groups this often at least

P = ParamSpec("P")
T = TypeVar("T")


def client_language(update: Update) -> str:
    """English when the Telegram client says so, else Swedish (before we know the member)."""
    user = update.effective_user
    return "en" if user and (user.language_code or "").startswith("en") else "sv"


def actor_of(update: Update) -> Actor | None:
    """The person behind the update, as plain data."""
    user = update.effective_user
    if user is None:
        return None
    return Actor(user.id, user.full_name, client_language(update))


def is_private(update: Update) -> bool:
    """Whether the update came from a private chat."""
    return update.effective_chat is not None and update.effective_chat.type == ChatType.PRIVATE


async def call(fn: Callable[P, T], *args: P.args, **kwargs: P.kwargs) -> T:
    """Run a use case (one short transaction) in a worker thread: the loop never waits on it."""
    return await asyncio.to_thread(fn, *args, **kwargs)


_stopping_flushes: set[asyncio.Task[None]] = set()


async def _flush_soon(usecases: UseCases, after: float = FLUSH_AFTER) -> None:
    await asyncio.sleep(after)
    if usecases.flush_due():
        await call(usecases.flush_sent)


def log_sent(context: BotContext, records: list[SentRecord]) -> None:
    """Log what the bot sent about tasks, so replies find it: queued, then stored with the
    next write or within FLUSH_AFTER (one commit for many messages). An answer finished
    while the application stops is stored at once, on the loop itself: PTB no longer
    awaits tasks it is given then."""
    if not context.usecases.log_sent_later(records):
        return
    if context.application.running:
        context.application.create_task(_flush_soon(context.usecases))
        return
    task = asyncio.get_running_loop().create_task(_flush_soon(context.usecases, after=0.0))
    _stopping_flushes.add(task)
    task.add_done_callback(_stopping_flushes.discard)


def chat_ref(update: Update) -> ChatRef | None:
    """The chat the update came from, as the use cases take it."""
    chat = update.effective_chat
    return None if chat is None else ChatRef(chat.id, chat.type == ChatType.PRIVATE)


async def reply(update: Update, text: str, to: int | None = None,
                **kwargs: Any) -> Message | None:
    """Answer in the chat the update came from, or in chat ``to`` (see answer_chat), cut to
    Telegram's limit if it must be."""
    if to is not None:
        return await update.get_bot().send_message(to, render.fit(text), **kwargs)
    chat = update.effective_chat
    if chat is None:
        return None
    return await chat.send_message(render.fit(text), **kwargs)


async def answer_chat(update: Update, answer: Answer[Any]) -> int | None:
    """The chat an answer goes to, as the policy placed it: the chat asked in, the asker's
    private chat (the group is told "I answer you privately"), or none."""
    chat = update.effective_chat
    if chat is None or answer.place == Place.SILENT:
        return None
    if answer.place == Place.HERE:
        return chat.id
    await reply(update, texts.t("answered_privately", answer.member.language))
    return answer.member.telegram_id


@asynccontextmanager
async def answering(update: Update, context: BotContext) -> AsyncIterator[None]:
    """Turn expected failures into one clear answer: strangers get one polite sentence in a
    private chat (nothing in groups), a UserError its text in the member's language.

    A text over the length kept says so first (the handlers use only what is kept).
    """
    await _say_if_trimmed(update, context)
    try:
        yield
    except NotMember:
        if is_private(update):
            await reply(update, texts.t("stranger", client_language(update)))
    except UserError as exc:
        lang = exc.lang or client_language(update)
        await reply(update, render.message(exc.key, lang, **exc.params))


def kept_text(context: BotContext, text: str) -> str:
    """What the bot uses of a person's text: no control characters, and within the length
    kept, cut between words."""
    return render.cut_words(clean_text(text).strip(), context.deps.text_max)


def words(context: BotContext) -> list[str]:
    """A command's arguments, from the text kept (``kept_text``)."""
    return kept_text(context, " ".join(context.args or [])).split()


def rest_text(context: BotContext) -> str:
    """A command's words after the task number, from the text kept."""
    return " ".join(words(context)[1:])


async def _say_if_trimmed(update: Update, context: BotContext) -> None:
    """A member's text over the length kept: say so (strangers get only their sentence)."""
    message, actor = update.message, actor_of(update)  # a button's message is the bot's own
    limit = context.deps.text_max
    if not (message and message.text and len(message.text) > limit and actor is not None):
        return
    try:
        member = await call(context.usecases.whoami, actor)
    except NotMember:
        return
    await reply(update, texts.t("trimmed", member.language, max=limit))


def task_id_arg(context: BotContext, example: str) -> int:
    """The task number in a command's first argument ("17" or "#17")."""
    args = words(context)
    number = task_number(args[0]) if args else None
    if number is None:
        raise UserError("task_id_missing", example=example)
    return number
