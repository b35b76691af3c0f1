"""Telegram handlers: parse, call a service, render, send. Access control is in the services."""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable
from datetime import timedelta
from zoneinfo import ZoneInfo

from sqlalchemy.orm import Session
from telegram import Message, Update
from telegram.constants import ChatType
from telegram.ext import ContextTypes

from medlofte_bot import texts
from medlofte_bot.chat import render
from medlofte_bot.chat.context import Deps, deps
from medlofte_bot.chat.delivery import Pacer, send_chart, send_summary
from medlofte_bot.chat.followup import apply_follow_up, on_follow_up_reply
from medlofte_bot.chat.parsing import done_note, parse_when
from medlofte_bot.domain.errors import UserError
from medlofte_bot.services import members, tasks
from medlofte_bot.services.reminders import record_message, replied_task
from medlofte_bot.services.status import promise_status
from medlofte_bot.storage import models as m

log = logging.getLogger(__name__)
ROLE_WORDS = {"polis": "officer", "officer": "officer", "partner": "partner", "chef": "chief",
              "chief": "chief", "samordnare": "coordinator", "coordinator": "coordinator"}
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


async def _as_member(update: Update, context: ContextTypes.DEFAULT_TYPE, action: Action) -> None:
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


def _task_id(context: ContextTypes.DEFAULT_TYPE, example: str) -> int:
    args = context.args or []
    if not args or not args[0].lstrip("#").isdigit():
        raise UserError("task_id_missing", example=example)
    return int(args[0].lstrip("#"))


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

    async def greet(session: Session, member: m.Member, d: Deps) -> None:
        await reply(update, texts.t("help", member.language))

    await _as_member(update, context, greet)


async def on_help(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    """/hjalp: the commands."""
    async def show(session: Session, member: m.Member, d: Deps) -> None:
        await reply(update, texts.t("help", member.language))

    await _as_member(update, context, show)


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

    await _as_member(update, context, show)


async def on_plan(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    """/plan: the next 14 days that I may see."""
    async def show(session: Session, member: m.Member, d: Deps) -> None:
        now = d.clock.now()
        found = tasks.visible_tasks(session, member, now, now + timedelta(days=14))
        await reply(update, render.task_list("plan_title", found, member.language, 14))

    await _as_member(update, context, show)


async def on_status(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    """/status: each promise, done against target, and the pace."""
    async def show(session: Session, member: m.Member, d: Deps) -> None:
        rows = promise_status(session, d.sets, member, d.clock.now())
        await reply(update, render.status_text(rows, member.language))

    await _as_member(update, context, show)


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
    await reply(update, texts.t("done", lang, id=task_id, name=member.display_name))
    if followed:
        return
    key = render.follow_up_key(done.task)
    sent = await reply(update, texts.t(key, lang), reply_markup=render.skip_button(task_id, lang))
    if sent is not None:
        chat_id = update.effective_chat.id if update.effective_chat else None
        record_message(session, task_id, "prompt_follow_up", member.id, chat_id,
                       sent.message_id, now)


async def on_done(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    """/klar ID: mark a task done."""
    async def act(session: Session, member: m.Member, d: Deps) -> None:
        await confirm(update, session, member, d, _task_id(context, "/klar 17"),
                      " ".join((context.args or [])[1:]))

    await _as_member(update, context, act)


def _tz(session: Session, task_id: int) -> ZoneInfo:
    row = session.get(m.Task, task_id)
    muni = session.get(m.Municipality, row.promise.municipality_id) if row else None
    return ZoneInfo(muni.timezone if muni else "Europe/Stockholm")


async def do_move(update: Update, session: Session, member: m.Member, d: Deps, task_id: int,
                  when_text: str) -> None:
    """Move a task to a time given as text; say whether the target holds."""
    now = d.clock.now()
    tasks.get_visible(session, member, task_id)
    start = parse_when(when_text, now, _tz(session, task_id))
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
        task_id = _task_id(context, "/flytta 17 fre 22:00")
        when_text = " ".join((context.args or [])[1:])
        if not when_text:
            await ask_move(update, session, member, d, task_id)
            return
        await do_move(update, session, member, d, task_id, when_text)

    await _as_member(update, context, act)


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
        task_id = _task_id(context, "/stallin 17 sjukdom")
        reason = " ".join((context.args or [])[1:]).strip()
        if not reason:
            await ask_cancel(update, session, member, d, task_id)
            return
        await do_cancel(update, session, member, d, task_id, reason)

    await _as_member(update, context, act)


async def on_language(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    """/sprak sv|en."""
    async def act(session: Session, member: m.Member, d: Deps) -> None:
        choice = (context.args or [""])[0].lower()
        if choice not in texts.LANGUAGES:
            raise UserError("language_usage")
        members.set_language(session, member, choice)
        await reply(update, texts.t("language_set", choice))

    await _as_member(update, context, act)


async def on_invite(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    """/bjud ROLL [lag]: a coordinator creates a single-use invite link."""
    async def act(session: Session, member: m.Member, d: Deps) -> None:
        args = context.args or []
        if not args:
            raise UserError("invite_usage")
        role = ROLE_WORDS.get(args[0].lower(), args[0].lower())
        team = args[1] if len(args) > 1 and role == "officer" else None
        partner_role = args[1] if len(args) > 1 and role == "partner" else None
        invite = members.create_invite(session, role, d.clock.now(), team=team,
                                       partner_role=partner_role, by=member)
        session.commit()
        link = f"https://t.me/{context.bot.username}?start={invite.code}"
        lang = member.language
        await reply(update, texts.t("invite_created", lang, role=texts.t(f"role.{role}", lang),
                                    team=f" ({team or partner_role})" if team or partner_role
                                    else "", link=link))

    await _as_member(update, context, act)


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

    await _as_member(update, context, act)


async def on_report(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    """/rapport: the chief's summary on demand."""
    async def act(session: Session, member: m.Member, d: Deps) -> None:
        if member.role not in ("chief", "coordinator"):
            raise UserError("not_chief")
        if update.effective_chat is not None:
            chat_id = update.effective_chat.id
            await send_summary(context.bot, d, session, member, chat_id)
            await send_chart(context.bot, d, Pacer(private_gap=0.0), session, member, chat_id)

    await _as_member(update, context, act)


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
        elif kind == "prompt_follow_up" and note is None:
            await on_follow_up_reply(update, session, member, d, task_id, trimmed)
        elif note is not None:
            await confirm(update, session, member, d, task_id, note)
        else:
            await reply(update, texts.t("help", member.language))

    await _as_member(update, context, act)


async def _private_answer(update: Update, context: ContextTypes.DEFAULT_TYPE, key: str) -> None:
    """One short answer in a private chat; silence in groups (chatter not meant for the bot)."""
    if update.effective_chat and update.effective_chat.type != ChatType.PRIVATE:
        return

    async def act(session: Session, member: m.Member, d: Deps) -> None:
        await reply(update, texts.t(key, member.language))

    await _as_member(update, context, act)


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
