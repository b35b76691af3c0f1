"""What every handler shares: the member behind an update, replies, the task id argument."""

from __future__ import annotations

from collections.abc import Awaitable, Callable

from sqlalchemy.orm import Session
from telegram import Message, Update
from telegram.constants import ChatType
from telegram.ext import ContextTypes

from medlofte_bot import texts
from medlofte_bot.chat.context import Deps, deps
from medlofte_bot.domain.errors import UserError
from medlofte_bot.services import members
from medlofte_bot.storage import models as m

Action = Callable[[Session, m.Member, Deps], Awaitable[None]]


def lang_of(member: m.Member | None, update: Update) -> str:
    """The member's language, else the Telegram client's when it is English, else Swedish."""
    if member is not None:
        return member.language
    user = update.effective_user
    return "en" if user and (user.language_code or "").startswith("en") else "sv"


async def reply(update: Update, text: str, **kwargs: object) -> Message | None:
    """Answer in the chat the update came from."""
    chat = update.effective_chat
    if chat is None:
        return None
    return await chat.send_message(text, **kwargs)  # type: ignore[arg-type]


async def as_member(update: Update, context: ContextTypes.DEFAULT_TYPE, action: Action) -> None:
    """Run ``action`` for a known member in one transaction; strangers get one sentence."""
    d = deps(context)
    user = update.effective_user
    if user is None:
        return
    with d.sessions() as session:
        member = members.by_telegram_id(session, user.id)
        if member is None and user.id in d.admin_ids:
            member = members.ensure_coordinator(session, user.id, user.full_name, d.clock.now())
            session.commit()
        if member is None:
            if update.effective_chat and update.effective_chat.type == ChatType.PRIVATE:
                await reply(update, texts.t("stranger", lang_of(None, update)))
            return
        text = update.effective_message.text if update.effective_message else None
        if text and len(text) > d.text_max:
            await reply(update, texts.t("trimmed", member.language, max=d.text_max))
        try:
            await action(session, member, d)
            session.commit()
        except UserError as exc:
            session.rollback()
            await reply(update, texts.t(exc.key, member.language, **exc.params))


def task_id_arg(context: ContextTypes.DEFAULT_TYPE, example: str) -> int:
    args = context.args or []
    if not args or not args[0].lstrip("#").isdigit():
        raise UserError("task_id_missing", example=example)
    return int(args[0].lstrip("#"))
