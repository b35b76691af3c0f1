"""The scheduler tick: the outbox decides what is owed, a sender sends it, the outbox records.

The tick knows neither Telegram nor SQL: it is given the outbox's use cases (each one short
transaction, run in a worker thread so the event loop never waits on the database) and a
sender, and awaits the network only between transactions.
"""

from __future__ import annotations

import asyncio
import logging
from collections import Counter
from collections.abc import Awaitable, Callable

from medlofte_bot.domain.clock import Clock
from medlofte_bot.domain.states import SendOutcome
from medlofte_bot.services.outbox import Outbox, Outgoing, Sender

log = logging.getLogger(__name__)
SENDERS = 4  # sends under way at once; the rate limiter keeps them within Telegram's limits


async def _deliver(outbox: Outbox, sender: Sender, clock: Clock, message: Outgoing,
                   counts: Counter[str]) -> None:
    delivery = await sender.send(message)
    await asyncio.to_thread(outbox.record, message, delivery, clock.now())
    counts[delivery.outcome] += 1


async def _send_in_turn(outbox: Outbox, sender: Sender, clock: Clock,
                        refill: Callable[[], Awaitable[list[tuple[int, str]]]],
                        counts: Counter[str]) -> None:
    """SENDERS at once, each taking the next row whose chat nobody is sending to: one chat
    waiting out its gap holds up no other, and each chat's rows keep their order. When only
    rows of busy chats are left, the next batch is claimed (``refill``) rather than waited for.
    """
    waiting: list[tuple[int, str]] = []
    busy: set[str] = set()
    changed = asyncio.Event()
    refilling = False

    def next_row() -> tuple[int, str] | None:
        for i, (rid, chat) in enumerate(waiting):
            if chat not in busy:
                del waiting[i]
                busy.add(chat)
                return rid, chat
        return None

    async def claim_more() -> bool:
        nonlocal refilling
        refilling = True
        try:
            fresh = await refill()
        finally:
            refilling = False
        waiting.extend(fresh)
        changed.set()
        return bool(fresh)

    async def sender_loop() -> None:
        while True:
            row = next_row()
            if row is None:
                if not refilling and await claim_more():
                    continue
                if not waiting and not refilling:
                    return  # nothing left that this sender could take
                changed.clear()
                await changed.wait()
                continue
            rid, chat = row
            try:
                message: Outgoing | None = await asyncio.to_thread(outbox.compose, rid,
                                                                   clock.now())
                if message is None:
                    counts[SendOutcome.SKIPPED] += 1
                else:
                    await _deliver(outbox, sender, clock, message, counts)
            finally:
                busy.discard(chat)
                changed.set()

    await asyncio.gather(*(sender_loop() for _ in range(SENDERS)))


async def tick(outbox: Outbox, sender: Sender, clock: Clock, batch: int = 500) -> dict[str, int]:
    """One pass: make due rows, claim them, send each, record; returns counts by outcome."""
    counts: Counter[str] = Counter()
    await asyncio.to_thread(outbox.prepare, clock.now())
    stale = await asyncio.to_thread(outbox.claim, clock.now(), batch, True)
    if stale:
        for digest in await asyncio.to_thread(outbox.compose_digests, stale):
            await _deliver(outbox, sender, clock, digest, counts)
            counts["digest"] += 1
    more, blocked = True, 0

    async def refill() -> list[tuple[int, str]]:
        # a full batch means more may be due, and a blocked person means alerts are owed
        # now; a send to retry waits for the next tick
        nonlocal more, blocked
        if counts[SendOutcome.RETRY] or not (more or counts[SendOutcome.BLOCKED] > blocked):
            return []
        blocked = counts[SendOutcome.BLOCKED]
        ids = await asyncio.to_thread(outbox.claim_by_chat, clock.now(), batch)
        more = len(ids) == batch
        return ids

    await _send_in_turn(outbox, sender, clock, refill, counts)
    result = {str(k): v for k, v in counts.items()}
    if result:  # one line per tick that did something; silence otherwise
        log.info("tick: %s", ", ".join(f"{k} {v}" for k, v in sorted(result.items())))
    return result
