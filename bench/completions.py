"""Confirmations: members reply "klar" to a reminder of their own task, through the real bot.

500 officers (each alone in a team) have four pending tasks; one tick (``scheduling.jobs.tick``
over the outbox, sending through ``TelegramSender``) delivers the four reminders to each
(limits off, and the bot's Pacer with every gap off: this measures handling, not pacing). Then
every officer replies "klar" to the first reminder, all at once (full speed), then to the
second and the third, and last to the fourth, paced at 50 replies/s. The replies are sent from
the emulator's own thread, each stamped when sent; the latency of a reply runs to the bot's
"✅ Uppgift N är registrerad …" message as the emulator recorded it. The rate counts replies
fully handled (a TypeHandler in group 1 runs after the handler); the CPU per reply is this
process's CPU time over the round (the bot's threads and the emulator's) divided by the
replies. Our bot is ``bootstrap.build_bot`` (tick off) over the services wired as ``prepare``
wires them, with no promise set applied (the synthetic area of ``_common.build_world``); it
polls like bot.py (timeout 10 s) and handles updates from different people side by side
(PerPersonUpdates), its use cases in worker threads.

The baseline, in the same process at the same time on an emulator of its own: a bare PTB echo
bot (one MessageHandler sending the text back, PTB's default sequential update processing),
whose users reply to its own earlier messages the same way. The two bots' full-speed rounds
alternate (ours, echo; echo, ours; ours, echo): this shared machine's speed drifts by up to
half within a minute, and a drift between one bot's round and the other's would show up as a
difference between the bots. Each pair gives a ratio; the table shows the median and each.

Before each round, what is alive is frozen for the garbage collector (as bot.py does once
wired, ``bootstrap.freeze_startup_objects``): the two emulators in this process keep every
request and message they saw, which in production live at Telegram, not in the bot's heap.
Left in sight, they made each full collection walk them, 35-80 ms a pause by the paced round,
a pause our bot's answers waited out (max latency at 50/s about 100 ms).

    .venv/bin/python bench/completions.py [--small] [--members 500] [--rate 50]
                                          [--db sqlite|postgresql] [--profile [wall|cpu]]
                                          [--workers N] [--rounds 3]

``--db postgresql`` runs our bot on a throwaway PostgreSQL server (tests/pgserver.py: a temp
data dir, fsync off; or the server MEDLOFTE_TEST_PG_URL names) instead of a temp SQLite file.
``--profile`` profiles our bot during its first full-speed round: the event loop's thread and
every worker thread the use cases run in (asyncio.to_thread), merged; on wall time (a thread
waiting on SQLite's write lock counts) or, with ``--profile cpu``, on each thread's CPU time.
``--workers N`` sizes the thread pool asyncio.to_thread uses (a diagnostic). ``--rounds N``:
full-speed rounds per bot.

Goals: at least half the echo bot's rate at full speed (the median pair); p99 under 50 ms at
50 replies/s.
"""

from __future__ import annotations

import argparse
import asyncio
import cProfile
import logging
import pstats
import sys
import tempfile
import threading
import time
from collections.abc import AsyncIterator, Callable, Iterator
from concurrent.futures import Future, ThreadPoolExecutor
from contextlib import asynccontextmanager, contextmanager
from dataclasses import dataclass
from datetime import datetime
from statistics import median
from typing import Any, TypeVar
from zoneinfo import ZoneInfo

from _common import (
    ROOT,
    TOKEN,
    build_world,
    fresh_db,
    percentile,
    services_for,
    start_emulator,
    table,
    unpaced,
    verdict,
)
from sqlalchemy import func, select
from telegram import Update
from telegram.ext import Application, ContextTypes, MessageHandler, TypeHandler, filters

from botapi_emulator import BotApiEmulator, EmulatorThread, SentMessage
from medlofte_bot.bootstrap import DB_THREADS, build_bot, freeze_startup_objects
from medlofte_bot.chat.sender import TelegramSender
from medlofte_bot.scheduling.clock import ManualClock
from medlofte_bot.scheduling.jobs import tick
from medlofte_bot.storage import models as m

NOW = datetime(2015, 6, 12, 18, 0, tzinfo=ZoneInfo("Europe/Stockholm"))
WAIT_LIMIT = 180.0  # seconds a round may take before the benchmark gives up
ROUNDS = 3  # full-speed rounds per bot, the two bots' rounds alternating


@dataclass
class Round:
    """One round of replies: rate and latencies (ms)."""

    handled: int
    seconds: float
    latencies: list[float]
    cpu: float  # seconds of this process's CPU time (bot and emulator) during the round

    @property
    def rate(self) -> float:
        """Replies handled per second, first send to last handled."""
        return self.handled / self.seconds if self.seconds else 0.0


class Counter:
    """Counts handled updates (a TypeHandler in group 1) and wakes a waiter at a target."""

    def __init__(self) -> None:
        self.count = 0
        self.target = 0
        self.done = asyncio.Event()
        self.last = 0.0

    async def __call__(self, _update: Update, _context: ContextTypes.DEFAULT_TYPE) -> None:
        """PTB's callback signature; only the count matters."""
        self.count += 1
        self.last = time.monotonic()
        if self.count >= self.target:
            self.done.set()


async def pump(emu: BotApiEmulator, replies: list[tuple[int, int]], rate: float | None
               ) -> list[tuple[int, float, int]]:
    """Send "klar" as a reply to (chat, message id), at ``rate`` per second or all at once;
    runs in the emulator's loop; returns (chat, monotonic send time, user message id)."""
    out = []
    t0 = time.monotonic()
    for i, (chat, message_id) in enumerate(replies):
        if rate:
            delay = t0 + i / rate - time.monotonic()
            if delay > 0:
                await asyncio.sleep(delay)
        sent_at = time.monotonic()
        action = await emu.send_text(chat, "klar", reply_to=message_id)
        out.append((chat, sent_at, action.message_id))
    return out


async def run_round(runner: EmulatorThread, emu: BotApiEmulator, counter: Counter,
                    replies: list[tuple[int, int]], rate: float | None,
                    is_answer: Callable[[SentMessage], bool]) -> Round:
    """Send one round of replies and wait until the bot has handled each."""
    cursor = len(emu.all_sent())
    counter.target = counter.count + len(replies)
    counter.done.clear()
    cpu = time.process_time()
    sends = await runner.acall(pump(emu, replies, rate))
    await asyncio.wait_for(counter.done.wait(), WAIT_LIMIT)
    cpu = time.process_time() - cpu
    first = {}
    for msg in emu.all_sent()[cursor:]:
        if msg.chat_id not in first and is_answer(msg):
            first[msg.chat_id] = msg
    latencies = [(first[chat].sent_at - t) * 1000 for chat, t, _ in sends if chat in first]
    return Round(len(replies), counter.last - sends[0][1], latencies, cpu)


def ours_answer(msg: SentMessage) -> bool:
    """The bot's confirmation: "✅ Uppgift N är registrerad som genomförd av …"."""
    return (msg.text or "").startswith("✅") and "registrerad" in (msg.text or "")


@asynccontextmanager
async def polling(app: Application, counter: Counter) -> AsyncIterator[None]:  # type: ignore[type-arg]
    """The application polling the emulator, counting handled updates; stopped afterwards."""
    app.add_handler(TypeHandler(Update, counter), group=1)
    try:
        await app.initialize()
        await app.start()
        assert app.updater is not None
        await app.updater.start_polling(poll_interval=0.0, timeout=10)
        yield
    finally:
        if app.updater is not None and app.updater.running:
            await app.updater.stop()
        if app.running:
            await app.stop()
        await app.shutdown()


T = TypeVar("T")


class ProfiledThreads(ThreadPoolExecutor):
    """The loop's default executor (what asyncio.to_thread uses), profiling each call while
    ``on``: cProfile sees only the thread that enables it, and the use cases run here."""

    def __init__(self, max_workers: int | None = None,
                 timer: Callable[[], float] | None = None) -> None:
        super().__init__(max_workers, thread_name_prefix="bench-worker")
        self.timer = timer
        self.on = False
        self.profiles: list[cProfile.Profile] = []
        self._local = threading.local()
        self._lock = threading.Lock()

    def submit(self, fn: Callable[..., T], /, *args: Any, **kwargs: Any) -> Future[T]:
        """Run ``fn`` as ThreadPoolExecutor does, under this thread's profiler when on."""
        if not self.on:
            return super().submit(fn, *args, **kwargs)

        def profiled() -> T:
            prof: cProfile.Profile | None = getattr(self._local, "prof", None)
            if prof is None:
                prof = self._local.prof = new_profile(self.timer)
                with self._lock:
                    self.profiles.append(prof)
            prof.enable()
            try:
                return fn(*args, **kwargs)
            finally:
                prof.disable()

        return super().submit(profiled)


def new_profile(timer: Callable[[], float] | None) -> cProfile.Profile:
    """A profiler on wall time (cProfile's own clock) or on ``timer``."""
    return cProfile.Profile() if timer is None else cProfile.Profile(timer)


@contextmanager
def postgres_url(name: str) -> Iterator[str]:
    """An empty database on a throwaway PostgreSQL server (tests/pgserver.py)."""
    sys.path.insert(0, str(ROOT / "tests"))
    from pgserver import PostgresServer

    server = PostgresServer().start()
    try:
        yield server.create_database(name)
    finally:
        server.stop()


@contextmanager
def database_url(kind: str) -> Iterator[str]:
    """A URL for our bot's database: a temp SQLite file or a fresh PostgreSQL database."""
    if kind == "postgresql":
        with postgres_url("bench_completions") as url:
            yield url
    else:
        with tempfile.TemporaryDirectory(prefix="bench-done-") as tmp:
            yield f"sqlite:///{tmp}/bench.db"


@dataclass
class Contender:
    """A bot polling its own emulator, with the messages its members reply to, round by
    round (the last list is the paced round's)."""

    runner: EmulatorThread
    emu: BotApiEmulator
    counter: Counter
    targets: list[dict[int, int]]  # per round: chat -> id of the bot's message replied to
    is_answer: Callable[[SentMessage], bool]

    async def round(self, k: int, rate: float | None) -> Round:
        """Round ``k``: every member replies to their k-th message, at ``rate`` or at once;
        first, what the rounds so far left alive is frozen (see the module's docstring)."""
        freeze_startup_objects()
        return await run_round(self.runner, self.emu, self.counter,
                               list(self.targets[k].items()), rate, self.is_answer)


@asynccontextmanager
async def our_bot(n: int, rounds: int, db_kind: str, threads: ThreadPoolExecutor
                  ) -> AsyncIterator[tuple[Contender, Callable[[], int]]]:
    """Our bot polling, each member with ``rounds`` reminders delivered by one tick; yields
    it and a count of the completions stored."""
    clock = ManualClock(NOW)
    asyncio.get_running_loop().set_default_executor(threads)
    with database_url(db_kind) as url:
        db = fresh_db(url=url)
        try:
            world = build_world(db, NOW, n, 0, per_chat=rounds, tasks_per_chat=rounds)
            runner, emu = start_emulator(False, world)
            services = services_for(db, clock, emu.base_url, unpaced())
            app = build_bot(services, tick_enabled=False)
            counter = Counter()
            try:
                async with polling(app, counter):
                    sender = TelegramSender(app.bot)
                    while await tick(services.outbox, sender, clock):
                        pass
                    with db.transaction() as s:
                        sent = {(r.member_id, r.task_id): r.message_id or 0 for r in s.scalars(
                            select(m.Reminder).where(m.Reminder.state == "sent"))
                            if r.member_id is not None and r.task_id is not None}
                    targets: list[dict[int, int]] = [{} for _ in range(rounds)]
                    for chat in world.private:
                        member = chat - world.private[0] + 1
                        tasks = sorted(t for (mid, t) in sent if mid == member)
                        for k, task in enumerate(tasks):
                            targets[k][chat] = sent[(member, task)]

                    def stored() -> int:
                        with db.transaction() as s:
                            return s.scalar(select(func.count(m.Completion.id))) or 0

                    yield Contender(runner, emu, counter, targets, ours_answer), stored
            finally:
                runner.stop()
        finally:
            db.dispose()


@asynccontextmanager
async def echo_bot(n: int, rounds: int) -> AsyncIterator[Contender]:
    """A bare PTB echo bot polling, each of the same number of users with ``rounds`` of its
    messages to reply to."""
    private = list(range(100_000, 100_000 + n))
    runner, emu = start_emulator(False)
    runner.call(_add_users(emu, private))

    async def echo(update: Update, _context: ContextTypes.DEFAULT_TYPE) -> None:
        if update.effective_chat and update.effective_message:
            await update.effective_chat.send_message(update.effective_message.text or "")

    def is_answer(msg: SentMessage) -> bool:
        return msg.text == "klar"

    app = Application.builder().token(TOKEN).base_url(emu.base_url).build()
    app.add_handler(MessageHandler(filters.TEXT & ~filters.COMMAND, echo))
    counter = Counter()
    try:
        async with polling(app, counter):
            targets: list[dict[int, int]] = [{} for _ in range(rounds)]
            for k in range(rounds):
                text = "Om två timmar: …" if k % 2 == 0 else "I morgon: …"
                for chat in private:
                    targets[k][chat] = (await app.bot.send_message(chat, text)).message_id
            yield Contender(runner, emu, counter, targets, is_answer)
    finally:
        runner.stop()


async def _add_users(emu: BotApiEmulator, ids: list[int]) -> None:
    for uid in ids:
        await emu.add_user(uid, f"Polis{uid}")


def _ms(values: list[float], q: float) -> str:
    return f"{percentile(values, q):.1f} ms"


def _spread(values: list[float], fmt: str) -> str:
    """The median, and every value in the order measured: '212/s (205/s, 212/s, 230/s)'."""
    return f"{fmt.format(median(values))} ({', '.join(fmt.format(v) for v in values)})"


def print_profile(prof: cProfile.Profile, threads: ProfiledThreads, db_kind: str,
                  cpu: bool) -> None:
    """Our bot's profile: the event loop's thread and the worker threads merged."""
    clock_name = "CPU time per thread" if cpu else "wall time, waits included"
    print(f"\nprofile of our bot during its first full-speed round ({db_kind}; {clock_name}; "
          f"the event loop's thread and {len(threads.profiles)} worker threads merged; "
          "cumulative, top 30 of ours and of SQLAlchemy's execute/commit):")
    stats = pstats.Stats(prof)
    for worker in threads.profiles:
        stats.add(worker)
    stats.sort_stats("cumulative")
    stats.print_stats("medlofte_bot", 30)
    stats.print_stats(r"sqlalchemy/orm/session.py.*\((execute|commit|flush|get)\)", 5)
    stats.sort_stats("tottime").print_stats(15)


async def main_async(n: int, rate: float, profile: str | None, db_kind: str,
                     workers: int | None, rounds: int = ROUNDS) -> None:
    """Run both bots, their full-speed rounds alternating, and print the table."""
    print(f"{n} members reply \"klar\" to a reminder of their own task; limits off; "
          f"our bot on {db_kind}" + (f", {workers} worker thread(s)" if workers else "")
          + f"; {rounds} full-speed rounds each, alternating", flush=True)
    timer = time.thread_time if profile == "cpu" else None
    threads = ProfiledThreads(workers, timer)
    prof = new_profile(timer) if profile else None
    full: list[Round] = []
    e_full: list[Round] = []
    async with our_bot(n, rounds + 1, db_kind, threads) as (ours, stored), \
            echo_bot(n, rounds + 1) as echo:
        for k in range(rounds):  # ours, echo; echo, ours; ...: both see the machine alike
            for bot in (ours, echo) if k % 2 == 0 else (echo, ours):
                watched = prof if bot is ours and k == 0 else None
                if watched is not None:
                    threads.on = True
                    watched.enable()
                result = await bot.round(k, None)
                if watched is not None:
                    watched.disable()
                    threads.on = False
                (full if bot is ours else e_full).append(result)
        paced = await ours.round(rounds, rate)
        e_paced = await echo.round(rounds, rate)
        done = stored()
    if prof is not None:
        print_profile(prof, threads, db_kind, timer is not None)
    ratios = [o.rate / e.rate for o, e in zip(full, e_full, strict=True)]
    half = median(ratios) >= 0.5
    p99 = percentile(paced.latencies, 99)
    lat = [x for r in full for x in r.latencies]
    e_lat = [x for r in e_full for x in r.latencies]
    answered = sum(len(r.latencies) for r in [*full, paced])
    rows = [
        ("full speed: replies handled/s, median (rounds)",
         _spread([r.rate for r in full], "{:.0f}/s"), "",
         _spread([r.rate for r in e_full], "{:.0f}/s")),
        ("full speed: ratio to echo, median (pairs)", _spread(ratios, "{:.2f}"),
         f">= 0.50 {verdict(half)}", "1.00"),
        ("full speed: CPU per reply (bot and emulator)",
         _spread([1000 * r.cpu / r.handled for r in full], "{:.1f} ms"), "",
         _spread([1000 * r.cpu / r.handled for r in e_full], "{:.1f} ms")),
        ("full speed: p50 / p99 latency", f"{_ms(lat, 50)} / {_ms(lat, 99)}", "",
         f"{_ms(e_lat, 50)} / {_ms(e_lat, 99)}"),
        (f"paced {rate:g}/s: achieved rate", f"{paced.rate:.1f}/s", "", f"{e_paced.rate:.1f}/s"),
        (f"paced {rate:g}/s: p50 latency", _ms(paced.latencies, 50), "",
         _ms(e_paced.latencies, 50)),
        (f"paced {rate:g}/s: p99 latency", _ms(paced.latencies, 99),
         f"< 50 ms {verdict(p99 < 50)}", _ms(e_paced.latencies, 99)),
        (f"paced {rate:g}/s: max latency", _ms(paced.latencies, 100), "",
         _ms(e_paced.latencies, 100)),
        ("confirmations answered / stored",
         f"{answered} / {done} of {(rounds + 1) * n}", f"{(rounds + 1) * n}",
         f"{sum(len(r.latencies) for r in [*e_full, e_paced])}"),
    ]
    print()
    print(table(rows, ("figure", "ours", "goal", "baseline: PTB echo bot")))


def main() -> None:
    """Parse the options and run."""
    parser = argparse.ArgumentParser()
    parser.add_argument("--members", type=int, default=500)
    parser.add_argument("--small", action="store_true", help="100 members")
    parser.add_argument("--rate", type=float, default=50.0, help="paced replies per second")
    parser.add_argument("--db", choices=("sqlite", "postgresql"), default="sqlite",
                        help="our bot's database: a temp SQLite file (default) or a throwaway "
                             "PostgreSQL server (tests/pgserver.py)")
    parser.add_argument("--profile", nargs="?", const="wall", choices=("wall", "cpu"),
                        help="cProfile our bot (loop and worker threads) in the full-speed "
                             "round: on wall time (the default; waits on locks included) or "
                             "on each thread's CPU time")
    parser.add_argument("--rounds", type=int, default=ROUNDS,
                        help="full-speed rounds per bot, alternating (default %(default)s)")
    parser.add_argument("--workers", type=int, default=DB_THREADS,
                        help="threads for database work (default: bot.py's, "
                             "bootstrap.DB_THREADS)")
    args = parser.parse_args()
    logging.basicConfig(level=logging.WARNING)
    asyncio.run(main_async(100 if args.small else args.members, args.rate, args.profile,
                           args.db, args.workers, args.rounds))


if __name__ == "__main__":
    main()
