"""Hostile input at length: the suite of tests/hostile (issue 8) with 10 000 updates or more.

The same seeded generator, world and oracle as ``make test`` (tests/hostile): unicode and long
text, commands with malformed arguments, forged callbacks of every format, replies to other
people's messages, edits, groups and a channel, repeated updates, double presses, invites
guessed, reused and raced, floods; each step through the real bot (``e2e.conftest.start_bot``:
the PTB Application polling the emulator on loopback) and judged by the oracle after it. Prints
the counts per family, then the oracle's verdict per check, then the violations grouped with
examples. Exit code 1 when the oracle found anything.

    .venv/bin/python bench/fuzz.py [--updates 10000] [--seed 2015] [--db sqlite|postgresql]
"""

from __future__ import annotations

import argparse
import asyncio
import logging
import os
import sys
import tempfile
from collections import Counter
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from _common import ROOT, table, verdict

sys.path.insert(0, str(ROOT / "tests"))
from e2e.conftest import stop_bot
from hostile.generator import FAMILIES
from hostile.runner import Report, Runner
from hostile.world import make_world

CHECKS = ("change", "leak", "exception", "generic_error", "watch", "edit", "repeat", "flood",
          "reply", "invites", "timeout")


@contextmanager
def database_url(kind: str) -> Iterator[str | None]:
    """None (a SQLite file in the world's folder) or an empty database on a throwaway PostgreSQL."""
    if kind != "postgresql":
        yield None
        return
    from pgserver import PostgresServer

    server = PostgresServer().start()
    try:
        yield server.create_database("bench_fuzz")
    finally:
        server.stop()


async def play(updates: int, seed: int, kind: str) -> Report:
    """Start the world and run the steps."""
    with tempfile.TemporaryDirectory(prefix="bench-fuzz-") as tmp, \
            database_url(kind) as url:
        world = await make_world(Path(tmp), url)
        try:
            return await Runner(world, seed).run(updates)
        finally:
            await stop_bot(world.bot)


def print_report(report: Report, updates: int, seed: int, kind: str) -> None:
    """The counts per family and the oracle's verdict."""
    found = Counter(v.family for v in report.violations)
    rows = [(family, str(report.steps[family]), str(report.updates[family]), str(found[family]))
            for family in (*FAMILIES, "tick")]
    rows.append(("watch (the legitimate officer's /mina)", str(report.watches),
                 str(report.updates["watch"]), str(found["watch"])))
    rows.append(("all", str(sum(report.steps.values())), str(report.total_updates),
                 str(len(report.violations))))
    print(f"hostile input: seed {seed}, {kind}, {report.seconds:.1f} s "
          f"({report.total_updates / report.seconds:.0f} updates/s), slowest /mina answer "
          f"{report.slowest_watch:.2f} s, {report.unsignalled} updates dropped before a handler")
    print()
    print(table(rows, ("family", "steps", "updates", "violations")))
    by_check = Counter(v.check for v in report.violations)
    print()
    print(table([(check, str(by_check[check]), "0", verdict(not by_check[check]))
                 for check in CHECKS], ("check", "violations", "goal", "verdict")))
    print()
    print(f"updates: {report.total_updates} (goal {updates}): "
          f"{verdict(report.total_updates >= updates)}")
    if report.violations:
        print()
        print(report.summary())


def main() -> None:
    """Parse the options and run."""
    parser = argparse.ArgumentParser()
    parser.add_argument("--updates", type=int, default=10_000)
    parser.add_argument("--seed", type=int, default=2015)
    parser.add_argument("--db", choices=("sqlite", "postgresql"), default="sqlite",
                        help="the bot's database: a temp SQLite file (default) or a throwaway "
                             "PostgreSQL server (tests/pgserver.py)")
    args = parser.parse_args()
    logging.getLogger().addHandler(logging.NullHandler())  # quiet: the oracle reads the errors
    os.environ.setdefault("PTB_TIMEDELTA", "true")
    report = asyncio.run(play(args.updates, args.seed, args.db))
    print_report(report, args.updates, args.seed, args.db)
    sys.exit(1 if report.violations else 0)


if __name__ == "__main__":
    main()
