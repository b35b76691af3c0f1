"""The bot interrupted: SIGKILL mid-burst, a locked SQLite file, PostgreSQL restarted.

The first test runs the real entry point (`python bot.py`) against an emulator in a
background thread, twice, with a SIGKILL in between. The other two use the in-process
harness of conftest.py (`bot` fixture, `start_bot`).
"""

from __future__ import annotations

import asyncio
import os
import re
import signal
import sqlite3
import threading
import time
from collections import Counter
from collections.abc import Callable
from datetime import datetime, timedelta
from pathlib import Path
from typing import TypeVar
from zoneinfo import ZoneInfo

import pytest
from pgserver import PostgresServer
from sqlalchemy import Engine, func, select
from sqlalchemy.orm import Session

from botapi_emulator import BotApiEmulator, EmulatorThread, SentMessage
from medlofte_bot.bootstrap import prepare
from medlofte_bot.scheduling.clock import ManualClock
from medlofte_bot.services.reminders import HORIZON, LEASE
from medlofte_bot.settings import Settings
from medlofte_bot.storage import models as m
from medlofte_bot.storage.database import make_engine

from .botproc import BotProcess
from .conftest import Harness

T = TypeVar("T")
HERE = Path(__file__).resolve().parent
CONFIG = HERE.parents[1] / "config" / "arvidsjaur-2015.toml"
TZ = ZoneInfo("Europe/Stockholm")
TOKEN = "515151:RESTART-TOKEN"
COORDINATOR, OFFICER = 1, 2001
GENERIC_ERROR = "Något gick fel"
DONE = "är registrerad som genomförd"

# ===== 1. SIGKILL in the middle of a burst ===================================================

BURST = 1000
FIRST_OFFICER = 100_001
OFFICERS = range(FIRST_OFFICER, FIRST_OFFICER + BURST)
KILL_AFTER = 200
SPEED = 60  # the 2-minute lease passes in 2 real seconds
T0 = datetime(2015, 1, 2, 9, 0, tzinfo=TZ)  # no lag-1 task within the 15-day horizon: no
#                                              other reminders compete with the burst


def _prepare_burst_db(path: Path) -> tuple[str, int]:
    """The 2015 plan, 1000 lag-1 officers and one 'burst' reminder each, due at T0."""
    url = f"sqlite:///{path}"
    settings = Settings(token=TOKEN, base_url="http://127.0.0.1:9/bot", database_url=url,
                        configs=[CONFIG], admin_ids=frozenset({COORDINATOR}))
    services = prepare(settings, ManualClock(datetime(2015, 1, 1, tzinfo=TZ)))
    joined = datetime(2015, 1, 1, 8, 0, tzinfo=TZ)
    with services.ctx.db.transaction() as s:
        team = s.scalars(select(m.Team).where(m.Team.key == "lag-1")).one()
        task = s.scalars(select(m.Task).where(m.Task.team_id == team.id,
                                              m.Task.status == "pending")
                         .order_by(m.Task.start_at)).first()
        assert task is not None and task.start_at > T0 + HORIZON + timedelta(days=1)
        officers = [m.Member(telegram_id=tid, display_name=f"Polis {tid}", role="officer",
                             team_id=team.id, municipality_id=team.municipality_id,
                             language="sv", created_at=joined) for tid in OFFICERS]
        s.add_all(officers)
        s.flush()
        s.add_all([m.Reminder(task_id=task.id, member_id=o.id, kind="burst", due_at=T0,
                              state="pending") for o in officers])
        task_id = task.id
    services.dispose()
    return url, task_id


async def _add_officers(emu: BotApiEmulator) -> None:
    for tid in OFFICERS:
        await emu.add_user(tid, f"Polis {tid}")


async def _kill_when_sent(emu: BotApiEmulator, task_id: int, pid: int) -> None:
    """SIGKILL the bot the moment the emulator has the KILL_AFTER-th burst message.

    This runs in the emulator's loop right after the message is recorded, so the bot has
    not yet marked that row sent: a reminder is in flight at the kill.
    """
    await emu.wait_until(lambda: len(_burst(emu, task_id)) >= KILL_AFTER, timeout=60)
    os.kill(pid, signal.SIGKILL)


def _env(emu: BotApiEmulator, url: str, start: datetime) -> dict[str, str]:
    return {
        "TELEGRAM_BOT_TOKEN": TOKEN,
        "TELEGRAM_API_BASE_URL": emu.base_url,
        "DATABASE_URL": url,
        "MEDLOFTE_CONFIG": str(CONFIG),
        "MEDLOFTE_ADMIN_IDS": str(COORDINATOR),
        "MEDLOFTE_CLOCK": f"{start.isoformat(timespec='seconds')}x{SPEED}",
        "MEDLOFTE_LANG": "sv",
    }


def _burst(emu: BotApiEmulator, task_id: int) -> list[SentMessage]:
    """The burst reminders the emulator received, in order."""
    mark = f"#{task_id} "
    return [x for x in emu.all_sent() if x.chat_id in OFFICERS and mark in (x.text or "")]


def _marked(engine: Engine) -> dict[int, int]:
    """Telegram id -> message id of every burst row marked sent."""
    with Session(engine) as s:
        rows = s.execute(select(m.Member.telegram_id, m.Reminder.message_id)
                         .join(m.Member, m.Member.id == m.Reminder.member_id)
                         .where(m.Reminder.kind == "burst", m.Reminder.state == "sent")).all()
    marked: dict[int, int] = {}
    for tid, mid in rows:
        assert mid is not None, f"a burst row of {tid} is marked sent without a message id"
        marked[int(tid)] = int(mid)
    return marked


def _states(engine: Engine) -> dict[str, int]:
    with Session(engine) as s:
        rows = s.execute(select(m.Reminder.state, func.count()).where(m.Reminder.kind == "burst")
                         .group_by(m.Reminder.state)).all()
    return {state: int(n) for state, n in rows}


def _wait_for(check: Callable[[], T], timeout: float, what: str, proc: BotProcess,
              detail: Callable[[], str] = lambda: "") -> T:
    """Poll ``check`` until truthy; fail clearly on timeout or when the bot exits."""
    deadline = time.monotonic() + timeout
    while True:
        value = check()
        if value:
            return value
        if not proc.alive():
            assert proc.proc is not None
            pytest.fail(f"bot.py exited with {proc.proc.returncode} while waiting for {what}; "
                        f"{detail()}\n--- bot log ---\n{proc.log_tail()}", pytrace=False)
        if time.monotonic() > deadline:
            pytest.fail(f"no {what} within {timeout:.0f} s; {detail()}\n--- bot log ---\n"
                        f"{proc.log_tail()}", pytrace=False)
        time.sleep(0.05)


def test_a_sigkill_mid_burst_loses_no_reminder_and_repeats_at_most_those_in_flight(
        tmp_path: Path) -> None:
    url, task_id = _prepare_burst_db(tmp_path / "burst.db")
    runner = EmulatorThread(BotApiEmulator(TOKEN, enforce_limits=False))
    emu = runner.start()
    engine = make_engine(url)
    procs: list[BotProcess] = []
    try:
        runner.call(_add_officers(emu))
        started = time.monotonic()
        first = BotProcess(_env(emu, url, T0), tmp_path / "bot-1.log").start()
        procs.append(first)
        try:  # killed from the emulator's loop as it records the message: one is in flight
            runner.call(_kill_when_sent(emu, task_id, first.pid), timeout=90)
        except TimeoutError:
            pytest.fail(f"{len(_burst(emu, task_id))} burst reminders from the first run, not "
                        f"{KILL_AFTER}\n--- bot log ---\n{first.log_tail()}", pytrace=False)
        assert first.proc is not None
        first.proc.wait(10)
        time.sleep(0.5)  # a request that reached the emulator before the kill is recorded now
        seen = _burst(emu, task_id)
        marked = _marked(engine)
        states_at_kill = _states(engine)

        later = T0 + timedelta(seconds=(time.monotonic() - started) * SPEED)
        assert later - T0 > LEASE, "the second run starts after the first run's lease ran out"
        second = BotProcess(_env(emu, url, later), tmp_path / "bot-2.log").start()
        procs.append(second)

        def reached() -> set[int]:
            return {x.chat_id for x in _burst(emu, task_id)}

        _wait_for(lambda: len(reached()) == BURST, 90, "reminder for every officer", second,
                  lambda: f"{len(reached())}/{BURST} officers reached, rows {_states(engine)}")
        _wait_for(lambda: _states(engine).get("sent") == BURST, 15, "row marked sent for all",
                  second, lambda: f"rows {_states(engine)}")
        exit_code = second.stop()
        final_marked = _marked(engine)
    finally:
        for proc in procs:
            proc.ensure_dead()
        engine.dispose()
        runner.stop()

    final = _burst(emu, task_id)
    seen_chats = {x.chat_id for x in seen}
    assert KILL_AFTER <= len(seen) < BURST, f"killed mid-burst ({len(seen)} sent)"
    assert set(marked) <= seen_chats, "a row was marked sent without its message"
    in_flight = seen_chats - set(marked)
    counts = Counter(x.chat_id for x in final)
    missing = [tid for tid in OFFICERS if counts[tid] == 0]
    assert not missing, f"{len(missing)} officers never got their reminder"
    duplicates = {tid for tid, n in counts.items() if n > 1}
    report = (f"sent before the kill {len(seen)}, marked {len(marked)}, rows at kill "
              f"{states_at_kill}, duplicates {sorted(duplicates)}")
    assert len(duplicates) <= len(seen) - len(marked) + 1, report
    assert duplicates <= in_flight, f"repeated a reminder that was recorded as sent: {report}"
    assert all(n <= 2 for n in counts.values()), report
    assert len(final_marked) == BURST
    received = {(x.chat_id, x.message_id) for x in final}
    assert set(final_marked.items()) <= received, "each row keeps the id of a message sent"
    assert exit_code == 0, f"SIGTERM should end bot.py cleanly; got {exit_code}"


# ===== shared by the in-process tests ========================================================


async def _join_officer(h: Harness) -> None:
    await h.emu.add_user(OFFICER, "Olle")
    link = await h.say(COORDINATOR, "/bjud polis lag-1")
    code = re.search(r"start=([\w-]+)", link)
    assert code, link
    assert "Välkommen, Olle" in await h.say(OFFICER, f"/start {code[1]}")


def _lag1_tasks(h: Harness, n: int) -> list[int]:
    """The first ``n`` pending tasks of lag 1; the clock moves to the last one's start, so
    each is confirmed without the "already done?" question of an early confirmation."""
    with h.db.sessions() as s:
        rows = list(s.scalars(select(m.Task).join(m.Team, m.Team.id == m.Task.team_id)
                              .where(m.Team.key == "lag-1", m.Task.status == "pending")
                              .order_by(m.Task.start_at).limit(n)))
    h.clock.current = max(h.clock.current, rows[-1].start_at)
    return [row.id for row in rows]


async def _settled(h: Harness, task_id: int, prompt: SentMessage, timeout: float = 5.0) -> None:
    """The "done" answer carries the follow-up question; once it is recorded the /klar
    transaction has ended."""
    assert GENERIC_ERROR not in (prompt.text or ""), prompt.text
    deadline = time.monotonic() + timeout
    while True:
        with h.db.sessions() as s:
            if s.scalar(select(m.SentMessage.id).where(
                    m.SentMessage.task_id == task_id, m.SentMessage.kind == "prompt_follow_up",
                    m.SentMessage.chat_id == prompt.chat_id,
                    m.SentMessage.message_id == prompt.message_id)):
                return
        assert time.monotonic() < deadline, "the follow-up question was never recorded"
        await asyncio.sleep(0.02)


def _completions(h: Harness, task_id: int) -> tuple[str, list[m.Completion]]:
    with h.db.sessions() as s:
        task = s.get(m.Task, task_id)
        assert task is not None
        rows = list(s.scalars(select(m.Completion).where(m.Completion.task_id == task_id)))
        return task.status, rows


def _no_error_text(h: Harness) -> None:
    texts = [x.text or "" for x in h.emu.messages_to(OFFICER)]
    assert not [t for t in texts if GENERIC_ERROR in t or "Traceback" in t], texts


# ===== 2. SQLite busy: another writer holds the lock ==========================================


class _WriteLock(threading.Thread):
    """Another process's write transaction: BEGIN IMMEDIATE, a write, ``hold`` s, COMMIT."""

    def __init__(self, path: Path, hold: float) -> None:
        super().__init__(name="sqlite-writer", daemon=True)
        self.path, self.hold = path, hold
        self.taken = threading.Event()
        self.released_at: float | None = None
        self.error: BaseException | None = None

    def run(self) -> None:
        conn = sqlite3.connect(self.path, timeout=5, isolation_level=None)
        try:
            conn.execute("BEGIN IMMEDIATE")
            conn.execute("UPDATE municipality SET name = name")
            self.taken.set()
            time.sleep(self.hold)
            self.released_at = time.monotonic()
            conn.execute("COMMIT")
        except BaseException as exc:  # reported by the test
            self.error = exc
            self.taken.set()
        finally:
            conn.close()


async def test_a_confirmation_made_while_another_writer_holds_the_sqlite_lock_is_kept(
        bot: Harness, tmp_path: Path) -> None:
    await _join_officer(bot)
    [task_id] = _lag1_tasks(bot, 1)
    lock = _WriteLock(tmp_path / "bot.db", hold=1.5)
    lock.start()
    assert await asyncio.to_thread(lock.taken.wait, 5) and lock.error is None, lock.error
    await bot.emu.send_text(OFFICER, f"/klar {task_id}")
    answer = await bot.emu.wait_for_message(OFFICER, timeout=15)
    await asyncio.to_thread(lock.join, 10)
    assert lock.error is None and lock.released_at is not None, lock.error
    assert DONE in (answer.text or ""), answer.text
    assert answer.sent_at >= lock.released_at, "the answer came only once the lock was gone"
    await _settled(bot, task_id, answer)
    status, rows = _completions(bot, task_id)
    assert status == "done" and len(rows) == 1, (status, rows)
    assert rows[0].member_id is not None
    _no_error_text(bot)


# ===== 3. PostgreSQL restarted under the running bot ==========================================


@pytest.mark.postgres
async def test_confirmations_go_on_after_postgresql_restarts_under_the_bot(
        tmp_path: Path, pg_server: PostgresServer, pg_url: str,
        request: pytest.FixtureRequest) -> None:
    harness = request.config.pluginmanager.get_plugin(str(HERE / "conftest.py"))
    assert harness is not None, "tests/e2e/conftest.py is loaded"
    h: Harness = await harness.start_bot(tmp_path, datetime(2015, 3, 1, 9, 0, tzinfo=TZ),
                                         db_url=pg_url)
    try:
        await _join_officer(h)
        first, second = _lag1_tasks(h, 2)
        await h.emu.send_text(OFFICER, f"/klar {first}")
        answer = await h.emu.wait_for_message(OFFICER, timeout=10)
        assert DONE in (answer.text or ""), answer.text
        await _settled(h, first, answer)

        pg_server.restart()  # fast shutdown: the pool's connections are gone

        await h.emu.send_text(OFFICER, f"/klar {second}")
        answer = await h.emu.wait_for_message(OFFICER, timeout=10)
        assert DONE in (answer.text or ""), f"first request after the restart: {answer.text}"
        await _settled(h, second, answer)
        for task_id in (first, second):
            status, rows = _completions(h, task_id)
            assert status == "done" and len(rows) == 1, (task_id, status, rows)
        _no_error_text(h)
    finally:
        await harness.stop_bot(h)
        h.services.dispose()


async def test_while_another_writer_holds_the_lock_for_10_s_others_are_answered_and_nothing_is_lost(
        bot: Harness, tmp_path: Path) -> None:
    """One officer's /klar waits on the lock in a worker thread; another officer's /mina is
    answered meanwhile (the loop is free); the confirmation is stored once the lock is gone."""
    await _join_officer(bot)
    other = 2002
    await bot.emu.add_user(other, "Lina")
    link = await bot.say(COORDINATOR, "/bjud polis lag-1")
    code = re.search(r"start=([\w-]+)", link)
    assert code and "Välkommen" in await bot.say(other, f"/start {code[1]}")
    [task_id] = _lag1_tasks(bot, 1)
    lock = _WriteLock(tmp_path / "bot.db", hold=10.0)
    lock.start()
    assert await asyncio.to_thread(lock.taken.wait, 5) and lock.error is None, lock.error
    await bot.emu.send_text(OFFICER, f"/klar {task_id}")
    await asyncio.sleep(0.2)  # the confirmation is now waiting on the lock
    await bot.emu.send_text(other, "/mina")
    mine = await bot.emu.wait_for_message(other, timeout=8)
    answered_at = time.monotonic()
    assert "#" in (mine.text or "") or "uppgift" in (mine.text or "").lower(), mine.text
    answer = await bot.emu.wait_for_message(OFFICER, timeout=30)
    await asyncio.to_thread(lock.join, 15)
    assert lock.error is None and lock.released_at is not None, lock.error
    assert answered_at < lock.released_at, "the other officer waited for the lock"
    assert DONE in (answer.text or ""), answer.text
    await _settled(bot, task_id, answer)
    status, rows = _completions(bot, task_id)
    assert status == "done" and len(rows) == 1
    _no_error_text(bot)
