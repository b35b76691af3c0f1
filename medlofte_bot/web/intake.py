"""From the webhook to the Application and back: accepted updates are rows until done.

``accept`` stores an update in the inbox (a worker thread, one short transaction) before
the webhook answers 200; only a new one goes on the Application's queue. When the update
processor has dealt with it (``finished``), it is marked done, in batches. ``recover``,
run every few seconds by every process, renews the leases of what this process still
holds, takes up what a dead process left (lease run out) and prunes old done rows.
Leases are timed by ``lease_clock``: the wall clock in production, whatever the bot's is.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from typing import Any

from telegram import Update

from medlofte_bot.chat.app import App
from medlofte_bot.chat.updates import Verdict
from medlofte_bot.domain.clock import Clock
from medlofte_bot.services.inbox import Inbox

PRUNE_EVERY = 3600.0  # seconds between prunes of done rows
ACCEPT_THREADS = 2
FLUSH_DELAY = 0.05  # seconds; far inside the 60-second lease
log = logging.getLogger(__name__)
Observe = Callable[[object, Verdict, float], None]


class Intake:
    """The running side of the inbox for one Application (``inbox=None``: polling, only
    timing and counting)."""

    def __init__(self, inbox: Inbox | None, lease_clock: Clock,
                 observe: Observe | None = None) -> None:
        self.inbox = inbox
        self.lease_clock = lease_clock
        self.observe = observe
        self.app: App | None = None
        self.held: dict[int, float] = {}  # update id -> monotonic arrival, until marked done
        self._done: list[int] = []
        self._flushing: asyncio.Task[None] | None = None
        self._pruned_at = -PRUNE_EVERY
        # the webhook's inserts have threads of their own: Telegram's 200 never waits in
        # line behind the handlers' queries in the default executor
        self._threads = ThreadPoolExecutor(ACCEPT_THREADS, thread_name_prefix="inbox")

    def attach(self, app: App) -> None:
        """The Application whose queue takes the updates."""
        self.app = app

    async def accept(self, payload: dict[str, Any]) -> Update | None:
        """Store the update (ValueError when it is no update); the Update when it is new,
        None when it was accepted before (by this process or another)."""
        assert self.app is not None and self.inbox is not None
        update = Update.de_json(payload, self.app.bot)
        update_id = update.update_id
        arrived = time.monotonic()
        new = await asyncio.get_running_loop().run_in_executor(
            self._threads, self.inbox.accept, update_id, payload, self.lease_clock.now())
        if not new:
            return None
        self.held[update_id] = arrived
        return update

    async def enqueue(self, update: Update) -> None:
        """Hand an accepted update to the Application."""
        assert self.app is not None
        await self.app.update_queue.put(update)

    def finished(self, update: object, verdict: Verdict, began: float) -> None:
        """The update processor's ``on_finished``: time and count it, mark it done."""
        update_id = update.update_id if isinstance(update, Update) else None
        arrived = self.held.get(update_id, began) if update_id is not None else began
        if self.observe is not None:
            self.observe(update, verdict, time.monotonic() - arrived)
        if self.inbox is None or update_id not in self.held:
            return
        self._done.append(update_id)
        if self._flushing is None or self._flushing.done():
            self._flushing = asyncio.get_running_loop().create_task(self._flush_soon())

    async def _flush_soon(self) -> None:
        # a moment's wait gathers the updates finishing meanwhile into one transaction
        await asyncio.sleep(FLUSH_DELAY)
        await self.flush()

    async def flush(self) -> None:
        """Mark what is finished done, in as few transactions as the pace allows; what
        fails to be marked is tried again by the next flush (``recover``)."""
        assert self.inbox is not None
        while self._done:
            batch, self._done = self._done, []
            try:
                await asyncio.to_thread(self.inbox.done, batch, self.lease_clock.now())
            except Exception:
                log.exception("updates %s not marked done; tried again shortly", batch)
                self._done[:0] = batch
                return
            for update_id in batch:
                self.held.pop(update_id, None)

    async def recover(self) -> int:
        """Renew this process's leases, take up updates whose lease ran out, prune old
        done rows now and then; returns how many updates were taken up."""
        if self.inbox is None or self.app is None:
            return 0
        await self.flush()
        now = self.lease_clock.now()
        if self.held:
            await asyncio.to_thread(self.inbox.renew, list(self.held), now)
        taken = await asyncio.to_thread(self.inbox.reclaim, now)
        for accepted in taken:
            if accepted.update_id in self.held:  # ours, somehow stale: it is on its way
                continue
            self.held[accepted.update_id] = time.monotonic()
            await self.enqueue(Update.de_json(accepted.payload, self.app.bot))
        if taken:
            log.warning("took up %d updates left by a stopped process: %s", len(taken),
                        [a.update_id for a in taken])
        if time.monotonic() - self._pruned_at >= PRUNE_EVERY:
            self._pruned_at = time.monotonic()
            pruned = await asyncio.to_thread(self.inbox.prune, now)
            if pruned:
                log.info("pruned %d handled updates from the inbox", pruned)
        return len(taken)

    async def close(self) -> None:
        """Mark done what finished before the stop (after a flush already under way)."""
        if self.inbox is None:
            return
        if self._flushing is not None:
            await asyncio.gather(self._flushing, return_exceptions=True)
        await self.flush()
        self._threads.shutdown(wait=True)
