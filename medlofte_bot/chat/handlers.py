"""Telegram handlers: parse, call a use case (off the loop), render, send. No SQL here."""

from __future__ import annotations

import logging
from collections.abc import Callable
from typing import TypeVar

from telegram import Update
from telegram.error import TelegramError

from medlofte_bot import texts
from medlofte_bot.chat import render
from medlofte_bot.chat.common import (
    actor_of,
    answer_chat,
    answering,
    call,
    chat_ref,
    client_language,
    is_private,
    kept_text,
    log_sent,
    reply,
    words,
)
from medlofte_bot.chat.context import BotContext
from medlofte_bot.chat.sender import send_chart, send_report_document
from medlofte_bot.chat.task_actions import answer_replanned, ask_cancel_prompt, confirmed
from medlofte_bot.domain.errors import UserError
from medlofte_bot.domain.invites import ROLE_WORDS
from medlofte_bot.domain.parsing import done_note
from medlofte_bot.domain.states import MessageKind
from medlofte_bot.services.report import YearReport
from medlofte_bot.services.usecases import MINE_DAYS, PLAN_DAYS
from medlofte_bot.services.views import Actor, Answer, ChatRef, SentRecord

T = TypeVar("T")

log = logging.getLogger(__name__)


async def on_start(update: Update, context: BotContext) -> None:
    """/start [code]: register with an invite, or show the help."""
    actor = actor_of(update)
    if actor is None:
        return
    args = words(context)
    if not args:
        await on_help(update, context)  # a member's plain /start shows the commands
        return
    async with answering(update, context):
        member = await call(context.usecases.join, actor, args[0])
        lang = member.language
        await reply(update, texts.t(
            "welcome", lang, name=member.name, role=texts.t(f"role.{member.role}", lang),
            team=texts.t("welcome_team", lang, team=member.team) if member.team
            else texts.t("welcome_partner", lang, partner=member.partner) if member.partner
            else ""))


async def _show(update: Update, context: BotContext,
                usecase: Callable[[Actor, ChatRef | None], Answer[T]],
                render_value: Callable[[T, str], str]) -> None:
    """Run a read-only use case for the sender and reply with its rendering where the policy
    placed it (in a group: maybe in private); a long one in several messages, whole."""
    actor = actor_of(update)
    if actor is None:
        return
    async with answering(update, context):
        answer = await call(usecase, actor, chat_ref(update))
        to = await answer_chat(update, answer)
        if to is not None:
            text = render_value(answer.value, answer.member.language)
            for part in render.split(text):
                await reply(update, part, to=to)


async def on_help(update: Update, context: BotContext) -> None:
    """/hjalp: the commands."""
    await _show(update, context, lambda actor, _chat: context.usecases.whoami_answer(actor),
                lambda member, lang: texts.t(f"help.{member.role}", lang))


async def on_mine(update: Update, context: BotContext) -> None:
    """/mina: my next tasks, each with its buttons."""
    actor = actor_of(update)
    if actor is None or update.effective_chat is None:
        return
    async with answering(update, context):
        answer = await call(context.usecases.my_tasks, actor, chat_ref(update))
        lang, member = answer.member.language, answer.member
        to = await answer_chat(update, answer)
        if to is None:
            return
        if not answer.value:
            await reply(update, texts.t("no_tasks", lang, days=MINE_DAYS), to=to)
            return
        await reply(update, texts.t("mine_title", lang), to=to)
        sent: list[SentRecord] = []
        place = render.several_places(answer.value)
        for task in render.in_order(answer.value):
            markup = render.task_buttons(task.id, lang) if member.police \
                else render.join_buttons(task.id, lang)
            message = await reply(update, render.task_line(task, lang, place), to=to,
                                  reply_markup=markup)
            if message is not None:
                sent.append(SentRecord(to, message.message_id, MessageKind.CARD, task.id,
                                       member.id))
        log_sent(context, sent)


async def on_plan(update: Update, context: BotContext) -> None:
    """/plan: the next 14 days that I may see."""
    await _show(update, context, context.usecases.plan,
                lambda tasks, lang: render.task_list("plan_title", tasks, lang, PLAN_DAYS))


async def on_status(update: Update, context: BotContext) -> None:
    """/status: each promise, done against target, and the pace."""
    await _show(update, context, context.usecases.status, render.status_answer)


async def on_language(update: Update, context: BotContext) -> None:
    """/sprak sv|en."""
    actor = actor_of(update)
    if actor is None:
        return
    async with answering(update, context):
        choice = (words(context) or [""])[0].lower()
        if choice not in texts.LANGUAGES:
            member = await call(context.usecases.whoami, actor)
            raise UserError("language_usage").with_lang(member.language)
        await call(context.usecases.set_language, actor, choice)
        await reply(update, texts.t("language_set", choice))


async def on_invite(update: Update, context: BotContext) -> None:
    """/bjud ROLL [lag|partnerroll] [kommun]: a coordinator creates a single-use invite link."""
    actor = actor_of(update)
    if actor is None:
        return
    async with answering(update, context):
        args = words(context)
        if not args:
            member = await call(context.usecases.whoami, actor)
            raise UserError("invite_usage").with_lang(member.language)
        role = ROLE_WORDS.get(args[0].lower(), args[0].lower())
        rest = args[1:]
        team = rest.pop(0) if rest and role == "officer" else None
        partner_role = rest.pop(0) if rest and role == "partner" else None
        municipality = rest.pop(0) if rest else None
        answer = await call(context.usecases.invite, actor, role, team, partner_role,
                            municipality, chat_ref(update))
        invited, lang = answer.value, answer.member.language
        link = f"https://t.me/{context.bot.username}?start={invited.code}"
        to = await answer_chat(update, answer)  # a link in a group is anyone's: private
        if to is not None:
            await reply(update, texts.t(
                "invite_created", lang, role=texts.t(f"role.{invited.role}", lang),
                team=f" ({invited.detail})" if invited.detail else "", link=link), to=to)


async def on_group(update: Update, context: BotContext) -> None:
    """/grupp LAG in a group chat: the team's reminders go to this group."""
    actor, chat = actor_of(update), update.effective_chat
    if actor is None:
        return
    async with answering(update, context):
        args = words(context)
        group = None if chat is None or is_private(update) or not args else chat.id
        team_key = args[0] if args else None
        answer = await call(context.usecases.set_group, actor, team_key, group)
        await reply(update, texts.t("group_set", answer.member.language, team=answer.value))


async def on_report(update: Update, context: BotContext) -> None:
    """/rapport: the chief's summary on demand, then its chart."""
    actor, chat = actor_of(update), update.effective_chat
    if actor is None or chat is None:
        return
    async with answering(update, context):
        answer = await call(context.usecases.summary, actor, chat_ref(update))
        lang = answer.member.language
        to = await answer_chat(update, answer)
        if to is not None:
            for part in render.split(render.summary_text(answer.value, lang)):
                await reply(update, part, to=to)
            await send_chart(context.bot, to, answer.value, lang, bulk=False)


async def on_comment(update: Update, context: BotContext) -> None:
    """/kommentar LÖFTE TEXT: the chief's or a coordinator's comment for the year report."""
    actor = actor_of(update)
    if actor is None:
        return
    async with answering(update, context):
        args = words(context)
        promise, text = (args[0], " ".join(args[1:])) if args else ("", "")
        answer = await call(context.usecases.comment, actor, promise, text, chat_ref(update))
        done, lang = answer.value, answer.member.language
        to = await answer_chat(update, answer)
        if to is not None:
            await reply(update, texts.t("comment.replaced" if done.replaced else "comment.saved",
                                        lang, title=done.title, municipality=done.municipality,
                                        year=done.year), to=to)


async def on_year_report(update: Update, context: BotContext) -> None:
    """/arsrapport [ÅR]: the year report of my area as a PDF document (policy decides who)."""
    actor = actor_of(update)
    if actor is None:
        return
    async with answering(update, context):
        args = words(context)
        year = int(args[0]) if args and args[0].isdigit() and len(args[0]) == 4 else None
        if args and year is None:
            member = await call(context.usecases.whoami, actor)
            raise UserError("year_report.usage").with_lang(member.language)
        answer = await call(context.usecases.year_reports, actor, year, chat_ref(update))
        found, lang = answer.value, answer.member.language
        to = await answer_chat(update, answer)
        if to is None:
            return
        await reply(update, texts.t("year_report.making", lang, year=found.year), to=to)
        data = await call(_report_pdf, found.reports, lang, found.public)
        municipalities = ", ".join(r.municipality for r in found.reports)
        caption = texts.t("year_report.caption_public" if found.public else
                          "year_report.caption", lang, year=found.year,
                          municipalities=municipalities)
        name = texts.t("year_report.file_public" if found.public else "year_report.file",
                       lang, year=found.year)
        if not await send_report_document(context.bot, to, data, name, caption):
            await reply(update, texts.t("year_report.failed", lang), to=to)
        elif found.sealed:  # the internal version is on the web only
            await reply(update, render.internal_report_note(found.page, lang), to=to)


def _report_pdf(reports: tuple[YearReport, ...], lang: str, public: bool) -> bytes:
    """The PDF, made in a worker thread (matplotlib and fpdf2 take about a second)."""
    from medlofte_bot.views.report_pdf import report_pdf  # loaded on the first report

    return report_pdf(reports, lang, public)


async def on_text(update: Update, context: BotContext) -> None:
    """Replies to the bot's messages: "klar …", a time for a move, a reason, a follow-up."""
    message, actor = update.effective_message, actor_of(update)
    if message is None or message.text is None or actor is None:
        return
    target = message.reply_to_message
    if target is None or target.from_user is None or target.from_user.id != context.bot.id:
        if is_private(update):
            note = done_note(kept_text(context, message.text))
            if note is None:
                await on_unknown_command(update, context)
            else:
                await _done_now(update, context, actor, note)
        return
    text = kept_text(context, message.text)
    async with answering(update, context):
        answer = await call(context.usecases.reply, actor,
                            ChatRef(message.chat_id, is_private(update)), target.message_id,
                            text)
        result, lang = answer.value, answer.member.language
        if result.action == "help":  # not a reply about a task: the help, in private only
            if is_private(update):
                await reply(update, texts.t(f"help.{answer.member.role}", lang))
            return
        to = await answer_chat(update, answer)
        if to is None:
            return
        if result.action == "confirmed" and result.confirmation is not None:
            await confirmed(update, context, answer.member, result.confirmation, to)
        elif result.action in ("moved", "cancelled") and result.replanned is not None:
            await answer_replanned(update, result.action, result.replanned, lang, to,
                                   result.reason)
        elif result.action == "ask_cancel_reason" and result.task is not None:
            await ask_cancel_prompt(update, context, answer.member, result.task.id, to)
        elif result.action.startswith("follow_up_") and result.task is not None:
            hint = render.follow_up_question(result.task, lang)
            await reply(update, texts.t(f"follow_up.{result.action[10:]}", lang, hint=hint),
                        to=to)


async def _done_now(update: Update, context: BotContext, actor: Actor, note: str) -> None:
    """A plain "klar" in private: the one task it means is confirmed, or the choices shown."""
    async with answering(update, context):
        answer = await call(context.usecases.done_now, actor, note)
        lang, found = answer.member.language, answer.value
        if found.confirmation is not None:
            await confirmed(update, context, answer.member, found.confirmation,
                            answer.member.telegram_id)
        elif found.candidates:
            await reply(update, texts.t("done_which", lang),
                        reply_markup=render.choose_done(found.candidates, lang))
        else:
            await reply(update, texts.t("done_none", lang))


async def _private_answer(update: Update, context: BotContext, key: str) -> None:
    """One short answer in a private chat; silence in groups (chatter not meant for the bot)."""
    actor = actor_of(update)
    if actor is None or not is_private(update):
        return
    async with answering(update, context):
        member = await call(context.usecases.whoami, actor)
        await reply(update, texts.t(key, member.language))


async def on_unknown_command(update: Update, context: BotContext) -> None:
    """An unknown command: a short pointer to /hjalp."""
    await _private_answer(update, context, "unknown_command")


async def on_media(update: Update, context: BotContext) -> None:
    """Stickers, photos, forwards: one short answer in private chats, silence in groups."""
    await _private_answer(update, context, "ignored_media")


async def on_edited(update: Update, context: BotContext) -> None:
    """An edited message: never run again; one short answer in private chats."""
    await _private_answer(update, context, "edited")


async def tell_flooding(update: Update) -> None:
    """The one answer to a person who sends too much (private chats only): they are paused."""
    if not is_private(update):
        return
    try:
        await reply(update, texts.t("flooding", client_language(update)))
    except TelegramError:  # their chat may be the problem; they are paused all the same
        log.warning("could not tell a flooding person about the pause")


async def on_error(update: object, context: BotContext) -> None:
    """Log with context; the user gets a calm sentence, never a stack trace."""
    # The sentence never says that nothing changed: the failure may have come after a commit
    # (an answer Telegram refused), so it points to where the person can look.
    log.error("update %s failed", getattr(update, "update_id", "?"), exc_info=context.error)
    if isinstance(update, Update) and update.effective_chat is not None:
        try:
            await update.effective_chat.send_message(
                texts.t("error_generic", client_language(update)))
        except Exception:  # the chat may be the problem; the log already has the error
            log.warning("could not tell the user about the failed update")
