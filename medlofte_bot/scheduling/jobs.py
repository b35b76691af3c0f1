"""The scheduler tick: the outbox decides what is owed, a sender sends it, the outbox records.

The tick knows neither Telegram nor SQL: it is given the outbox's use cases (each one short
transaction, run in a worker thread so the event loop never waits on the database) and a
sender, and awaits the network only between transactions.
"""

from __future__ import annotations

import asyncio
import logging
from collections import Counter

from medlofte_bot.domain.clock import Clock
from medlofte_bot.domain.states import SendOutcome
from medlofte_bot.services.outbox import Outbox, Outgoing, Sender

log = logging.getLogger(__name__)


async def _deliver(outbox: Outbox, sender: Sender, clock: Clock, message: Outgoing,
                   counts: Counter[str]) -> None:
    delivery = await sender.send(message)
    await asyncio.to_thread(outbox.record, message, delivery, clock.now())
    counts[delivery.outcome] += 1


async def tick(outbox: Outbox, sender: Sender, clock: Clock, batch: int = 500) -> dict[str, int]:
    """One pass: make due rows, claim them, send each, record; returns counts by outcome."""
    counts: Counter[str] = Counter()
    await asyncio.to_thread(outbox.prepare, clock.now())
    stale = await asyncio.to_thread(outbox.claim, clock.now(), batch, True)
    if stale:
        for digest in await asyncio.to_thread(outbox.compose_digests, stale):
            await _deliver(outbox, sender, clock, digest, counts)
            counts["digest"] += 1
    while True:
        blocked_before = counts[SendOutcome.BLOCKED]
        ids = await asyncio.to_thread(outbox.claim, clock.now(), batch)
        for rid in ids:
            message: Outgoing | None = await asyncio.to_thread(outbox.compose, rid,
                                                               clock.now())
            if message is None:
                counts[SendOutcome.SKIPPED] += 1
                continue
            await _deliver(outbox, sender, clock, message, counts)
        # a full batch means more may be due, and a blocked person means alerts are owed now;
        # a send to retry waits for the next tick
        more = len(ids) == batch or counts[SendOutcome.BLOCKED] > blocked_before
        if not more or counts[SendOutcome.RETRY]:
            break
    result = {str(k): v for k, v in counts.items()}
    if result:  # one line per tick that did something; silence otherwise
        log.info("tick: %s", ", ".join(f"{k} {v}" for k, v in sorted(result.items())))
    return result
