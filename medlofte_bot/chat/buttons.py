"""Inline buttons. Callback data is never trusted: every press goes through the use cases."""

from __future__ import annotations

import logging
from datetime import datetime

from telegram import CallbackQuery, Update
from telegram.error import BadRequest

from medlofte_bot import texts
from medlofte_bot.chat.common import actor_of, answer_chat, answering, call, chat_ref, reply
from medlofte_bot.chat.context import BotContext
from medlofte_bot.chat.task_actions import answer_replanned, ask_cancel, ask_move, confirm
from medlofte_bot.domain.errors import UserError
from medlofte_bot.domain.parsing import task_number
from medlofte_bot.services.views import Actor

log = logging.getLogger(__name__)
# Telegram's 400 for a query it no longer takes: "query is too old and response timeout
# expired or query ID is invalid"
_EXPIRED = ("query is too old", "query id is invalid")


def _parse(data: str) -> tuple[str, int, str]:
    """'action:task[:rest]' from a button; a forged task number is refused like a typed one."""
    parts = data.split(":", 2)
    number = task_number(parts[1]) if len(parts) > 1 else None
    if number is None:
        raise UserError("task_id_missing", example="/mina")
    return parts[0], number, parts[2] if len(parts) > 2 else ""


def _instant(text: str) -> datetime:
    try:
        moment = datetime.fromisoformat(text)
    except ValueError as exc:
        raise UserError("move_unreadable", text=text) from exc
    if moment.tzinfo is None:
        raise UserError("move_unreadable", text=text)
    return moment


async def on_button(update: Update, context: BotContext) -> None:
    """✅ / 📅 / ✖️ / Jag deltar / Kan inte / Hoppa över / a suggested time."""
    query, actor = update.callback_query, actor_of(update)
    if query is None or actor is None:
        return
    try:  # the work first: its answer goes to the chat, so a late press loses nothing
        async with answering(update, context):
            try:
                action, task_id, rest = _parse(query.data or "")
            except UserError as exc:  # a stranger's forged press gets the stranger's sentence
                raise exc.with_lang((await call(context.usecases.whoami, actor)).language) \
                    from None
            await _act(update, context, actor, action, task_id, rest)
    finally:
        await _close(query)


async def _act(update: Update, context: BotContext, actor: Actor, action: str, task_id: int,
               rest: str) -> None:
    """Do what the button says and answer in the chat."""
    usecases = context.usecases
    if action == "d":
        await confirm(update, context, task_id, early_ok=rest == "nu")
    elif action == "m":
        await ask_move(update, context, task_id)
    elif action == "mv":
        answer = await call(usecases.move, actor, task_id, None, _instant(rest),
                            chat_ref(update))
        to = await answer_chat(update, answer)
        if to is not None:
            await answer_replanned(update, "moved", answer.value, answer.member.language, to)
    elif action == "c":
        await ask_cancel(update, context, task_id)
    elif action == "j":
        joins = rest == "1"
        view = await call(usecases.answer_invitation, actor, task_id, joins, chat_ref(update))
        lang = view.member.language
        to = await answer_chat(update, view)
        if to is not None:
            words = ("joined", "declined") if view.value.joint else ("coming", "not_coming")
            what = texts.kind(view.value.kind, lang, view.value.title).lower()
            await reply(update, texts.t(words[0] if joins else words[1], lang, what=what,
                                        when=texts.when(view.value.start, lang)), to=to)
    elif action == "pa":
        asked = await call(usecases.ask_partners_again, actor, task_id, chat_ref(update))
        to = await answer_chat(update, asked)
        if to is not None:
            await reply(update, texts.plural("asked_again", asked.value[1],
                                             asked.member.language, id=task_id), to=to)
    elif action == "po":
        done = await call(usecases.police_only, actor, task_id, chat_ref(update))
        to = await answer_chat(update, done)
        if to is not None:
            await reply(update, texts.t("police_only_set", done.member.language, id=task_id),
                        to=to)
    elif action == "s":
        skipped = await call(usecases.skip_follow_up, actor, task_id, chat_ref(update))
        to = await answer_chat(update, skipped)
        if to is not None:
            await reply(update, texts.t("follow_up.skipped", skipped.member.language), to=to)
    else:
        raise UserError("unknown_command")


async def _close(query: CallbackQuery) -> None:
    """Stop the client's spinner. Telegram refuses when the press is too old (or the query
    was answered already): the work is done and the chat has the answer, so that is fine."""
    try:
        await query.answer()
    except BadRequest as exc:
        if not any(words in exc.message.lower() for words in _EXPIRED):
            raise
        log.debug("callback query %s not answered: %s", query.id, exc.message)
