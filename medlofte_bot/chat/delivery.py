"""Sending claimed reminders within Telegram's limits; nothing is lost when sending fails."""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from datetime import datetime
from typing import TypeVar

from sqlalchemy import select
from sqlalchemy.orm import Session
from telegram import Bot, InlineKeyboardButton, InlineKeyboardMarkup
from telegram.error import BadRequest, Forbidden, NetworkError, RetryAfter, TelegramError

from medlofte_bot import texts
from medlofte_bot.chat import render
from medlofte_bot.chat.context import Deps
from medlofte_bot.services import reminders, tasks
from medlofte_bot.services.summary import Summary, build_summary
from medlofte_bot.storage import models as m

log = logging.getLogger(__name__)
MAX_RETRY_AFTER = 3
T = TypeVar("T")


@dataclass
class Pacer:
    """Spacing of sends: ~30/s overall, 1/s per private chat, 20/min per group.

    The gaps are a little over Telegram's limits: exactly 1.0 s met jitter and drew 429s.
    """

    per_second: float = 30.0
    private_gap: float = 1.05
    group_gap: float = 3.05
    _next_global: float = 0.0
    _next_chat: dict[int, float] = field(default_factory=dict)

    async def wait(self, chat_id: int) -> None:
        """Sleep until a message to ``chat_id`` is allowed, and book the slot."""
        now = time.monotonic()
        gap = self.group_gap if chat_id < 0 else self.private_gap
        at = max(now, self._next_global, self._next_chat.get(chat_id, 0.0))
        self._next_global = at + 1.0 / self.per_second
        self._next_chat[chat_id] = at + gap
        if at > now:
            await asyncio.sleep(at - now)


async def _paced(pacer: Pacer, chat_id: int, send: Callable[[], Awaitable[T]],
                 attempts: int = MAX_RETRY_AFTER) -> T:
    """Send when the pacer allows; a 429 is waited out and tried again, ``attempts`` times in
    all, after which the last RetryAfter is raised for the caller to put the send back."""
    last: RetryAfter | None = None
    for _ in range(attempts):
        await pacer.wait(chat_id)
        try:
            return await send()
        except RetryAfter as exc:
            last = exc
            await asyncio.sleep(_seconds(exc.retry_after))
    assert last is not None
    raise last


def _message(session: Session, row: m.Reminder, task: m.Task, member: m.Member | None,
             now: datetime) -> tuple[str, InlineKeyboardMarkup | None] | None:
    """The text and buttons of a reminder, or None when it no longer needs sending."""
    lang = member.language if member else "sv"
    view = tasks.view(session, task)
    if task.status != "pending":
        return None
    if row.kind == "no_partner_3d" and view.partners_joined:
        return None
    if member is not None and member.role == "partner":
        declined = session.scalar(select(m.Participation.joins).where(
            m.Participation.task_id == task.id, m.Participation.member_id == member.id))
        if declined is False:
            return None
    key = f"reminder.{row.kind}" if texts.has(f"reminder.{row.kind}") else "reminder.generic"
    text = texts.t(key, lang, task=render.task_line(view, lang))
    if now - row.due_at > reminders.LATE_AFTER:
        text += texts.t("reminder.late", lang)
    if member is not None and member.role == "partner":
        return text, render.join_buttons(task.id, lang) if task.joint else None
    if row.kind == "no_partner_3d":
        return text, None
    return text, render.task_buttons(task.id, lang)


async def send_summary(bot: Bot, d: Deps, session: Session, member: m.Member, chat_id: int,
                       late: bool = False) -> tuple[int, Summary]:
    """The Monday summary's text; returns its message id and the summary for the chart."""
    summary = build_summary(session, d.sets, member, d.clock.now())
    sent = await bot.send_message(chat_id, render.summary_text(summary, member.language,
                                                               late)[:4096])
    return sent.message_id, summary


async def send_chart(bot: Bot, d: Deps, pacer: Pacer, member: m.Member, chat_id: int,
                     summary: Summary) -> bool:
    """The summary's chart as a photo: best effort, after the text (one 429 is waited out)."""
    # matplotlib costs ~0.3 s and ~40 MB: load it on the first chart, not at start
    from medlofte_bot.views.chart import progress_chart

    lang, now = member.language, d.clock.now()
    rows = summary.promises
    caption = texts.t("summary.chart_caption", lang,
                      date=texts.day(now.astimezone(d.tz).date(), lang))
    chart = progress_chart(rows, lang, caption)
    try:
        await _paced(pacer, chat_id, lambda: bot.send_photo(chat_id, chart, caption=caption),
                     attempts=2)
    except TelegramError as exc:
        log.warning("chart to %s not sent: %s", chat_id, exc)
        return False
    return True


def _seconds(wait: object) -> float:
    """RetryAfter.retry_after is an int or a timedelta, depending on PTB's settings."""
    return wait.total_seconds() if hasattr(wait, "total_seconds") else float(wait)  # type: ignore[arg-type]



async def _deliver_summary(bot: Bot, d: Deps, pacer: Pacer, session: Session,
                           row: m.Reminder) -> str:
    member = session.get(m.Member, row.member_id) if row.member_id else None
    if member is None or not member.active:
        reminders.mark_skipped(session, [row.id], "not needed")
        return "skipped"
    late = d.clock.now() - row.due_at > reminders.LATE_AFTER
    try:
        message_id, summary = await _paced(pacer, member.telegram_id, lambda: send_summary(
            bot, d, session, member, member.telegram_id, late))
    except RetryAfter:
        reminders.mark_failed(session, row.id, "rate limited", retry=True)
        return "retry"
    except (Forbidden, BadRequest) as exc:
        reminders.mark_failed(session, row.id, str(exc), retry=False)
        return "failed"
    except NetworkError as exc:
        reminders.mark_failed(session, row.id, str(exc), retry=True)
        return "retry"
    reminders.mark_sent(session, row.id, message_id, d.clock.now())
    session.commit()  # the text is out: whatever happens to the chart, never send it twice
    await send_chart(bot, d, pacer, member, member.telegram_id, summary)
    return "summary"


async def deliver(bot: Bot, d: Deps, pacer: Pacer, reminder_id: int) -> str:
    """Send one claimed reminder and record the outcome; returns it (sent/skipped/…)."""
    with d.sessions() as session:
        row = session.get(m.Reminder, reminder_id)
        if row is None or row.state != "claimed":
            return "gone"
        if row.task_id is None:
            outcome = await _deliver_summary(bot, d, pacer, session, row)
            session.commit()
            return outcome
        task = session.get(m.Task, row.task_id)
        member = session.get(m.Member, row.member_id) if row.member_id else None
        chat_id = row.chat_id or (member.telegram_id if member else None)
        built = _message(session, row, task, member, d.clock.now()) if task else None
        if built is None or chat_id is None or (member is not None and not member.active):
            reminders.mark_skipped(session, [reminder_id], "not needed")
            session.commit()
            return "skipped"
        text, markup = built
        outcome = await _send(bot, pacer, session, row, member, chat_id, text, markup, d)
        session.commit()
        return outcome


async def _send(bot: Bot, pacer: Pacer, session: Session, row: m.Reminder,
                member: m.Member | None, chat_id: int, text: str,
                markup: InlineKeyboardMarkup | None, d: Deps) -> str:
    try:
        sent = await _paced(pacer, chat_id,
                            lambda: bot.send_message(chat_id, text, reply_markup=markup))
    except RetryAfter:
        reminders.mark_failed(session, row.id, "rate limited", retry=True)
        return "retry"
    except Forbidden as exc:
        reminders.mark_failed(session, row.id, str(exc), retry=False)
        if member is not None:
            await _unreachable(bot, session, member, d)
        return "forbidden"
    except BadRequest as exc:
        reminders.mark_failed(session, row.id, str(exc), retry=False)
        return "failed"
    except NetworkError as exc:
        reminders.mark_failed(session, row.id, str(exc), retry=True)
        return "retry"
    reminders.mark_sent(session, row.id, sent.message_id, d.clock.now())
    return "sent"


async def _unreachable(bot: Bot, session: Session, member: m.Member, d: Deps) -> None:
    """Flag the member once, tell the coordinators, offer a start button in the team group."""
    if member.unreachable:
        return
    member.unreachable = True
    link = f"https://t.me/{bot.username}"
    coordinators = session.scalars(select(m.Member).where(
        m.Member.role == "coordinator", m.Member.active.is_(True))).all()
    for c in coordinators:
        try:
            await bot.send_message(c.telegram_id, texts.t("unreachable", c.language,
                                                          name=member.display_name))
        except TelegramError:  # a 429 or outage here must not abort the tick
            log.warning("coordinator %s not reachable either", c.id)
    team = session.get(m.Team, member.team_id) if member.team_id else None
    if team and team.group_chat_id:
        button = InlineKeyboardMarkup([[InlineKeyboardButton(
            texts.t("button.start", member.language), url=link)]])
        try:
            await bot.send_message(team.group_chat_id, texts.t(
                "unreachable_group", member.language, name=member.display_name),
                reply_markup=button)
        except TelegramError:
            log.warning("team group %s not reachable", team.id)


async def send_digests(bot: Bot, d: Deps, pacer: Pacer, reminder_ids: list[int]) -> int:
    """One message per recipient for claimed reminders that went stale while the bot was down.

    Rows are marked folded only once their digest went out; a network error or 429
    puts them back for the next tick, a 403 fails them. Returns digests sent.
    """
    sent = 0
    with d.sessions() as session:
        for (member_id, chat_id), rows in reminders.group_by_recipient(
                session, reminder_ids).items():
            member = session.get(m.Member, member_id) if member_id else None
            target = chat_id or (member.telegram_id if member else None)
            lang = member.language if member else "sv"
            found = [session.get(m.Task, r.task_id) for r in rows if r.task_id is not None]
            views = [tasks.view(session, t) for t in found if t is not None]
            lines = list(dict.fromkeys(render.task_line(v, lang) for v in views
                                       if v.status == "pending"))
            if target is None or not lines or (member is not None and not member.active):
                reminders.mark_skipped(session, [r.id for r in rows], "not needed")
                continue
            await pacer.wait(target)
            try:
                await bot.send_message(target, "\n".join([texts.t("digest.title", lang),
                                                          *lines])[:4096])
            except (NetworkError, RetryAfter) as exc:  # RetryAfter is a NetworkError too
                for r in rows:
                    reminders.mark_failed(session, r.id, str(exc), retry=True)
                continue
            except TelegramError as exc:
                for r in rows:
                    reminders.mark_failed(session, r.id, str(exc), retry=False)
                continue
            reminders.mark_folded(session, rows, d.clock.now())
            sent += 1
        session.commit()
    return sent
