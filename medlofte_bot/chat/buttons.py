"""Inline buttons. Callback data is never trusted: every press goes through the use cases."""

from __future__ import annotations

from datetime import datetime

from telegram import Update

from medlofte_bot import texts
from medlofte_bot.chat.common import actor_of, answer_chat, answering, call, chat_ref, reply
from medlofte_bot.chat.context import BotContext
from medlofte_bot.chat.task_actions import answer_replanned, ask_cancel, ask_move, confirm
from medlofte_bot.domain.errors import UserError


def _parse(data: str) -> tuple[str, int, str]:
    parts = data.split(":", 2)
    if len(parts) < 2 or not parts[1].isdigit():
        raise UserError("task_id_missing", example="/mina")
    return parts[0], int(parts[1]), parts[2] if len(parts) > 2 else ""


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
    await query.answer()
    async with answering(update, context):
        try:
            action, task_id, rest = _parse(query.data or "")
        except UserError as exc:  # a stranger's forged press gets the stranger's sentence
            raise exc.with_lang((await call(context.usecases.whoami, actor)).language) from None
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
            view = await call(usecases.answer_invitation, actor, task_id, joins,
                              chat_ref(update))
            lang = view.member.language
            to = await answer_chat(update, view)
            if to is not None:
                await reply(update, texts.t("joined" if joins else "declined", lang,
                                            what=texts.kind(view.value.kind, lang).lower(),
                                            when=texts.when(view.value.start, lang)), to=to)
        elif action == "s":
            skipped = await call(usecases.skip_follow_up, actor, task_id, chat_ref(update))
            to = await answer_chat(update, skipped)
            if to is not None:
                await reply(update, texts.t("follow_up.skipped", skipped.member.language), to=to)
        else:
            raise UserError("unknown_command")
