"""Acting on a task from chat: confirm with a follow-up, move, cancel; each says what it did.

Every answer about a task goes where the policy placed it (``to``): the chat asked in, or,
from a group that is not the task's team group, the asker's private chat.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable

from telegram import Update

from medlofte_bot import texts
from medlofte_bot.chat import render
from medlofte_bot.chat.common import (
    actor_of,
    answer_chat,
    answering,
    call,
    chat_ref,
    log_sent,
    reply,
    rest_text,
    task_id_arg,
)
from medlofte_bot.chat.context import BotContext
from medlofte_bot.domain.states import MessageKind
from medlofte_bot.services.tasks import Replanned
from medlofte_bot.services.usecases import Confirmation
from medlofte_bot.services.views import MemberView, SentRecord


async def confirmed(update: Update, context: BotContext, member: MemberView,
                    confirmation: Confirmation, to: int) -> None:
    """Say what was recorded (or who did it first), then ask the fitting follow-up; long
    before the start, ask whether it is really done (nothing was recorded)."""
    lang, done = member.language, confirmation.done
    task = done.task
    if done.early:
        await reply(update, render.early_confirm_text(task, lang), to=to,
                    reply_markup=render.early_button(task.id, lang))
        return
    if done.already:
        await reply(update, render.already_done_text(task, done.by, done.at, lang), to=to)
        return
    recorded = texts.t("done", lang, id=task.id, name=member.name)
    if confirmation.followed:
        await reply(update, recorded, to=to)
        return
    # one message: what was recorded, and the follow-up question that a reply answers
    question = render.follow_up_question(task, lang)
    sent = await reply(update, f"{recorded}\n\n{question}", to=to,
                       reply_markup=render.skip_button(task.id, lang))
    if sent is not None:
        log_sent(context, [SentRecord(
            sent.chat_id, sent.message_id, MessageKind.PROMPT_FOLLOW_UP, task.id, member.id)])


async def confirm(update: Update, context: BotContext, task_id: int, note: str = "",
                  early_ok: bool = False) -> None:
    """Mark a task done and answer."""
    actor = actor_of(update)
    if actor is None:
        return
    answer = await call(context.usecases.confirm, actor, task_id, note, chat_ref(update),
                        early_ok)
    to = await answer_chat(update, answer)
    if to is not None:
        await confirmed(update, context, answer.member, answer.value, to)


async def on_done(update: Update, context: BotContext) -> None:
    """/klar ID: mark a task done."""
    async with answering(update, context):
        await confirm(update, context, task_id_arg(context, "/klar 17"), rest_text(context))


async def answer_replanned(update: Update, action: str, result: Replanned, lang: str, to: int,
                           reason: str = "") -> None:
    """'Moved to …' or 'Cancelled …', then whether the promise's target holds."""
    task = result.task
    if action == "moved":
        await reply(update, render.moved_text(task, lang), to=to)
    else:
        await reply(update, render.message("cancelled", lang, id=task.id, reason=reason),
                    to=to)
    await reply(update, target_text(result, lang), to=to)


def target_text(result: Replanned, lang: str) -> str:
    """Whether the target holds after a move or cancel, and what the re-plan added."""
    title = render.promise_title(result.task, lang)
    if not result.target_holds:
        return texts.t("target_at_risk", lang, title=title, target=result.target,
                       reachable=result.reachable)
    if result.added:
        return texts.plural("target_holds_added", result.added, lang, title=title,
                            target=result.target)
    return texts.t("target_holds", lang, title=title, target=result.target)


async def ask_move(update: Update, context: BotContext, task_id: int) -> None:
    """Offer the same time one and seven days later, or a typed time as a reply."""
    actor = actor_of(update)
    if actor is None:
        return
    answer = await call(context.usecases.task_for, actor, task_id, True, chat_ref(update))
    task, lang = answer.value, answer.member.language
    to = await answer_chat(update, answer)
    if to is None:
        return
    sent = await reply(update, texts.t("move_prompt", lang, id=task_id), to=to,
                       reply_markup=render.move_choices(task_id, render.move_options(task, lang)))
    if sent is not None:
        log_sent(context, [SentRecord(
            sent.chat_id, sent.message_id, MessageKind.PROMPT_MOVE, task_id, answer.member.id)])


async def ask_cancel_prompt(update: Update, context: BotContext, member: MemberView,
                            task_id: int, to: int) -> None:
    """Ask for the reason as a reply."""
    sent = await reply(update, texts.t("cancel_prompt", member.language, id=task_id), to=to)
    if sent is not None:
        log_sent(context, [SentRecord(
            sent.chat_id, sent.message_id, MessageKind.PROMPT_CANCEL, task_id, member.id)])


async def ask_cancel(update: Update, context: BotContext, task_id: int) -> None:
    """Check the task may be cancelled by me, then ask for the reason."""
    actor = actor_of(update)
    if actor is None:
        return
    answer = await call(context.usecases.task_for, actor, task_id, True, chat_ref(update))
    to = await answer_chat(update, answer)
    if to is not None:
        await ask_cancel_prompt(update, context, answer.member, task_id, to)


async def _task_command(update: Update, context: BotContext, example: str, action: str,
                        ask: Callable[[Update, BotContext, int], Awaitable[None]]) -> None:
    """/flytta and /stallin: a task number, then a time or a reason; without it, ask."""
    actor = actor_of(update)
    if actor is None:
        return
    async with answering(update, context):
        task_id = task_id_arg(context, example)
        text = rest_text(context)
        if not text:
            await ask(update, context, task_id)
            return
        usecase = context.usecases.move if action == "moved" else context.usecases.cancel
        answer = await call(usecase, actor, task_id, text, chat=chat_ref(update))
        to = await answer_chat(update, answer)
        if to is not None:
            await answer_replanned(update, action, answer.value, answer.member.language, to,
                                   text)


async def on_move(update: Update, context: BotContext) -> None:
    """/flytta ID NÄR: move a task (without NÄR: offer times)."""
    await _task_command(update, context, "/flytta 17 fre 22:00", "moved", ask_move)


async def on_cancel(update: Update, context: BotContext) -> None:
    """/stallin ID SKÄL: cancel a task (without SKÄL: ask for it)."""
    await _task_command(update, context, "/stallin 17 sjukdom", "cancelled", ask_cancel)
