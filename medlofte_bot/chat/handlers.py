"""Telegram handlers: parse, call a service, render, send. Access control is in the services."""

from __future__ import annotations

import logging
from datetime import timedelta

from sqlalchemy.orm import Session
from telegram import Update
from telegram.constants import ChatType
from telegram.ext import ContextTypes

from medlofte_bot import texts
from medlofte_bot.chat import render
from medlofte_bot.chat.common import as_member, lang_of, reply
from medlofte_bot.chat.context import Deps, deps
from medlofte_bot.chat.delivery import Pacer, send_chart, send_summary
from medlofte_bot.chat.followup import on_follow_up_reply
from medlofte_bot.chat.parsing import done_note
from medlofte_bot.chat.task_actions import confirm, do_cancel, do_move
from medlofte_bot.domain.errors import UserError
from medlofte_bot.services import members, tasks
from medlofte_bot.services.reminders import record_message, replied_task
from medlofte_bot.services.status import promise_status
from medlofte_bot.storage import models as m

log = logging.getLogger(__name__)
ROLE_WORDS = {"polis": "officer", "officer": "officer", "partner": "partner", "chef": "chief",
              "chief": "chief", "samordnare": "coordinator", "coordinator": "coordinator"}


async def on_start(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    """/start [code]: register with an invite, or greet."""
    d, user = deps(context), update.effective_user
    if user is None:
        return
    code = context.args[0] if context.args else None
    if code:
        with d.sessions() as session:
            try:
                member = members.redeem(session, code, user.id, user.full_name,
                                        lang_of(None, update), d.clock.now())
                session.commit()
            except UserError as exc:
                session.rollback()
                await reply(update, texts.t(exc.key, lang_of(None, update), **exc.params))
                return
            team = session.get(m.Team, member.team_id) if member.team_id else None
            lang = member.language
            await reply(update, texts.t(
                "welcome", lang, name=member.display_name,
                role=texts.t(f"role.{member.role}", lang),
                team=texts.t("welcome_team", lang, team=team.name) if team else ""))
        return
    await on_help(update, context)  # a member's plain /start shows the commands


async def on_help(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    """/hjalp: the commands."""
    async def show(session: Session, member: m.Member, d: Deps) -> None:
        await reply(update, texts.t("help", member.language))

    await as_member(update, context, show)


async def on_mine(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    """/mina: my next tasks, each with its buttons."""
    async def show(session: Session, member: m.Member, d: Deps) -> None:
        now, lang = d.clock.now(), member.language
        found = tasks.visible_tasks(session, member, now - timedelta(hours=12),
                                    now + timedelta(days=30), mine_only=True)
        found = [t for t in found if t.status == "pending"][:5]
        if not found:
            await reply(update, texts.t("no_tasks", lang, days=30))
            return
        await reply(update, texts.t("mine_title", lang))
        for task in found:
            markup = render.join_buttons(task.id, lang) if member.role == "partner" \
                else render.task_buttons(task.id, lang)
            sent = await reply(update, render.task_line(task, lang), reply_markup=markup)
            if sent is not None:
                record_message(session, task.id, "card", member.id, None, sent.message_id, now)

    await as_member(update, context, show)


async def on_plan(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    """/plan: the next 14 days that I may see."""
    async def show(session: Session, member: m.Member, d: Deps) -> None:
        now = d.clock.now()
        found = tasks.visible_tasks(session, member, now, now + timedelta(days=14))
        await reply(update, render.task_list("plan_title", found, member.language, 14))

    await as_member(update, context, show)


async def on_status(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    """/status: each promise, done against target, and the pace."""
    async def show(session: Session, member: m.Member, d: Deps) -> None:
        rows = promise_status(session, d.sets, member, d.clock.now())
        await reply(update, render.status_text(rows, member.language))

    await as_member(update, context, show)


async def on_language(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    """/sprak sv|en."""
    async def act(session: Session, member: m.Member, d: Deps) -> None:
        choice = (context.args or [""])[0].lower()
        if choice not in texts.LANGUAGES:
            raise UserError("language_usage")
        members.set_language(session, member, choice)
        await reply(update, texts.t("language_set", choice))

    await as_member(update, context, act)


async def on_invite(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    """/bjud ROLL [lag]: a coordinator creates a single-use invite link."""
    async def act(session: Session, member: m.Member, d: Deps) -> None:
        args = context.args or []
        if not args:
            raise UserError("invite_usage")
        role = ROLE_WORDS.get(args[0].lower(), args[0].lower())
        rest = args[1:]
        team = rest.pop(0) if rest and role == "officer" else None
        partner_role = rest.pop(0) if rest and role == "partner" else None
        municipality = rest.pop(0) if rest else None
        invite = members.create_invite(session, role, d.clock.now(), team=team,
                                       municipality=municipality,
                                       partner_role=partner_role, by=member)
        session.commit()
        link = f"https://t.me/{context.bot.username}?start={invite.code}"
        lang = member.language
        await reply(update, texts.t("invite_created", lang, role=texts.t(f"role.{role}", lang),
                                    team=f" ({team or partner_role})" if team or partner_role
                                    else "", link=link))

    await as_member(update, context, act)


async def on_group(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    """/grupp LAG in a group chat: the team's reminders go to this group."""
    async def act(session: Session, member: m.Member, d: Deps) -> None:
        chat = update.effective_chat
        if chat is None or chat.type == ChatType.PRIVATE or not context.args:
            teams = ", ".join(t.id for ps in d.sets.values() for t in ps.teams)
            raise UserError("group_usage", teams=teams or "-")
        team = members.set_team_group(session, member, context.args[0], chat.id, d.clock.now())
        session.commit()
        await reply(update, texts.t("group_set", member.language, team=team.name))

    await as_member(update, context, act)


async def on_report(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    """/rapport: the chief's summary on demand."""
    async def act(session: Session, member: m.Member, d: Deps) -> None:
        if member.role not in ("chief", "coordinator"):
            raise UserError("not_chief")
        if update.effective_chat is not None:
            chat_id, pacer = update.effective_chat.id, Pacer()
            await pacer.wait(chat_id)  # books the text's slot: the chart keeps a second apart
            _, summary = await send_summary(context.bot, d, session, member, chat_id)
            await send_chart(context.bot, d, pacer, member, chat_id, summary)

    await as_member(update, context, act)


async def on_text(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    """Replies to the bot's messages: "klar …", a time for a move, a reason, a follow-up."""
    message = update.effective_message
    if message is None or message.text is None:
        return
    target = message.reply_to_message
    if target is None or target.from_user is None or target.from_user.id != context.bot.id:
        if update.effective_chat and update.effective_chat.type == ChatType.PRIVATE:
            await on_unknown_command(update, context)
        return
    text = message.text

    async def act(session: Session, member: m.Member, d: Deps) -> None:
        found = replied_task(session, message.chat_id, target.message_id)
        if found is None:
            await reply(update, texts.t("help", member.language))
            return
        task_id, kind = found
        trimmed = text[: d.text_max]
        note = done_note(trimmed)
        if kind == "prompt_cancel":
            await do_cancel(update, session, member, d, task_id, trimmed.strip())
        elif kind == "prompt_move":
            await do_move(update, session, member, d, task_id, trimmed)
        elif kind == "prompt_follow_up" and note == "":
            await reply(update, texts.t("follow_up.skipped", member.language))
        elif kind == "prompt_follow_up":
            # the answer itself ("Genomfört enligt plan…"), even when it starts with a done-word
            await on_follow_up_reply(update, session, member, d, task_id, trimmed)
        elif note is not None:
            await confirm(update, session, member, d, task_id, note)
        else:
            await reply(update, texts.t("help", member.language))

    await as_member(update, context, act)


async def _private_answer(update: Update, context: ContextTypes.DEFAULT_TYPE, key: str) -> None:
    """One short answer in a private chat; silence in groups (chatter not meant for the bot)."""
    if update.effective_chat and update.effective_chat.type != ChatType.PRIVATE:
        return

    async def act(session: Session, member: m.Member, d: Deps) -> None:
        await reply(update, texts.t(key, member.language))

    await as_member(update, context, act)


async def on_unknown_command(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    """An unknown command: a short pointer to /hjalp."""
    await _private_answer(update, context, "unknown_command")


async def on_media(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    """Stickers, photos, forwards: one short answer in private chats, silence in groups."""
    await _private_answer(update, context, "ignored_media")


async def on_error(update: object, context: ContextTypes.DEFAULT_TYPE) -> None:
    """Log with context; the user gets a calm sentence, never a stack trace."""
    log.error("update %s failed", getattr(update, "update_id", "?"), exc_info=context.error)
    if isinstance(update, Update) and update.effective_chat is not None:
        try:
            await update.effective_chat.send_message(texts.t("error_generic", lang_of(None,
                                                                                        update)))
        except Exception:  # the chat may be the problem; the log already has the error
            log.warning("could not tell the user about the failed update")
