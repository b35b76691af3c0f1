"""A burst of reminders all due in the same minute, delivered within Telegram's flood limits.

Full size: 10 000 reminders to 2 000 chats (200 groups, 1 800 private users), 5 per chat, due
at random seconds of one minute, in a temp SQLite database. Our path: ``scheduling.jobs.tick``
over the outbox (claim 500 at a time, round robin by chat, compose, send one by one through
``TelegramSender``, record) with the bot's rate limiter ``Pacer`` (its defaults, as
``bootstrap.build_bot`` installs it) on the Application; ``tick`` called back to back until
nothing is left, against the emulator with the limits enforced (30/s overall, 1/s per
private chat, 20/min per group). The Pacer is given a ``sleep`` that adds up the time it
spends asleep (the rest is work: database, HTTP, claiming).
Side by side in the same process: PTB's ``AIORateLimiter`` (max_retries=3; the stock 0 would
drop every message that gets a 429) sending the same 10 000 messages, all at once with
``asyncio.gather``, to a fresh emulator. The least time the limits allow is computed, and the
time the app would take is projected from the measured ticks: build_bot schedules the next
tick 30 s after the previous one ended (a tick itself claims batch after batch until fewer
than 500 are due, or a send is to be retried).

    .venv/bin/python bench/reminder_burst.py [--small | --scale K] [--by-chat] [--profile]

By default each row is due at a random second of the minute and ids are shuffled (claim_due
hands rows out in (due_at, id) order, which is the sending order). --by-chat puts every row at
the same second with each chat's rows on consecutive ids (tasks at round hours give equal due
times; ids follow creation order): the worst case for a sequential sender.

--small is --scale 0.1 (1 000 reminders to 200 chats, 20 of them groups; ~2 minutes in all);
the full size needs ~15 minutes (two runs of at least 332 s each).
"""

from __future__ import annotations

import argparse
import asyncio
import cProfile
import logging
import math
import pstats
import tempfile
import time
from collections import Counter
from dataclasses import dataclass, field
from datetime import datetime
from itertools import pairwise
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

from _common import (
    TOKEN,
    World,
    build_world,
    fresh_db,
    services_for,
    start_emulator,
    table,
    verdict,
)
from sqlalchemy import func, select
from telegram import InlineKeyboardMarkup
from telegram.ext import AIORateLimiter, ApplicationBuilder

from botapi_emulator import FloodLimits
from medlofte_bot.bootstrap import build_bot
from medlofte_bot.chat.ratelimit import Pacer
from medlofte_bot.chat.sender import TelegramSender
from medlofte_bot.scheduling.clock import ManualClock
from medlofte_bot.scheduling.jobs import tick
from medlofte_bot.storage import models as m
from medlofte_bot.storage.database import Database

NOW = datetime(2015, 6, 12, 18, 0, tzinfo=ZoneInfo("Europe/Stockholm"))
PER_CHAT = 5
JSON = dict[str, Any]  # a reply_markup as the emulator recorded it
STALL = 0.1  # s between two sends: three times the global gap, so the sender stood still
APP_TICK_INTERVAL = 30.0  # build_bot: min(real_seconds(60), 30) on the real clock


class SleepMeter:
    """The Pacer's ``sleep``: asyncio.sleep, adding up the time actually spent asleep."""

    def __init__(self) -> None:
        self.slept = 0.0
        self.calls = 0

    async def __call__(self, delay: float) -> None:
        """Sleep ``delay`` seconds and count them."""
        t0 = time.monotonic()
        try:
            await asyncio.sleep(delay)
        finally:
            self.slept += time.monotonic() - t0
            self.calls += 1


@dataclass
class Run:
    """What one side measured."""

    seconds: float
    delivered: int
    count_429: int
    failed: int = 0
    ticks: list[tuple[float, dict[str, int]]] = field(default_factory=list)
    slept: float = 0.0
    pacer_stats: dict[str, int] = field(default_factory=dict)
    #: seconds between consecutive sends (as the emulator stamped them) beyond the global gap
    stalls: list[float] = field(default_factory=list)
    messages: list[tuple[int, str, JSON | None]] = field(default_factory=list)


def lower_bound(world: World, limits: FloodLimits) -> tuple[float, str]:
    """The least seconds from first to last send that the token buckets allow; and which."""
    total = PER_CHAT * (len(world.private) + len(world.groups))
    bounds = {
        "global": (total - limits.global_burst) / limits.global_per_second,
        "private chat": (PER_CHAT - limits.private_burst) / limits.private_per_second
        if world.private else 0.0,
        "group": (PER_CHAT - limits.group_burst) / (limits.group_per_minute / 60.0)
        if world.groups else 0.0,
    }
    which = max(bounds, key=lambda k: bounds[k])
    return max(0.0, bounds[which]), which


def projected(ticks: list[tuple[float, dict[str, int]]], interval: float) -> float:
    """Seconds the same ticks take when each next tick starts ``interval`` s after the previous
    one ended (build_bot's on_tick: run_once again when done, never two at once)."""
    busy = [d for d, out in ticks if out]
    return sum(busy) + interval * max(0, len(busy) - 1)


async def run_ours(db: Database, world: World, max_seconds: float, profile: bool) -> Run:
    """Deliver every due reminder with tick + TelegramSender + Pacer; limits enforced."""
    runner, emu = start_emulator(True, world)
    meter = SleepMeter()
    clock = ManualClock(NOW)
    services = services_for(db, clock, emu.base_url, Pacer(sleep=meter))
    app = build_bot(services, tick_enabled=False)
    await app.initialize()
    sender = TelegramSender(app.bot)
    prof = cProfile.Profile() if profile else None
    try:
        t0 = time.monotonic()
        last_busy = t0
        ticks: list[tuple[float, dict[str, int]]] = []
        limit = 4 * math.ceil(len(world.reminder_ids) / 500) + 4
        if prof:
            prof.enable()
        while len(ticks) < limit and time.monotonic() - t0 < max_seconds:
            ts = time.monotonic()
            out = await tick(services.outbox, sender, clock)
            ticks.append((time.monotonic() - ts, out))
            if not out:
                break
            last_busy = time.monotonic()
        if prof:
            prof.disable()
        seconds = last_busy - t0
        sent = emu.all_sent()
        run = Run(seconds, len(sent), emu.count_429, ticks=ticks, slept=meter.slept)
        run.pacer_stats = dict(services.pacer.stats)
        run.messages = [(x.chat_id, x.text or "", x.reply_markup) for x in sent]
        stamps = sorted(x.sent_at for x in sent)
        run.stalls = [b - a for a, b in pairwise(stamps) if b - a > STALL]
        with db.transaction() as s:
            sent_rows = s.scalar(select(func.count(m.Reminder.id)).where(
                m.Reminder.state == "sent")) or 0
            run.failed = len(world.reminder_ids) - sent_rows
    finally:
        await app.shutdown()
        runner.stop()
    if prof:
        print("\nprofile of our run (event loop thread only; cumulative, top 25):")
        pstats.Stats(prof).sort_stats("cumulative").print_stats(25)
    return run


async def run_baseline(world: World, messages: list[tuple[int, str, JSON | None]],
                       max_seconds: float) -> Run:
    """PTB's AIORateLimiter sending the same messages all at once; limits enforced."""
    runner, emu = start_emulator(True, world)
    app = (ApplicationBuilder().token(TOKEN).base_url(emu.base_url).updater(None)
           .rate_limiter(AIORateLimiter(max_retries=3)).build())
    await app.initialize()
    try:
        bot = app.bot
        t0 = time.monotonic()
        calls = [bot.send_message(chat, text, reply_markup=InlineKeyboardMarkup.de_json(mk, bot)
                                  if mk else None) for chat, text, mk in messages]
        results = await asyncio.wait_for(asyncio.gather(*calls, return_exceptions=True),
                                         timeout=max_seconds)
        seconds = time.monotonic() - t0
        failed = sum(1 for r in results if isinstance(r, BaseException))
        return Run(seconds, len(emu.all_sent()), emu.count_429, failed=failed)
    finally:
        await app.shutdown()
        runner.stop()


async def main_async(scale: float, profile: bool, skip_baseline: bool, by_chat: bool) -> None:
    """Build the load, run both sides and print the table."""
    n_chats = max(1, round(2000 * scale))
    n_groups = round(200 * scale)
    limits = FloodLimits()
    with tempfile.TemporaryDirectory(prefix="bench-burst-") as tmp:
        db = fresh_db(Path(tmp))
        t_setup = time.monotonic()
        world = build_world(db, NOW, n_chats - n_groups, n_groups, PER_CHAT,
                            shuffle_ids=not by_chat, same_due=by_chat)
        setup = time.monotonic() - t_setup
        total = len(world.reminder_ids)
        bound, which = lower_bound(world, limits)
        cap = 3 * bound + 120
        print(f"scale {scale:g}: {total} reminders to {n_chats} chats "
              f"({n_groups} groups, {n_chats - n_groups} private), {PER_CHAT} per chat, "
              f"{'one due second, ids by chat' if by_chat else 'random due seconds'}; "
              f"setup {setup:.1f} s", flush=True)
        try:
            ours = await run_ours(db, world, cap, profile)
        finally:
            db.dispose()
        print(f"ours done in {ours.seconds:.1f} s", flush=True)
        base = None if skip_baseline else await run_baseline(world, ours.messages, cap)
    outcomes: Counter[str] = Counter()
    for _, out in ours.ticks:
        outcomes.update(out)
    busy = [d for d, out in ours.ticks if out]
    proj = projected(ours.ticks, APP_TICK_INTERVAL)

    def b(text: str) -> str:
        return text if base is not None else "-"

    ratio = ours.seconds / bound if bound else float("nan")
    rows = [
        ("reminders delivered", f"{ours.delivered} of {total}", f"{total}",
         b(f"{base.delivered} ({base.failed} gave up)" if base else "")),
        ("time to deliver all", f"{ours.seconds:.1f} s", "", b(f"{base.seconds:.1f} s" if base
                                                                else "")),
        (f"least time the limits allow ({which})", f"{bound:.1f} s", "", b(f"{bound:.1f} s")),
        ("ratio to the least time", f"{ratio:.2f}", f"<= 1.10 {verdict(ratio <= 1.10)}",
         b(f"{base.seconds / bound:.2f}" if base and bound else "")),
        ("429 answers (emulator)", f"{ours.count_429}", f"0 {verdict(ours.count_429 == 0)}",
         b(f"{base.count_429}" if base else "")),
        ("ticks that sent (500 claimed at a time)", f"{len(busy)}", "", ""),
        ("time asleep in Pacer", f"{ours.slept:.1f} s", "", ""),
        ("work (DB, HTTP, claim) outside Pacer", f"{ours.seconds - ours.slept:.1f} s", "", ""),
        (f"stalls: gaps > {STALL:g} s between sends", f"{len(ours.stalls)}, "
         f"{sum(ours.stalls):.1f} s in all", "", ""),
        (f"projected with the app's {APP_TICK_INTERVAL:.0f} s tick", f"{proj:.1f} s "
         f"(ratio {proj / bound:.2f})" if bound else f"{proj:.1f} s", "<= 1.10", ""),
    ]
    print()
    print(table(rows, ("figure", "ours (tick+Pacer)", "goal",
                       "baseline: AIORateLimiter(max_retries=3)")))
    print(f"outcomes: {dict(outcomes)}; per tick: "
          + ", ".join(f"{d:.1f}s" for d in busy))
    print(f"Pacer stats: {ours.pacer_stats}")


def main() -> None:
    """Parse the options and run."""
    parser = argparse.ArgumentParser()
    parser.add_argument("--scale", type=float, default=1.0,
                        help="fraction of the full load (1.0 = 10 000 reminders, 2 000 chats)")
    parser.add_argument("--small", action="store_true", help="same as --scale 0.1")
    parser.add_argument("--profile", action="store_true", help="cProfile our side (slower)")
    parser.add_argument("--no-baseline", action="store_true")
    parser.add_argument("--by-chat", action="store_true",
                        help="one due second, each chat's rows on consecutive ids (worst case)")
    args = parser.parse_args()
    logging.basicConfig(level=logging.WARNING)
    logging.getLogger("telegram.ext.AIORateLimiter").setLevel(logging.CRITICAL)
    asyncio.run(main_async(0.1 if args.small else args.scale, args.profile, args.no_baseline,
                           args.by_chat))


if __name__ == "__main__":
    main()
