"""The scheduler tick: make reminder rows, claim what is due, send, record."""

from __future__ import annotations

import logging

from telegram import Bot

from medlofte_bot.chat.context import Deps
from medlofte_bot.chat.delivery import Pacer, deliver, send_digests
from medlofte_bot.services import reminders, tasks

log = logging.getLogger(__name__)


async def tick(bot: Bot, d: Deps, pacer: Pacer, batch: int = 500) -> dict[str, int]:
    """One pass: ensure rows, claim due ones, deliver each; returns counts by outcome."""
    now = d.clock.now()
    with d.sessions() as session:
        tasks.mark_missed(session, d.sets, now)
        reminders.ensure_reminders(session, now)
        if d.sets:
            partners = any(ps.partner_summary for ps in d.sets.values())
            reminders.ensure_summaries(session, now, d.tz, partners)
        session.commit()
    with d.sessions() as session:
        stale = reminders.claim_due(session, now, d.worker, batch, stale=True)
        session.commit()
    if stale:
        d.stats["digest"] = d.stats.get("digest", 0) + await send_digests(bot, d, pacer, stale)
    outcomes: dict[str, int] = {}
    while True:
        with d.sessions() as session:
            ids = reminders.claim_due(session, d.clock.now(), d.worker, batch)
            order = reminders.round_robin_by_chat(session, ids)
            session.commit()
        for rid in order:
            outcome = await deliver(bot, d, pacer, rid)
            outcomes[outcome] = outcomes.get(outcome, 0) + 1
        # a full batch means more may be due; a failed send waits for the next tick
        if len(ids) < batch or outcomes.get("retry"):
            break
    for k, v in outcomes.items():
        d.stats[k] = d.stats.get(k, 0) + v
    return outcomes
