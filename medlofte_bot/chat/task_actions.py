"""Acting on a task from chat: confirm with a follow-up, move, cancel; each says what it did."""

from __future__ import annotations

from datetime import timedelta

from sqlalchemy.orm import Session
from telegram import Update
from telegram.ext import ContextTypes

from medlofte_bot import texts
from medlofte_bot.chat import render
from medlofte_bot.chat.common import as_member, reply, task_id_arg
from medlofte_bot.chat.context import Deps
from medlofte_bot.chat.followup import apply_follow_up
from medlofte_bot.chat.parsing import parse_when
from medlofte_bot.domain.errors import UserError
from medlofte_bot.services import tasks
from medlofte_bot.services.reminders import record_message
from medlofte_bot.storage import models as m


async def confirm(update: Update, session: Session, member: m.Member, d: Deps, task_id: int,
                  note: str = "") -> None:
    """Mark done, say so (or who did it first), then ask the fitting follow-up."""
    lang, now = member.language, d.clock.now()
    done = tasks.mark_done(session, member, task_id, now, note)
    if done.already:
        tz = done.task.start.tzinfo
        await reply(update, texts.t("already_done", lang, name=done.by,
                                    time=texts.clock(done.at.astimezone(tz), lang)))
        return
    followed = bool(note) and apply_follow_up(session, member, done.task, note, now)
    session.commit()  # say "recorded" only once it is
    recorded = texts.t("done", lang, id=task_id, name=member.display_name)
    if followed:
        await reply(update, recorded)
        return
    # one message: what was recorded, and the follow-up question that a reply answers
    question = texts.t(render.follow_up_key(done.task), lang)
    sent = await reply(update, f"{recorded}\n\n{question}",
                       reply_markup=render.skip_button(task_id, lang))
    if sent is not None:
        chat_id = update.effective_chat.id if update.effective_chat else None
        record_message(session, task_id, "prompt_follow_up", member.id, chat_id,
                       sent.message_id, now)


async def on_done(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    """/klar ID: mark a task done."""
    async def act(session: Session, member: m.Member, d: Deps) -> None:
        await confirm(update, session, member, d, task_id_arg(context, "/klar 17"),
                      " ".join((context.args or [])[1:]))

    await as_member(update, context, act)


async def do_move(update: Update, session: Session, member: m.Member, d: Deps, task_id: int,
                  when_text: str) -> None:
    """Move a task to a time given as text; say whether the target holds."""
    now = d.clock.now()
    row = tasks.get_visible(session, member, task_id)
    start = parse_when(when_text, now, tasks.task_tz(row))
    if start is None:
        raise UserError("move_unreadable", text=when_text)
    result = tasks.move(session, d.sets, member, task_id, start, now)
    session.commit()
    await reply(update, texts.t("moved", member.language, id=task_id,
                                when=texts.when(result.task.start, member.language)))
    await reply(update, target_text(result, member.language))


def target_text(result: tasks.Replanned, lang: str) -> str:
    if not result.target_holds:
        return texts.t("target_at_risk", lang, title=result.task.title, target=result.target,
                       reachable=result.reachable)
    key = "target_holds_added" if result.added else "target_holds"
    return texts.t(key, lang, title=result.task.title, target=result.target, added=result.added)


async def on_move(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    """/flytta ID NÄR: move a task."""
    async def act(session: Session, member: m.Member, d: Deps) -> None:
        task_id = task_id_arg(context, "/flytta 17 fre 22:00")
        when_text = " ".join((context.args or [])[1:])
        if not when_text:
            await ask_move(update, session, member, d, task_id)
            return
        await do_move(update, session, member, d, task_id, when_text)

    await as_member(update, context, act)


async def ask_move(update: Update, session: Session, member: m.Member, d: Deps,
                   task_id: int) -> None:
    """Offer the same time one and seven days later, or a typed time as a reply."""
    task = tasks.view(session, tasks.get_visible(session, member, task_id))
    lang = member.language
    options = [(texts.when(task.start + timedelta(days=n), lang),
                (task.start + timedelta(days=n)).isoformat()) for n in (1, 7)]
    sent = await reply(update, texts.t("move_prompt", lang, id=task_id),
                       reply_markup=render.move_choices(task_id, options))
    if sent is not None and update.effective_chat:
        record_message(session, task_id, "prompt_move", member.id, update.effective_chat.id,
                       sent.message_id, d.clock.now())


async def do_cancel(update: Update, session: Session, member: m.Member, d: Deps, task_id: int,
                    reason: str) -> None:
    """Cancel with a reason; say whether the target holds."""
    result = tasks.cancel(session, d.sets, member, task_id, reason, d.clock.now())
    session.commit()
    await reply(update, texts.t("cancelled", member.language, id=task_id, reason=reason))
    await reply(update, target_text(result, member.language))


async def ask_cancel(update: Update, session: Session, member: m.Member, d: Deps,
                     task_id: int) -> None:
    """Ask for the reason as a reply."""
    tasks.get_visible(session, member, task_id)
    sent = await reply(update, texts.t("cancel_prompt", member.language, id=task_id))
    if sent is not None and update.effective_chat:
        record_message(session, task_id, "prompt_cancel", member.id, update.effective_chat.id,
                       sent.message_id, d.clock.now())


async def on_cancel(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    """/stallin ID SKÄL: cancel a task."""
    async def act(session: Session, member: m.Member, d: Deps) -> None:
        task_id = task_id_arg(context, "/stallin 17 sjukdom")
        reason = " ".join((context.args or [])[1:]).strip()
        if not reason:
            await ask_cancel(update, session, member, d, task_id)
            return
        await do_cancel(update, session, member, d, task_id, reason)

    await as_member(update, context, act)
