"""Updates from different people are handled side by side; one person's in the order sent.

PTB handles updates one at a time by default: one officer's confirmation waiting on a
locked database would hold up everyone else's answers. This processor runs up to
``max_concurrent_updates`` at once, with one lock per person (or chat, for updates
without a user) so a person's own updates never overtake each other.

Side by side is for updates that wait (a paced send, a locked database), not for updates
that work: the event loop and the database threads share one interpreter lock, and eight
updates working at once cost more CPU each than the same eight one after another (HTTP
connections to scan, threads taking the lock from each other). So one update at a time
has the floor: the next starts when it is done, or once it has run ``STALL`` seconds,
whichever comes first (see Ramp). A burst is handled one by one at full speed; an update
stuck on something slow holds nobody up for more than ``STALL``.

Before that, a gate drops what must not run: an update Telegram delivers a second time,
and a person who floods the bot (told once, then ignored for a while).
"""

from __future__ import annotations

import asyncio
import inspect
import logging
import time
from collections import deque
from collections.abc import Awaitable, Callable
from enum import Enum
from typing import Any

from telegram import Update
from telegram.ext import BaseUpdateProcessor

MAX_CONCURRENT = 8  # measured: more only adds HTTP connections to scan and threads to wait for
STALL = 0.02  # seconds an update runs alone before the next one may start beside it
FLOOD_COUNT = 20  # a person may send this many updates ...
FLOOD_WINDOW = 10.0  # ... in this many seconds; one more and ...
FLOOD_PAUSE = 60.0  # ... they are told once ("a minute": texts "flooding") and ignored
SEEN_MAX = 10_000  # update ids remembered: far more than one getUpdates batch or retry

log = logging.getLogger(__name__)


class Verdict(Enum):
    """What to do with an update."""

    RUN = "run"
    DUPLICATE = "duplicate"  # seen before: nothing changes, nothing is said
    FLOODING = "flooding"  # one too many: tell the person once
    PAUSED = "paused"  # ignored until the pause is over


class UpdateGate:
    """Remembers recent update ids and each person's recent updates; no I/O, so a test
    drives it with a fake ``monotonic`` clock.

    The ids live only in memory: the fast path. In webhook mode the update inbox
    (services/inbox.py) records every update id in the database, so a resend to this
    process or another never runs an update twice.
    """

    def __init__(self, monotonic: Callable[[], float] = time.monotonic, *,
                 count: int = FLOOD_COUNT, window: float = FLOOD_WINDOW,
                 pause: float = FLOOD_PAUSE, remember: int = SEEN_MAX) -> None:
        self._monotonic = monotonic
        self._count, self._window, self._pause = count, window, pause
        self._seen: set[int] = set()
        self._seen_order: deque[int] = deque(maxlen=remember)
        self._recent: dict[int, deque[float]] = {}  # person -> their last `count` arrivals
        self._paused: dict[int, float] = {}  # person -> end of the pause
        self._sweep_at = 0.0

    def admit(self, update_id: int | None, person: int | None) -> Verdict:
        """Whether the update runs; counts it against the person's rate."""
        if update_id is not None:
            if update_id in self._seen:
                return Verdict.DUPLICATE
            if len(self._seen_order) == self._seen_order.maxlen:
                self._seen.discard(self._seen_order[0])
            self._seen_order.append(update_id)
            self._seen.add(update_id)
        if person is None:
            return Verdict.RUN
        now = self._monotonic()
        if now >= self._sweep_at:
            self._sweep(now)
        until = self._paused.get(person)
        if until is not None:
            if now < until:
                return Verdict.PAUSED
            del self._paused[person]
        arrivals = self._recent.get(person)
        if arrivals is None:
            arrivals = self._recent[person] = deque(maxlen=self._count)
        if len(arrivals) == self._count and now - arrivals[0] < self._window:
            self._paused[person] = now + self._pause
            del self._recent[person]
            return Verdict.FLOODING
        arrivals.append(now)
        return Verdict.RUN

    def tracked(self) -> int:
        """How many people the gate keeps a rate or a pause for."""
        return len(self._recent) + len(self._paused)

    def _sweep(self, now: float) -> None:
        """Forget people quiet for a window (and ended pauses): memory follows who is active."""
        self._recent = {p: a for p, a in self._recent.items() if now - a[-1] < self._window}
        self._paused = {p: until for p, until in self._paused.items() if now < until}
        self._sweep_at = now + self._window


def _key(update: object) -> int | None:
    if not isinstance(update, Update):
        return None
    if update.effective_user is not None:
        return update.effective_user.id
    return update.effective_chat.id if update.effective_chat is not None else None


class Ramp:
    """The floor, held by one running update at a time for at most ``stall`` seconds: it
    is passed on (first come, first served) when that update finishes or has run
    ``stall``, whichever is first. An update past its ``stall`` runs on beside the next."""

    def __init__(self, stall: float = STALL) -> None:
        self.stall = stall
        self._lock = asyncio.Lock()

    async def run(self, work: Awaitable[Any]) -> None:
        """Await ``work`` once it has the floor."""
        await self._lock.acquire()
        passed = False

        def pass_on() -> None:
            nonlocal passed
            if not passed:
                passed = True
                self._lock.release()

        timer = asyncio.get_running_loop().call_later(self.stall, pass_on)
        try:
            await work
        finally:
            timer.cancel()
            pass_on()


# told when an update is dealt with: the update, what the gate said, and the monotonic
# instant its processing began (the webhook's inbox marks it done; metrics count it)
Finished = Callable[[object, Verdict, float], None]


class PerPersonUpdates(BaseUpdateProcessor):
    """Concurrent across people, sequential per person; duplicates and floods dropped."""

    def __init__(self, max_concurrent_updates: int = MAX_CONCURRENT, *,
                 gate: UpdateGate | None = None,
                 on_flood: Callable[[Update], Awaitable[None]] | None = None,
                 on_finished: Finished | None = None, stall: float = STALL) -> None:
        super().__init__(max_concurrent_updates)
        self._ramp = Ramp(stall)
        self._gate = gate or UpdateGate()
        self._on_flood = on_flood
        self._on_finished = on_finished
        self._locks: dict[int, asyncio.Lock] = {}
        self._waiting: dict[int, int] = {}

    async def do_process_update(self, update: object, coroutine: Awaitable[Any]) -> None:
        """Run the handlers for ``update`` after that person's earlier updates; then (not
        when cancelled or failed) tell ``on_finished``."""
        began = time.monotonic()
        verdict = await self._process(update, coroutine)
        if self._on_finished is not None:
            self._on_finished(update, verdict, began)

    async def _process(self, update: object, coroutine: Awaitable[Any]) -> Verdict:
        key = _key(update)
        update_id = update.update_id if isinstance(update, Update) else None
        verdict = self._gate.admit(update_id, key)
        work: Awaitable[Any] | None = coroutine
        if verdict is not Verdict.RUN:
            if inspect.iscoroutine(coroutine):
                coroutine.close()  # never run, on purpose
            log.debug("update %s from %s dropped: %s", update_id, key, verdict.value)
            work = None
            if verdict is Verdict.FLOODING and isinstance(update, Update) and self._on_flood:
                work = self._on_flood(update)
        if work is None:
            return verdict
        if key is None:
            await self._ramp.run(work)
            return verdict
        lock = self._locks.setdefault(key, asyncio.Lock())
        self._waiting[key] = self._waiting.get(key, 0) + 1
        try:
            async with lock:  # the flood notice, too, comes after the answers already due
                await self._ramp.run(work)  # after the person's turn: a queued update of
                #                             theirs holds nobody else up
        finally:
            self._waiting[key] -= 1
            if not self._waiting[key]:  # forget people with nothing queued
                del self._waiting[key]
                self._locks.pop(key, None)
        return verdict

    async def initialize(self) -> None:
        """Nothing to set up."""

    async def shutdown(self) -> None:
        """Nothing to tear down."""
