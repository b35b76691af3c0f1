"""Inline buttons. Callback data is never trusted: every press goes through the services."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy.orm import Session
from telegram import Update
from telegram.ext import ContextTypes

from medlofte_bot import texts
from medlofte_bot.chat.common import as_member, reply
from medlofte_bot.chat.context import Deps
from medlofte_bot.chat.task_actions import ask_cancel, ask_move, confirm, target_text
from medlofte_bot.domain.errors import UserError
from medlofte_bot.services import tasks
from medlofte_bot.storage import models as m


def _parse(data: str) -> tuple[str, int, str]:
    parts = data.split(":", 2)
    if len(parts) < 2 or not parts[1].isdigit():
        raise UserError("task_id_missing", example="/mina")
    return parts[0], int(parts[1]), parts[2] if len(parts) > 2 else ""


async def on_button(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    """✅ / 📅 / ✖️ / Jag deltar / Kan inte / Hoppa över / a suggested time."""
    query = update.callback_query
    if query is None:
        return
    await query.answer()

    async def act(session: Session, member: m.Member, d: Deps) -> None:
        action, task_id, rest = _parse(query.data or "")
        lang, now = member.language, d.clock.now()
        if action == "d":
            await confirm(update, session, member, d, task_id)
        elif action == "m":
            await ask_move(update, session, member, d, task_id)
        elif action == "mv":
            result = tasks.move(session, d.sets, member, task_id, datetime.fromisoformat(rest),
                                now)
            session.commit()
            await reply(update, texts.t("moved", lang, id=task_id,
                                        when=texts.when(result.task.start, lang)))
            await reply(update, target_text(result, lang))
        elif action == "c":
            await ask_cancel(update, session, member, d, task_id)
        elif action == "j":
            joins = rest == "1"
            view = tasks.answer_invitation(session, member, task_id, joins, now)
            session.commit()
            await reply(update, texts.t("joined" if joins else "declined", lang,
                                        what=texts.kind(view.kind, lang).lower(),
                                        when=texts.when(view.start, lang)))
        elif action == "s":
            tasks.get_visible(session, member, task_id)
            await reply(update, texts.t("follow_up.skipped", lang))
        else:
            raise UserError("unknown_command")

    await as_member(update, context, act)
