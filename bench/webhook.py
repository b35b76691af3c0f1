"""Webhook throughput: one and three `python bot.py` processes on one PostgreSQL, beside the
same bot long-polling, in one run.

N officers (each alone in a team, with one task under way) each send three updates at once:
"/klar N" (a confirmation: a write), "/hjalp" and "/status" (reads). Every configuration runs
real child processes (``python bot.py``, as in production) on a fresh database of one
throwaway PostgreSQL server (tests/pgserver.py: a temp data dir, fsync off; or the server
MEDLOFTE_TEST_PG_URL names), against the emulator in this process with Telegram's limits
off (and the bot's overall pacing off, MEDLOFTE_SEND_RATE=0; each chat still gets one
message a second). In webhook mode the emulator POSTs every update to the processes in turn,
as a load balancer would (``set_webhook_targets``), at most 40 at once as Telegram does;
the polling bot asks for them with getUpdates. The rate counts updates answered, from the
first queued to the last answer the emulator recorded.

    .venv/bin/python bench/webhook.py [--small] [--officers 400] [--runs 1]

Goal: three webhook processes handle at least twice what one does. The baseline beside it is
the polling bot (one process: long polling serves one process per token).
"""

from __future__ import annotations

import argparse
import os
import socket
import statistics
import sys
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

from _common import ROOT, table, verdict

from botapi_emulator import BotApiEmulator, EmulatorThread, WebhookPolicy
from medlofte_bot.bootstrap import prepare
from medlofte_bot.scheduling.clock import ManualClock
from medlofte_bot.settings import Settings
from medlofte_bot.storage import models as m

sys.path.insert(0, str(ROOT / "tests"))
sys.path.insert(0, str(ROOT / "tests" / "e2e"))
from botproc import BotProcess
from pgserver import PostgresServer
from seeding import provby_bar_inspections

TOKEN = "818181:BENCH-WEBHOOK"
SECRET = "bench-webhook-secret"
CONFIG = ROOT / "config" / "arvidsjaur-2015.toml"
T0 = datetime(2015, 1, 2, 9, 0, tzinfo=ZoneInfo("Europe/Stockholm"))
FIRST = 500_001
WAIT_LIMIT = 300.0


@dataclass
class Run:
    """One configuration's result."""

    name: str
    processes: int
    updates: int
    seconds: float
    bot_cpu: float  # CPU seconds of the bot processes while the updates were handled

    @property
    def rate(self) -> float:
        """Updates answered per second."""
        return self.updates / self.seconds


def cpu_seconds(pid: int) -> float:
    """User and system CPU time of a process so far (Linux /proc)."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def free_port() -> int:
    """A loopback port nobody listens on (now)."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def build_world(url: str, officers: int) -> dict[int, int]:
    """The Arvidsjaur plan applied (as the processes would at start) and one team per
    officer with a task under way; returns officer -> task id."""
    settings = Settings(token=TOKEN, base_url="http://127.0.0.1:9/bot", database_url=url,
                        configs=[CONFIG])
    services = prepare(settings, ManualClock(T0))
    tasks: dict[int, int] = {}
    with services.ctx.db.transaction() as s:
        muni, promise = provby_bar_inspections(s, officers)
        for n in range(officers):
            team = m.Team(municipality_id=muni.id, police_area=muni.police_area,
                          key=f"lag-{n}", name=f"Lag {n}")
            s.add(team)
            s.flush()
            task = m.Task(promise_id=promise.id, key=f"t{n}", kind="bar_inspection",
                          start_at=T0 - timedelta(hours=1), end_at=T0 + timedelta(hours=3),
                          team_id=team.id, visibility="police",
                          updated_at=T0 - timedelta(days=1))
            s.add(task)
            s.add(m.Member(telegram_id=FIRST + n, display_name=f"Polis {n}", role="officer",
                           team_id=team.id, municipality_id=muni.id, language="sv",
                           created_at=T0 - timedelta(days=30)))
            s.flush()
            tasks[FIRST + n] = task.id
    services.dispose()
    return tasks


async def _add_users(emu: BotApiEmulator, ids: list[int]) -> None:
    for uid in ids:
        await emu.add_user(uid, f"Polis {uid}")


async def _send(emu: BotApiEmulator, tasks: dict[int, int]) -> None:
    for text in ("/klar {}", "/hjalp", "/status"):
        for officer, task in tasks.items():
            await emu.send_text(officer, text.format(task))


def _env(emu: BotApiEmulator, url: str, anchor: float, port: int | None) -> dict[str, str]:
    env = {"TELEGRAM_BOT_TOKEN": TOKEN, "TELEGRAM_API_BASE_URL": emu.base_url,
           "DATABASE_URL": url, "MEDLOFTE_CONFIG": str(CONFIG),
           "MEDLOFTE_CLOCK": f"{T0.isoformat(timespec='seconds')}@{anchor:.3f}",
           "MEDLOFTE_LANG": "sv", "MEDLOFTE_SEND_RATE": "0"}
    if port is not None:
        env |= {"MEDLOFTE_WEBHOOK_URL": "https://medlofte.example.se/telegram",
                "MEDLOFTE_WEBHOOK_SECRET": SECRET, "MEDLOFTE_LISTEN": f"127.0.0.1:{port}"}
    return env


def run_one(server: PostgresServer, name: str, processes: int, webhook: bool,
            officers: int, folder: Path) -> Run:
    """Start the processes on a fresh database, send everything, time the answers."""
    url = server.create_database(f"bench_webhook_{name.replace(' ', '_')}_{time.time_ns()}")
    tasks = build_world(url, officers)
    policy = WebhookPolicy(timeout=30.0, first_delay=0.2, max_delay=2.0, target_pause=1.0)
    runner = EmulatorThread(BotApiEmulator(TOKEN, enforce_limits=False, webhook_policy=policy))
    emu = runner.start()
    procs: list[BotProcess] = []
    try:
        runner.call(_add_users(emu, list(tasks)), timeout=120)
        ports = [free_port() for _ in range(processes)] if webhook else [None]
        if webhook:
            runner.call(emu.set_webhook_targets(
                [f"http://127.0.0.1:{port}/telegram" for port in ports]))
        anchor = time.time()
        for i, port in enumerate(ports):
            procs.append(BotProcess(_env(emu, url, anchor, port),
                                    folder / f"{name.replace(' ', '-')}-{i}.log").start())
        if webhook:
            for proc, port in zip(procs, ports, strict=True):
                proc.wait_http(f"http://127.0.0.1:{port}/readyz", timeout=120)
            runner.call(emu.wait_until(lambda: len(emu.requests_for("setWebhook")) >= processes,
                                       timeout=60))
        else:
            runner.call(emu.wait_until(lambda: emu.requests_for("getUpdates"), timeout=60))
        expected = 3 * officers
        cpu_before = sum(cpu_seconds(p.pid) for p in procs)
        started = time.monotonic()
        runner.call(_send(emu, tasks), timeout=120)
        runner.call(emu.wait_until(lambda: len(emu.all_sent()) >= expected,
                                   timeout=WAIT_LIMIT), timeout=WAIT_LIMIT + 10)
        last = max(x.sent_at for x in emu.all_sent())
        cpu = sum(cpu_seconds(p.pid) for p in procs) - cpu_before
        answered = len(emu.all_sent())
        if answered != expected:
            raise RuntimeError(f"{name}: {answered} answers, not {expected}")
        return Run(name, processes, expected, last - started, cpu)
    finally:
        for proc in procs:
            proc.stop()
            proc.ensure_dead()
        runner.stop()


@contextmanager
def pg_server() -> Iterator[PostgresServer]:
    """The throwaway PostgreSQL server every configuration's database lives on."""
    server = PostgresServer().start()
    try:
        yield server
    finally:
        server.stop()


def main() -> None:
    """Parse the options, run the three configurations (``--runs`` times) and print."""
    parser = argparse.ArgumentParser()
    parser.add_argument("--officers", type=int, default=400)
    parser.add_argument("--small", action="store_true", help="100 officers")
    parser.add_argument("--runs", type=int, default=1, help="rounds of all three")
    args = parser.parse_args()
    officers = 100 if args.small else args.officers
    print(f"{officers} officers send /klar, /hjalp and /status at once ({3 * officers} "
          f"updates); bot.py processes on one PostgreSQL; limits off", flush=True)
    configs = [("polling", 1, False), ("webhook x1", 1, True), ("webhook x3", 3, True)]
    results: dict[str, list[Run]] = {name: [] for name, _, _ in configs}
    with pg_server() as server, tempfile.TemporaryDirectory() as tmp:
        for _ in range(args.runs):
            for name, processes, webhook in configs:
                run = run_one(server, name, processes, webhook, officers, Path(tmp))
                results[name].append(run)
                print(f"  {name}: {run.rate:.0f} updates/s ({run.seconds:.1f} s; bot CPU "
                      f"{1000 * run.bot_cpu / run.updates:.1f} ms per update)", flush=True)
    rate = {name: statistics.median(r.rate for r in runs) for name, runs in results.items()}
    cpu = {name: statistics.median(1000 * r.bot_cpu / r.updates for r in runs)
           for name, runs in results.items()}
    one, three, polled = rate["webhook x1"], rate["webhook x3"], rate["polling"]
    rows = [
        ("updates answered/s, one webhook process", f"{one:.0f}/s", "", f"{polled:.0f}/s"),
        ("updates answered/s, three webhook processes", f"{three:.0f}/s", "", ""),
        ("three processes / one", f"{three / one:.2f}", f">= 2.00 {verdict(three >= 2 * one)}",
         ""),
        ("one webhook process / polling", f"{one / polled:.2f}", "", "1.00"),
        ("three webhook processes / polling", f"{three / polled:.2f}", "", "1.00"),
        ("bot CPU per update, one / three processes",
         f"{cpu['webhook x1']:.1f} / {cpu['webhook x3']:.1f} ms", "", f"{cpu['polling']:.1f} ms"),
    ]
    print()
    print(table(rows, ("figure", "webhook", "goal", "baseline: polling, one process")))
    print(f"({os.cpu_count()} CPUs; the emulator and PostgreSQL share them with the bots)")


if __name__ == "__main__":
    main()
