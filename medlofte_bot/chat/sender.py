"""Sending what the outbox hands over: render, send through the rate limiter, classify.

One function (``classify``) turns Telegram's answer into what it means for the outbox.
Every call goes through the Application's rate limiter (chat/ratelimit.py); the outbox's
messages ask for bulk priority so a person's answer goes first.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from typing import Any

from telegram import Bot, InlineKeyboardButton, InlineKeyboardMarkup
from telegram.error import (
    BadRequest,
    ChatMigrated,
    Forbidden,
    NetworkError,
    RetryAfter,
    TelegramError,
    TimedOut,
)

from medlofte_bot import texts
from medlofte_bot.chat import render
from medlofte_bot.domain.states import SendOutcome
from medlofte_bot.services import outbox as ob
from medlofte_bot.services.outbox import Delivery, Outgoing
from medlofte_bot.services.summary import Summary

log = logging.getLogger(__name__)
BULK: dict[str, Any] = {"priority": "bulk"}
# a 403 with these words: the bot is out of the chat (otherwise a person blocked it)
LEFT_WORDS = ("kicked", "not a member", "deactivated", "upgraded")
# a 400 with these words: the chat itself is gone (otherwise the message was refused)
GONE_WORDS = ("chat not found", *LEFT_WORDS)


def _says(error: TelegramError, words: tuple[str, ...]) -> bool:
    text = str(error).lower()
    return any(word in text for word in words)


def classify(error: TelegramError) -> SendOutcome:
    """What a Telegram error means: retry later, blocked, chat gone, or refused for good."""
    if isinstance(error, Forbidden):
        left = _says(error, LEFT_WORDS) and not _says(error, ("blocked",))
        return SendOutcome.CHAT_GONE if left else SendOutcome.BLOCKED
    if isinstance(error, ChatMigrated):
        return SendOutcome.CHAT_GONE
    if isinstance(error, BadRequest):
        return SendOutcome.CHAT_GONE if _says(error, GONE_WORDS) else SendOutcome.TOO_LONG
    if isinstance(error, (RetryAfter, TimedOut, NetworkError)):
        return SendOutcome.RETRY
    return SendOutcome.TOO_LONG


def _rate_args(bot: Bot, bulk: bool) -> dict[str, Any]:
    """rate_limit_args only where the bot takes them (PTB's ExtBot)."""
    return {"rate_limit_args": BULK} if bulk and hasattr(bot, "rate_limiter") else {}


def render_outgoing(message: Outgoing, bot_username: str
                    ) -> tuple[list[str], InlineKeyboardMarkup | None]:
    """The text (one message, or several for a long digest or summary, split between
    sections and lines) and the buttons of an outbox message."""
    lang = message.lang
    if message.kind == ob.DIGEST:
        place = render.several_places(message.tasks)
        lines = [render.task_line(t, lang, place) for t in render.in_order(message.tasks)]
        return render.split("\n".join([texts.t("digest.title", lang), *lines])), None
    if message.summary is not None:
        return render.split(render.summary_text(message.summary, lang, message.late)), None
    if message.kind == ob.NO_PROMISE_SET and message.year is not None:
        year, have, command = message.year
        return [texts.t("no_promise_set", lang, year=year, have=have, command=command)], None
    if message.kind in (ob.UNREACHABLE, ob.UNREACHABLE_GROUP):
        markup = InlineKeyboardMarkup([[InlineKeyboardButton(
            texts.t("button.start", lang), url=f"https://t.me/{bot_username}")]]) \
            if message.buttons == "start" else None
        return [texts.t(message.kind, lang, name=message.name)], markup
    assert message.task is not None
    if message.notice is not None:
        text = render.notice_text(message, lang)
    else:
        text = render.reminder_text(message.task, message.kind, lang, message.buttons == "rsvp")
    if message.late:
        text += texts.t("reminder.late", lang)
    make = {"task": render.task_buttons, "join": render.join_buttons,
            "rsvp": render.rsvp_buttons, "no_partner": render.no_partner_buttons,
            }.get(message.buttons or "")
    return [render.fit(text)], make(message.task.id, lang) if make else None


class TelegramSender:
    """The outbox's Sender over a PTB Bot."""

    def __init__(self, bot: Bot, observe: Callable[[str], None] | None = None) -> None:
        """``observe`` is told each message's outcome (metrics count them)."""
        self.bot = bot
        self.observe = observe

    async def send(self, message: Outgoing) -> Delivery:
        """Send ``message`` (``_send``) and tell ``observe`` what came of it."""
        delivery = await self._send(message)
        if self.observe is not None:
            self.observe(delivery.outcome)
        return delivery

    async def _send(self, message: Outgoing) -> Delivery:
        """Send one message (a long one in parts, a summary's chart after it, best effort)
        and classify the answer. The first part decides the outcome: once it is out, the
        message counts as sent (a retry would repeat it), and a later part that fails is
        logged."""
        parts, markup = render_outgoing(message, self.bot.username)
        first, delivered = None, []
        for n, text in enumerate(parts):
            last = n == len(parts) - 1
            try:
                sent = await self.bot.send_message(message.chat_id, text,
                                                   reply_markup=markup if last else None,
                                                   **_rate_args(self.bot, True))
            except TelegramError as exc:
                outcome = classify(exc)
                if first is not None:
                    log.warning("part %d of %d to %s not sent: %s", n + 1, len(parts),
                                message.chat_id, exc)
                    break
                # a refused text is ours to fix; the rest is counted in the tick's one line
                if outcome == SendOutcome.TOO_LONG:
                    log.warning("message to %s refused: %s", message.chat_id, exc)
                return Delivery(outcome, None, str(exc)[:500])
            first = first or sent
            delivered.append(text)
        assert first is not None
        if message.summary is not None:
            await send_chart(self.bot, message.chat_id, message.summary, message.lang, bulk=True)
            return Delivery(SendOutcome.SENT, first.message_id, text="\n\n".join(delivered))
        return Delivery(SendOutcome.SENT, first.message_id)


async def send_chart(bot: Bot, chat_id: int, summary: Summary, lang: str, bulk: bool) -> bool:
    """The summary's chart as a photo: best effort, after the text."""
    # matplotlib costs ~0.3 s and ~40 MB: load it on the first chart, not at start
    from medlofte_bot.views.chart import progress_chart

    tz = summary.tz
    today = summary.now.astimezone(tz).date()
    caption = texts.t("summary.chart_caption", lang, year=today.year,
                      date=texts.day(today, lang))
    chart = progress_chart(summary.promises, lang, caption)
    try:
        await bot.send_photo(chat_id, chart, caption=caption, **_rate_args(bot, bulk))
    except TelegramError as exc:
        log.warning("chart to %s not sent: %s", chat_id, exc)
        return False
    return True


async def send_report_document(bot: Bot, chat_id: int, data: bytes, filename: str,
                               caption: str) -> bool:
    """A year report as a document (a person's answer: no bulk priority); False when
    Telegram refused it, which the caller says in words."""
    try:
        await bot.send_document(chat_id, data, filename=filename, caption=caption[:1024])
    except TelegramError as exc:
        log.warning("year report to %s not sent: %s", chat_id, exc)
        return False
    return True
