"""The bot as deployed, idle: start-up time, CPU and memory of ``python bot.py``.

An emulator runs in this process (a background thread, 127.0.0.1, limits off). The bot is
started as a subprocess with TELEGRAM_BOT_TOKEN, TELEGRAM_API_BASE_URL pointing at the
emulator, DATABASE_URL on a fresh SQLite file in a temp folder, MEDLOFTE_CONFIG
config/arvidsjaur-2015.toml and MEDLOFTE_CLOCK 2015-03-01T09:00+01:00 (the year is not over).
Start-up is the time from just before the process is spawned to the arrival of its first
getUpdates at the emulator (the emulator logs a long poll in request_log only when it
answers, so arrival is taken from its per-method counter, which it bumps on arrival). Then,
after a 1 s settle, CPU (utime+stime from /proc/PID/stat) over the idle window and resident
memory (VmRSS, VmHWM from /proc/PID/status). Side by side, started the same way: a bare PTB
echo bot (one MessageHandler), written to a temp file. The subprocesses are terminated at the
end, and on any error.

    .venv/bin/python bench/idle.py [--small] [--seconds 10] [--runs 1]

Goals: start-up under 2 s, ~0 % CPU while idle, under 120 MB resident.
"""

from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

from _common import ROOT, TOKEN, start_emulator, table, verdict

from botapi_emulator import BotApiEmulator, EmulatorThread

ECHO_BOT = '''\
import os

from telegram import Update
from telegram.ext import Application, ContextTypes, MessageHandler, filters


async def echo(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    await update.effective_chat.send_message(update.effective_message.text)


app = (Application.builder().token(os.environ["TELEGRAM_BOT_TOKEN"])
       .base_url(os.environ["TELEGRAM_API_BASE_URL"]).build())
app.add_handler(MessageHandler(filters.TEXT & ~filters.COMMAND, echo))
app.run_polling()
'''
CLK_TCK = os.sysconf("SC_CLK_TCK")
PROXY_VARS = {"http_proxy", "https_proxy", "all_proxy", "no_proxy"}


@dataclass
class Sample:
    """One start of one bot."""

    startup: float
    cpu_percent: float
    rss_mb: float
    hwm_mb: float


def cpu_seconds(pid: int) -> float:
    """utime + stime of a process, in seconds."""
    stat = Path(f"/proc/{pid}/stat").read_text()
    fields = stat[stat.rindex(")") + 2:].split()
    return (int(fields[11]) + int(fields[12])) / CLK_TCK


def memory_mb(pid: int) -> tuple[float, float]:
    """(VmRSS, VmHWM) in MB (10^6 bytes)."""
    values = {}
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        key, _, rest = line.partition(":")
        if key in ("VmRSS", "VmHWM"):
            values[key] = int(rest.split()[0]) * 1024 / 1e6
    return values["VmRSS"], values["VmHWM"]


async def _first_poll(emu: BotApiEmulator, before: int, timeout: float) -> float:
    """The monotonic time a new getUpdates arrives (runs in the emulator's loop)."""
    await emu.wait_until(lambda: emu.count_by_method["getUpdates"] > before, timeout)
    return time.monotonic()


def run_once(runner: EmulatorThread, emu: BotApiEmulator, argv: list[str], folder: Path,
             name: str, idle: float) -> Sample:
    """Start one bot, time its first poll, measure it idle, stop it."""
    env = {k: v for k, v in os.environ.items() if k.lower() not in PROXY_VARS}
    env.update(TELEGRAM_BOT_TOKEN=TOKEN, TELEGRAM_API_BASE_URL=emu.base_url,
               DATABASE_URL=f"sqlite:///{folder}/{name}.db",
               MEDLOFTE_CONFIG="config/arvidsjaur-2015.toml",
               MEDLOFTE_CLOCK="2015-03-01T09:00+01:00")
    before = emu.count_by_method["getUpdates"]
    log = (folder / f"{name}.log").open("w")
    t0 = time.monotonic()
    proc = subprocess.Popen(argv, cwd=ROOT, env=env, stdout=log, stderr=subprocess.STDOUT)
    try:
        try:
            first = runner.call(_first_poll(emu, before, 60.0), timeout=65.0)
        except TimeoutError:
            raise RuntimeError(f"{name}: no getUpdates within 60 s (exit code {proc.poll()}); "
                               f"see its log:\n{(folder / f'{name}.log').read_text()[-2000:]}"
                               ) from None
        time.sleep(1.0)
        if proc.poll() is not None:
            raise RuntimeError(f"{name} exited with {proc.returncode}")
        c0, w0 = cpu_seconds(proc.pid), time.monotonic()
        time.sleep(idle)
        c1, w1 = cpu_seconds(proc.pid), time.monotonic()
        rss, hwm = memory_mb(proc.pid)
        return Sample(first - t0, (c1 - c0) / (w1 - w0) * 100, rss, hwm)
    finally:
        proc.terminate()
        try:
            proc.wait(10)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait(5)
        log.close()


def import_seconds(module: str) -> float:
    """Seconds to import a module in a fresh interpreter (median of 3)."""
    code = f"import time; t = time.perf_counter(); import {module}; print(time.perf_counter() - t)"
    runs = [float(subprocess.run([sys.executable, "-c", code], cwd=ROOT, capture_output=True,
                                 text=True, check=True).stdout) for _ in range(3)]
    return float(statistics.median(runs))


def main() -> None:
    """Parse the options, start each bot ``runs`` times and print medians."""
    parser = argparse.ArgumentParser()
    parser.add_argument("--seconds", type=float, default=10.0, help="idle window")
    parser.add_argument("--small", action="store_true", help="a 3 s idle window")
    parser.add_argument("--runs", type=int, default=1)
    args = parser.parse_args()
    idle = 3.0 if args.small else args.seconds
    runner, emu = start_emulator(False)
    results: dict[str, list[Sample]] = {"ours": [], "echo": []}
    try:
        with tempfile.TemporaryDirectory(prefix="bench-idle-") as tmp:
            folder = Path(tmp)
            echo = folder / "echo_bot.py"
            echo.write_text(ECHO_BOT)
            bots = {"ours": [sys.executable, "bot.py"], "echo": [sys.executable, str(echo)]}
            for i in range(args.runs):
                for name, argv in bots.items():
                    results[name].append(run_once(runner, emu, argv, folder, f"{name}{i}", idle))
    finally:
        runner.stop()
    imports = {mod: import_seconds(mod) for mod in
               ("medlofte_bot.bootstrap", "medlofte_bot.chat.app", "matplotlib.pyplot",
                "telegram.ext")}

    def med(name: str, attr: str) -> float:
        return float(statistics.median(float(getattr(s, attr)) for s in results[name]))

    up, cpu, rss = med("ours", "startup"), med("ours", "cpu_percent"), med("ours", "rss_mb")
    rows = [
        ("start to first getUpdates", f"{up:.2f} s", f"< 2 s {verdict(up < 2)}",
         f"{med('echo', 'startup'):.2f} s"),
        (f"CPU while idle ({idle:g} s)", f"{cpu:.2f} %", f"~0 % {verdict(cpu < 1)}",
         f"{med('echo', 'cpu_percent'):.2f} %"),
        ("resident memory (VmRSS)", f"{rss:.0f} MB", f"< 120 MB {verdict(rss < 120)}",
         f"{med('echo', 'rss_mb'):.0f} MB"),
        ("peak resident (VmHWM)", f"{med('ours', 'hwm_mb'):.0f} MB", "",
         f"{med('echo', 'hwm_mb'):.0f} MB"),
    ]
    print(f"{args.runs} run(s) per bot, medians; idle window {idle:g} s after a 1 s settle")
    print(table(rows, ("figure", "ours: python bot.py", "goal", "baseline: PTB echo bot")))
    print("import times in a fresh interpreter: " + ", ".join(
        f"{mod} {sec:.2f} s" for mod, sec in imports.items()))


if __name__ == "__main__":
    main()
