"""Three `python bot.py` processes in webhook mode on one PostgreSQL, one killed with SIGKILL.

The emulator stands for Telegram and a load balancer at once: it POSTs every update to the
three processes in turn (``set_webhook_targets``), resending on errors as Telegram does.
200 officers in 20 teams send 2 000 updates (confirmations of their team's tasks, some of
the same task by two people at once, and /hjalp, /plan, /status, /mina), while 2 000
reminders are due. Once 600 of the first 1 000 updates are handled one process is killed,
and the other 1 000 follow: the emulator finds it refusing and sends them to the others,
which take up what it held: the updates it had accepted (after the inbox lease) and the
reminders it had claimed (after the reminder lease). Then:

- every update is in the inbox, handled; the answers each person got match what they sent,
  with a second answer only for an update the killed process was running;
- every task confirmed has exactly one completion and one audit entry;
- every reminder is marked sent and reached its officer, at most the few in flight twice.
"""

from __future__ import annotations

import os
import signal
import time
from collections import Counter
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from pathlib import Path
from typing import TypeVar
from zoneinfo import ZoneInfo

import pytest
from seeding import provby_bar_inspections
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from botapi_emulator import BotApiEmulator, EmulatorThread, SentMessage, WebhookPolicy
from medlofte_bot.bootstrap import prepare
from medlofte_bot.scheduling.clock import ManualClock
from medlofte_bot.settings import Settings
from medlofte_bot.storage import models as m
from medlofte_bot.storage.database import make_engine

from .botproc import BotProcess
from .conftest import free_port

pytestmark = pytest.mark.postgres

T = TypeVar("T")
CONFIG = Path(__file__).resolve().parents[2] / "config" / "arvidsjaur-2015.toml"
TZ = ZoneInfo("Europe/Stockholm")
TOKEN = "717171:REPLICAS-TOKEN"
SECRET = "replicas-webhook-secret"
PUBLIC_URL = "https://medlofte.example.se/telegram"  # what every replica tells setWebhook
T0 = datetime(2015, 1, 2, 9, 0, tzinfo=TZ)  # no Arvidsjaur task within reach: only ours
# the played clock's speed: the 2-minute reminder lease passes in 30 real seconds (a tick
# every 15). Faster is wrong: a process sends one chat's reminders a second apart, so a
# batch it claimed can take longer than a shorter lease, and another would send it again
SPEED = 4
PROCESSES = 3
TEAMS, PER_TEAM = 20, 10  # 200 officers
FIRST_OFFICER = 300_001
KINDS = ("assignee_2h", "assignee_1d", "team_7d", "team_1d", "was_it_done")
INBOX_LEASE = 3  # seconds before a live process takes up what a dead one accepted
IN_FLIGHT = 4  # reminders one process sends at once (the tick's senders)
GENERIC_ERROR = "Något gick fel"


@dataclass
class World:
    """What the test put in the database: officers, their teams' tasks, the reminders."""

    officers: list[int] = field(default_factory=list)
    team_of: dict[int, int] = field(default_factory=dict)  # officer -> team index
    under_way: dict[int, tuple[int, int]] = field(default_factory=dict)  # team -> 2 task ids
    coming: dict[int, tuple[int, int]] = field(default_factory=dict)  # team -> 2 task ids
    reminders: dict[int, int] = field(default_factory=dict)  # reminder id -> officer


def script(officer: int, world: World) -> list[str]:
    """The ten things an officer sends, in order: three confirmations (the second officer
    of each pair confirms the same task as the first, so two processes race for it; the
    third repeats the first), and reads."""
    first, second = world.under_way[world.team_of[officer]]
    mine, other = (first, second) if officer % 2 else (second, first)
    return ["/hjalp", f"/klar {mine}", "/plan", "/status", f"/klar {other}", "/hjalp",
            "/plan", f"/klar {mine}", "/status", "/mina"]


def build_world(url: str) -> World:
    """The Arvidsjaur plan (applied once here, so the replicas find it applied) and a
    municipality of our own: 20 teams of 10 officers, two tasks under way per team (to
    confirm) and two starting in two hours, with ten reminders due per officer."""
    settings = Settings(token=TOKEN, base_url="http://127.0.0.1:9/bot", database_url=url,
                        configs=[CONFIG])
    services = prepare(settings, ManualClock(T0))
    world = World()
    joined = T0 - timedelta(days=30)
    with services.ctx.db.transaction() as s:
        muni, promise = provby_bar_inspections(s, 80)
        members: list[m.Member] = []
        for t in range(TEAMS):
            team = m.Team(municipality_id=muni.id, police_area=muni.police_area,
                          key=f"lag-{t + 1}", name=f"Provby lag {t + 1}")
            s.add(team)
            s.flush()
            tasks = []
            for n, start in enumerate((T0 - timedelta(hours=1), T0 - timedelta(minutes=30),
                                       T0 + timedelta(hours=2), T0 + timedelta(hours=3))):
                task = m.Task(promise_id=promise.id, key=f"t{t}-{n}", kind="bar_inspection",
                              start_at=start, end_at=start + timedelta(hours=4),
                              team_id=team.id, visibility="police",
                              updated_at=T0 - timedelta(days=1))
                s.add(task)
                tasks.append(task)
            s.flush()
            world.under_way[t] = (tasks[0].id, tasks[1].id)
            world.coming[t] = (tasks[2].id, tasks[3].id)
            for k in range(PER_TEAM):
                tid = FIRST_OFFICER + t * PER_TEAM + k
                world.officers.append(tid)
                world.team_of[tid] = t
                members.append(m.Member(telegram_id=tid, display_name=f"Polis {tid}",
                                        role="officer", team_id=team.id,
                                        municipality_id=muni.id, language="sv",
                                        created_at=joined))
        s.add_all(members)
        s.flush()
        rows = []
        for member in members:
            for task_id in world.coming[world.team_of[member.telegram_id]]:
                rows += [m.Reminder(task_id=task_id, member_id=member.id, kind=kind,
                                    due_at=T0 - timedelta(seconds=30), state="pending")
                         for kind in KINDS]
        s.add_all(rows)
        s.flush()
        by_member = {member.id: member.telegram_id for member in members}
        world.reminders = {r.id: by_member[r.member_id] for r in rows if r.member_id}
    services.dispose()
    return world


def env(emu: BotApiEmulator, url: str, port: int, anchor: float) -> dict[str, str]:
    """One replica: webhook mode on its own loopback port, the shared public URL, and the
    played clock that read T0 at the real instant ``anchor`` (one clock for all three)."""
    return {
        "TELEGRAM_BOT_TOKEN": TOKEN,
        "TELEGRAM_API_BASE_URL": emu.base_url,
        "DATABASE_URL": url,
        "MEDLOFTE_CONFIG": str(CONFIG),
        "MEDLOFTE_CLOCK": f"{T0.isoformat(timespec='seconds')}x{SPEED}@{anchor:.3f}",
        "MEDLOFTE_LANG": "sv",
        "MEDLOFTE_WEBHOOK_URL": PUBLIC_URL,
        "MEDLOFTE_WEBHOOK_SECRET": SECRET,
        "MEDLOFTE_LISTEN": f"127.0.0.1:{port}",
        "MEDLOFTE_INBOX_LEASE": str(INBOX_LEASE),
        "MEDLOFTE_SEND_RATE": "0",  # the emulator enforces no limits here
    }


async def add_officers(emu: BotApiEmulator, officers: list[int]) -> None:
    for tid in officers:
        await emu.add_user(tid, f"Polis {tid}")


async def send_steps(emu: BotApiEmulator, world: World, steps: range,
                     sent: dict[int, list[int]]) -> None:
    """These steps of every officer's script, queued at once (the emulator delivers each
    chat's in order); their update ids go to ``sent``."""
    for step in steps:
        for tid in world.officers:
            action = await emu.send_text(tid, script(tid, world)[step])
            sent.setdefault(tid, []).append(action.update_id)


def wait_for(check: Callable[[], T], timeout: float, what: str,
             procs: list[BotProcess], detail: Callable[[], str] = lambda: "") -> T:
    """Poll ``check`` until truthy; fail with the replicas' logs on timeout."""
    deadline = time.monotonic() + timeout
    while True:
        value = check()
        if value:
            return value
        if time.monotonic() > deadline:
            logs = "\n".join(f"--- replica {i} ---\n{p.log_tail(15)}"
                             for i, p in enumerate(procs, 1))
            pytest.fail(f"no {what} within {timeout:.0f} s; {detail()}\n{logs}", pytrace=False)
        time.sleep(0.1)


@pytest.fixture
def replicas() -> Iterator[list[BotProcess]]:
    procs: list[BotProcess] = []
    yield procs
    for proc in procs:
        proc.ensure_dead()


def _inbox(session: Session) -> dict[int, tuple[int, bool]]:
    rows = session.execute(select(m.UpdateInbox.update_id, m.UpdateInbox.attempts,
                                  m.UpdateInbox.done_at.is_not(None))).all()
    return {int(uid): (int(attempts), bool(done)) for uid, attempts, done in rows}


REMINDER_OPENINGS = ("Om två timmar:", "I morgon:", "Om en vecka:", "Blev det gjort?")
#: what each answer begins with, and how many of each an officer's script asks for
ANSWERS = {"Kommandon:": 2, "De kommande 14 dagarna:": 2, "Medborgarlöften": 2,
           "Dina närmaste uppgifter:": 1}


def kind_of(message: SentMessage) -> str:
    """What a message to an officer is, from its opening words."""
    text = message.text or ""
    if text.startswith(REMINDER_OPENINGS):
        return "reminder"
    if "registrerad som genomförd" in text or text.startswith("Redan registrerad av"):
        return "/klar"
    if text.startswith("#"):
        return "card"  # one of /mina's task cards
    return next((opening for opening in ANSWERS if text.startswith(opening)), text[:40])


def test_three_replicas_one_killed_every_update_once_every_reminder_sent(
        pg_url: str, tmp_path: Path, replicas: list[BotProcess]) -> None:
    world = build_world(pg_url)
    ports = [free_port() for _ in range(PROCESSES)]
    policy = WebhookPolicy(timeout=10.0, first_delay=0.2, max_delay=2.0, target_pause=1.0)
    runner = EmulatorThread(BotApiEmulator(TOKEN, enforce_limits=False, webhook_policy=policy))
    emu = runner.start()
    engine = make_engine(pg_url)
    try:
        runner.call(add_officers(emu, world.officers), timeout=60)
        runner.call(emu.set_webhook_targets(
            [f"http://127.0.0.1:{port}/telegram" for port in ports]))
        started, anchor = time.monotonic(), time.time()
        for i, port in enumerate(ports, 1):
            log = tmp_path / f"bot-{i}.log"
            replicas.append(BotProcess(env(emu, pg_url, port, anchor), log).start())
        for proc, port in zip(replicas, ports, strict=True):
            proc.wait_http(f"http://127.0.0.1:{port}/readyz", timeout=60)
        wait_for(lambda: len(emu.requests_for("setWebhook")) >= PROCESSES, 30, "setWebhook",
                 replicas)
        sent: dict[int, list[int]] = {}
        runner.call(send_steps(emu, world, range(5), sent), timeout=60)

        def done() -> int:
            with Session(engine) as s:
                return int(s.scalar(select(func.count()).select_from(m.UpdateInbox)
                                    .where(m.UpdateInbox.done_at.is_not(None))) or 0)

        wait_for(lambda: done() >= 600, 90, "600 updates handled", replicas,
                 lambda: f"{done()} done")
        victim = replicas[1]
        os.kill(victim.pid, signal.SIGKILL)
        killed_at = time.monotonic()
        assert victim.proc is not None
        victim.proc.wait(10)
        survivors = [replicas[0], replicas[2]]
        # the second half goes to the two left; the emulator finds the third refusing
        runner.call(send_steps(emu, world, range(5, 10), sent), timeout=60)

        def reminders_sent() -> int:
            with Session(engine) as s:
                return int(s.scalar(select(func.count()).select_from(m.Reminder)
                                    .where(m.Reminder.id.in_(list(world.reminders)),
                                           m.Reminder.state == "sent")) or 0)

        wait_for(lambda: done() == 2000 and reminders_sent() == 2000, 120,
                 "handling of everything", survivors,
                 lambda: f"{done()} updates done, {reminders_sent()} reminders sent")
        elapsed = time.monotonic() - started
        time.sleep(1.0)  # an answer still on its way is recorded now
        for proc in survivors:
            assert proc.stop() == 0, proc.log_tail()
    finally:
        runner.stop()

    with Session(engine) as s:
        inbox = _inbox(s)
        completions = Counter(int(t) for t in s.scalars(select(m.Completion.task_id)))
        audits = Counter(e.entity_id for e in s.scalars(
            select(m.AuditEntry).where(m.AuditEntry.entity == "task",
                                       m.AuditEntry.action == "done")))
        reminder_rows = s.execute(select(m.Reminder.id, m.Reminder.state,
                                         m.Reminder.message_id)
                                  .where(m.Reminder.id.in_(list(world.reminders)))).all()
        # the bot makes its own rows too (its default reminders for these tasks): a message
        # that no row marked sent is a second copy
        all_marked = {(int(tid), int(mid or 0)) for tid, mid in s.execute(
            select(m.Member.telegram_id, m.Reminder.message_id)
            .join(m.Member, m.Member.id == m.Reminder.member_id)
            .where(m.Reminder.state == "sent"))}
    engine.dispose()

    # every update: accepted once, handled; a second run only for what the victim held
    all_updates = {uid for ids in sent.values() for uid in ids}
    assert set(inbox) == all_updates
    assert all(is_done for _, is_done in inbox.values())
    rerun = {uid for uid, (attempts, _) in inbox.items() if attempts > 1}
    assert rerun, "the killed process held accepted updates (else the kill proved nothing)"
    refused = [a for a in emu.webhook.attempts if a.url.endswith(f":{ports[1]}/telegram")
               and a.error == "Connection refused"]
    assert refused, "the emulator met the dead process and went on to the others"
    print(f"\n{elapsed:.1f} s in all, killed after {killed_at - started:.1f} s; "
          f"{len(rerun)} updates taken up after the kill")

    # every confirmation once: each task under way confirmed, one completion, one audit
    confirmed = {task for pair in world.under_way.values() for task in pair}
    assert set(completions) == confirmed and set(completions.values()) == {1}
    assert {int(k) for k in audits} >= confirmed
    assert all(audits[str(task)] == 1 for task in confirmed)

    # every reminder: marked sent, and each officer got each of theirs; a second copy only
    # of one in flight at the kill (sent, not yet marked)
    assert {state for _, state, _ in reminder_rows} == {"sent"}
    by_chat: dict[int, list[SentMessage]] = {}
    for message in emu.all_sent():
        by_chat.setdefault(message.chat_id, []).append(message)
    marked = {(world.reminders[rid], mid) for rid, _, mid in reminder_rows if mid is not None}
    assert len(marked) == len(world.reminders)
    repeated_reminders = extra_answers = 0
    for tid in world.officers:
        messages = by_chat.get(tid, [])
        assert not any(GENERIC_ERROR in (x.text or "") for x in messages), \
            (tid, [x.text for x in messages])
        kinds = Counter(kind_of(x) for x in messages)
        assert sum(1 for x in messages if (tid, x.message_id) in marked) == 10, (tid, kinds)
        repeated_reminders += sum(1 for x in messages if kind_of(x) == "reminder"
                                  and (tid, x.message_id) not in all_marked)
        expected = {**ANSWERS, "/klar": 3}
        assert set(kinds) <= {*expected, "reminder", "card"}, (tid, kinds)
        for opening, count in expected.items():
            assert kinds[opening] >= count, (tid, opening, kinds)
            extra_answers += kinds[opening] - count
    print(f"{repeated_reminders} reminders sent twice, {extra_answers} answers given twice")
    assert repeated_reminders <= IN_FLIGHT
    assert extra_answers <= len(rerun)
