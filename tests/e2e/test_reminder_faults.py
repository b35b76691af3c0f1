"""Reminders through the real PTB Application when Telegram misbehaves: 429, outage, 403, crash.

Most tests: three officers join lag-1 on 14 March at 10:00 UTC (so no Monday summary is owed
and no reminder is already stale), a tick creates the rows of the joint bar inspection #6
(22:00 that evening), and the clock jumps to 10 s after the officers' 2-hour reminders: one
due reminder per officer. The tests marked "since 1 March" onboard on 1 March instead, so
that by 14 March a Monday summary is owed and older reminders have gone stale.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from datetime import UTC, datetime, timedelta
from itertools import pairwise
from typing import Literal

import pytest
from sqlalchemy import select

from botapi_emulator import FloodLimits, SentMessage
from medlofte_bot.services.reminders import LATE_AFTER, LEASE, claim_due
from medlofte_bot.storage import models as m

from .conftest import Harness

COORDINATOR = 1
OFFICERS = {2001: "Olle", 2002: "Stina", 2003: "Tove"}
OFFICER = 2001
LATE_MARK = "(försenad)"
DIGEST = "Boten var nere"


def _day_of_task(bot: Harness) -> datetime:
    """Four hours before lag-1's first evening task from 8 March on that follows a day
    with nothing for lag-1: then nothing is due, and two hours later its reminders are."""
    with bot.db.sessions() as s:
        rows = list(s.scalars(select(m.Task).join(m.Team).where(
            m.Team.key == "lag-1", m.Task.start_at >= datetime(2015, 3, 8, tzinfo=UTC))
            .order_by(m.Task.start_at)))
    for before, task in pairwise(rows):
        if task.start_at.hour >= 16 and task.start_at - before.end_at > timedelta(days=1):
            return task.start_at - timedelta(hours=4)
    raise AssertionError("no such task in the plan")


async def _setup(bot: Harness, day_of_task: bool = True) -> list[int]:
    """Onboard the officers, tick once (nothing due), move to 10 s after the 2-hour
    reminders; returns the ids of the officers' due reminders."""
    if day_of_task:
        bot.clock.current = _day_of_task(bot)
    for user, name in OFFICERS.items():
        await bot.emu.add_user(user, name)
        link = await bot.say(COORDINATOR, "/bjud polis lag-1")
        code = re.search(r"start=([\w-]+)", link)
        assert code, link
        assert f"Välkommen, {name}" in await bot.say(user, f"/start {code[1]}")
    assert await bot.tick() == {}, "nothing is due yet"
    with bot.db.sessions() as s:
        rows = list(s.scalars(select(m.Reminder).where(m.Reminder.kind == "assignee_2h")
                              .order_by(m.Reminder.due_at)))
    rows = [r for r in rows if r.task_id == rows[0].task_id]  # the first task's
    assert len(rows) == len(OFFICERS)
    bot.clock.current = rows[0].due_at + timedelta(seconds=10)
    return sorted(r.id for r in rows)


def _rows(bot: Harness, ids: Sequence[int]) -> list[m.Reminder]:
    with bot.db.sessions() as s:
        return list(s.scalars(select(m.Reminder).where(m.Reminder.id.in_(list(ids)))
                              .order_by(m.Reminder.id)))


def _due_rows(bot: Harness) -> list[m.Reminder]:
    with bot.db.sessions() as s:
        return list(s.scalars(select(m.Reminder).where(m.Reminder.due_at <= bot.clock.now())
                              .order_by(m.Reminder.id)))


def _chat(bot: Harness, row: m.Reminder) -> int:
    with bot.db.sessions() as s:
        member = s.get(m.Member, row.member_id)
        assert member is not None
        return member.telegram_id


def _new(bot: Harness, before: int, chat: int | None = None,
         kind: str = "text") -> list[SentMessage]:
    return [x for x in bot.emu.all_sent()[before:]
            if x.kind == kind and (chat is None or x.chat_id == chat)]


def _assert_each_sent_exactly_once(bot: Harness, ids: Sequence[int],
                                   before: int) -> list[m.Reminder]:
    """Every row is sent with its message id, and its chat got exactly that one message."""
    rows = _rows(bot, ids)
    assert all(r.state == "sent" and r.message_id for r in rows), \
        [(r.id, r.kind, r.state, r.error) for r in rows]
    for chat in {_chat(bot, r) for r in rows}:
        assert sorted(x.message_id for x in _new(bot, before, chat)) == \
            sorted(r.message_id or 0 for r in rows if _chat(bot, r) == chat), f"chat {chat}"
    return rows


async def _tick_until_settled(bot: Harness, ids: Sequence[int],
                              most: int = 4) -> list[dict[str, int]]:
    outcomes = []
    for _ in range(most):
        outcomes.append(await bot.tick())
        if not any(r.state in ("pending", "claimed") for r in _rows(bot, ids)):
            break
    return outcomes


async def test_a_429_storm_loses_no_reminder_and_sends_none_twice(bot: Harness) -> None:
    due = await _setup(bot)
    before = len(bot.emu.all_sent())
    # Telegram's limits, but only one message a second overall, and four 429s on top
    bot.emu.limiter.limits = FloodLimits(global_burst=1, global_per_second=1.0)
    bot.emu.limiter.reset()
    bot.emu.enforce_limits = True
    bot.emu.fail_next(4, 429, methods=["sendMessage"], retry_after=1)
    outcomes = await _tick_until_settled(bot, due)
    # the rate limiter waits each 429 out; a send still refused after three goes back to
    # pending and the next tick sends it
    assert sum(o.get("sent", 0) for o in outcomes) == len(due), outcomes
    assert all(set(o) <= {"sent", "retry"} for o in outcomes), outcomes
    assert bot.emu.count_429 >= 5, "the flood limits answered 429 too"
    rows = _assert_each_sent_exactly_once(bot, due, before)
    assert sum(r.attempts for r in rows) == len(due) + sum(o.get("retry", 0) for o in outcomes)


@pytest.mark.parametrize(("mode", "downtime", "late"), [
    ("refuse", timedelta(seconds=60), False),
    ("502", LATE_AFTER + timedelta(minutes=1), True),
])
async def test_an_outage_leaves_due_reminders_pending_and_the_next_tick_sends_each_once(
        bot: Harness, mode: Literal["refuse", "502"], downtime: timedelta, late: bool) -> None:
    due = await _setup(bot)
    before = len(bot.emu.all_sent())
    await bot.emu.outage(True, mode=mode)
    try:
        outcomes = await bot.tick()
    finally:
        await bot.emu.outage(False)
    assert outcomes == {"retry": len(due)}
    rows = _rows(bot, due)
    assert {r.state for r in rows} == {"pending"}, "not lost, not failed"
    assert all(r.error and r.claimed_by is None and r.message_id is None for r in rows)
    assert bot.emu.all_sent()[before:] == []
    bot.clock.current += downtime  # the bot was down this long; no real time passes
    assert await bot.tick() == {"sent": len(due)}
    rows = _assert_each_sent_exactly_once(bot, due, before)
    texts = {(x.chat_id, x.message_id): x.text or "" for x in _new(bot, before)}
    for r in rows:
        assert r.sent_at is not None and r.message_id is not None
        assert r.late is late and (r.sent_at - r.due_at > LATE_AFTER) is late
        text = texts[(_chat(bot, r), r.message_id)]
        assert text.endswith(LATE_MARK) is late, text
    assert await bot.tick() == {}
    assert len(bot.emu.all_sent()) - before == len(due)


async def test_a_crash_between_claim_and_send_loses_none(bot: Harness) -> None:
    due = await _setup(bot)
    before = len(bot.emu.all_sent())
    crashed_at = bot.clock.now()
    with bot.db.sessions() as s:
        assert sorted(claim_due(s, crashed_at, "crashed")) == due
        s.commit()  # …and the process dies before sending
    assert await bot.tick() == {}
    bot.clock.current = crashed_at + LEASE - timedelta(seconds=1)
    assert await bot.tick() == {}, "still inside the lease"
    assert {(r.state, r.claimed_by) for r in _rows(bot, due)} == {("claimed", "crashed")}
    assert bot.emu.all_sent()[before:] == []
    bot.clock.current = crashed_at + LEASE + timedelta(seconds=1)
    assert await bot.tick() == {"sent": len(due)}
    assert await bot.tick() == {}
    rows = _assert_each_sent_exactly_once(bot, due, before)
    assert {(r.claimed_by, r.attempts) for r in rows} == {(bot.ctx.worker, 2)}


def _send_attempts(bot: Harness, chat: int) -> int:
    return len([r for r in bot.emu.requests_for("sendMessage") if str(r.chat_id) == str(chat)])


async def test_a_blocked_officer_is_marked_unreachable_and_the_coordinator_is_told(
        bot: Harness) -> None:
    due = await _setup(bot)
    await bot.emu.block(OFFICER)
    before, attempts_before = len(bot.emu.all_sent()), _send_attempts(bot, OFFICER)
    # the coordinator's alert is owed at once and goes out in the same tick
    assert await bot.tick() == {"blocked": 1, "sent": len(due)}
    blocked = [r for r in _rows(bot, due) if _chat(bot, r) == OFFICER]
    assert [(r.state, r.message_id) for r in blocked] == [("failed", None)]
    assert "blocked" in blocked[0].error
    with bot.db.sessions() as s:
        officers = {x.telegram_id: x for x in s.scalars(select(m.Member).where(
            m.Member.role == "officer"))}
    assert officers[OFFICER].unreachable and officers[OFFICER].active
    assert not any(officers[u].unreachable for u in OFFICERS if u != OFFICER)
    told = _new(bot, before, COORDINATOR)
    assert len(told) == 1 and "Olle" in (told[0].text or "")
    assert "nås inte privat" in (told[0].text or "")
    _assert_each_sent_exactly_once(bot, [i for i in due if i != blocked[0].id], before)
    assert _send_attempts(bot, OFFICER) - attempts_before == 1
    bot.clock.current += LEASE + timedelta(minutes=10)
    assert await bot.tick() == {}
    assert _send_attempts(bot, OFFICER) - attempts_before == 1, "not retried"
    assert [(r.state, r.attempts) for r in _rows(bot, [blocked[0].id])] == [("failed", 1)]
    assert len(_new(bot, before, COORDINATOR)) == 1


async def test_a_429_on_the_coordinator_notice_does_not_abort_the_tick(bot: Harness) -> None:
    due = await _setup(bot)
    assert _chat(bot, _rows(bot, due)[0]) == OFFICER, "the blocked officer's reminder goes first"
    await bot.emu.block(OFFICER)
    # the 1st sendMessage (to the blocked officer) gets the 403 it would get anyway, the 2nd
    # (the notice to the coordinator) a 429
    bot.emu.fail_next(1, 403, "Forbidden: bot was blocked by the user", methods=["sendMessage"])
    bot.emu.fail_next(1, 429, methods=["sendMessage"], retry_after=1)
    before = len(bot.emu.all_sent())
    outcomes = await bot.tick()
    # the rate limiter waits the 429 out: the alert still goes out in this tick
    assert outcomes == {"blocked": 1, "sent": len(due)}
    assert len(_new(bot, before, COORDINATOR)) == 1
    assert not [r for r in _rows(bot, due) if r.state in ("claimed", "pending")]


# ----- since 1 March: a Monday summary is owed and older reminders went stale ---------------


@pytest.mark.parametrize("status", [429, 502])
async def test_a_failed_chart_does_not_send_the_summary_text_twice(
        bot: Harness, status: int) -> None:
    await _setup(bot, day_of_task=False)
    before = len(bot.emu.all_sent())
    bot.emu.fail_next(1, status, methods=["sendPhoto"], retry_after=1)
    await bot.tick()
    summaries = [r for r in _due_rows(bot) if r.task_id is None]
    assert len(summaries) == 1
    await _tick_until_settled(bot, [summaries[0].id])
    row = _rows(bot, [summaries[0].id])[0]
    assert row.state == "sent"
    texts = [x.message_id for x in _new(bot, before, COORDINATOR)
             if (x.text or "").startswith("Veckorapport")]
    assert texts == [row.message_id], "one summary text"


@pytest.mark.parametrize("fault", ["outage", "429"])
async def test_reminders_folded_into_a_digest_survive_a_failed_send(
        bot: Harness, fault: str) -> None:
    due = await _setup(bot, day_of_task=False)  # by then its 7-day and 1-day ones are stale
    task_id = _rows(bot, due)[0].task_id
    before = len(bot.emu.all_sent())
    if fault == "outage":
        await bot.emu.outage(True)
    else:
        bot.emu.fail_next(1, 429, methods=["sendMessage"], retry_after=1)
    try:
        await bot.tick()
    finally:
        await bot.emu.outage(False)
    bot.clock.current += timedelta(minutes=1)
    await bot.tick()
    await bot.tick()
    with bot.db.sessions() as s:
        stale = list(s.scalars(select(m.Reminder).join(m.Member).where(
            m.Member.telegram_id == OFFICER, m.Reminder.task_id == task_id,
            m.Reminder.kind.in_(["team_7d", "assignee_1d"]))))
    assert len(stale) == 2
    digests = [x for x in _new(bot, before, OFFICER) if (x.text or "").startswith(DIGEST)]
    assert len(digests) == 1 and f"#{task_id} " in (digests[0].text or "")
