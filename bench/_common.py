"""Shared pieces of the chat benchmarks: a temp database with a synthetic load, the services
wired over it, the emulator in a background thread, percentiles and the printed table. Not a
benchmark by itself."""

from __future__ import annotations

import random
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

from sqlalchemy import insert, text

from botapi_emulator import BotApiEmulator, EmulatorThread
from medlofte_bot.bootstrap import Services
from medlofte_bot.chat.ratelimit import Pacer
from medlofte_bot.domain.clock import Clock
from medlofte_bot.services import reminders
from medlofte_bot.services.context import ServiceContext
from medlofte_bot.services.outbox import Outbox
from medlofte_bot.services.usecases import UseCases
from medlofte_bot.settings import Settings
from medlofte_bot.storage import models as m
from medlofte_bot.storage.database import Database

TOKEN = "424242:BENCH-TOKEN"
ROOT = Path(__file__).parents[1]
CONFIG = ROOT / "config" / "arvidsjaur-2015.toml"
#: five reminder kinds that have their own text; one task per chat gets one row of each
KINDS = ("assignee_2h", "assignee_1d", "team_7d", "team_1d", "was_it_done")
FIRST_USER = 100_000
FIRST_GROUP = -1_000_000_000


def fresh_db(folder: Path | None = None, url: str | None = None) -> Database:
    """A migrated database: ``url`` (an empty PostgreSQL database, say), else a SQLite file in
    ``folder`` (WAL, foreign keys: the bot's own engine). Close it with ``dispose``."""
    if url is None:
        assert folder is not None, "a folder for the SQLite file, or a URL"
        url = f"sqlite:///{folder}/bench.db"
    db = Database(url)
    db.migrate()
    return db


def services_for(db: Database, clock: Clock, base_url: str, pacer: Pacer,
                 worker: str = "bench") -> Services:
    """The bot's services over ``db`` as bootstrap.prepare wires them, but with no promise set
    applied (build_world makes its own synthetic area; ``sets`` is empty, as before the
    refactoring). Pass the result to bootstrap.build_bot."""
    settings = Settings(token=TOKEN, base_url=base_url, database_url=db.url)
    ctx = ServiceContext(db, {}, clock, frozenset(), worker)
    return Services(settings, ctx, UseCases(ctx), Outbox(ctx), pacer)


def unpaced() -> Pacer:
    """The rate limiter with every gap off (for an emulator whose limits are off)."""
    return Pacer(per_second=0, private_gap=0, group_gap=0)


@dataclass
class World:
    """What build_world made: chats (private ids > 0, groups < 0) and their reminder ids."""

    private: list[int] = field(default_factory=list)
    groups: list[int] = field(default_factory=list)
    reminder_ids: list[int] = field(default_factory=list)
    #: reminder id -> (chat id, task id)
    by_reminder: dict[int, tuple[int, int]] = field(default_factory=dict)


def build_world(db: Database, now: datetime, n_private: int, n_groups: int,
                per_chat: int, seed: int = 1, tasks_per_chat: int = 1,
                shuffle_ids: bool = True, same_due: bool = False) -> World:
    """One municipality; a team per chat (private: one officer; group: Team.group_chat_id).

    Each chat gets ``tasks_per_chat`` pending tasks and ``per_chat`` reminder rows in all, due at
    a random second of the minute before ``now`` (so the claim order is shuffled, as real due
    times are). Private tasks are bar inspections starting 2 h later, group tasks risk nights a
    day later, planned a day ago: one ``ensure_reminders`` pass at the end then creates nothing
    that is due, and the timed ticks start from the steady state a running bot would be in.
    Reminder ids are a random permutation (creation order is not grouped by chat) unless
    ``shuffle_ids`` is False: then each chat's rows have consecutive ids. ``same_due`` puts every
    row at the same second (as tasks at round hours give), so claim order is id order.
    """
    rng = random.Random(seed)
    world = World()
    minute = now - timedelta(seconds=60)
    with db.transaction() as s:
        muni = m.Municipality(id=1, slug="bench", name="Bench", police_area="Bench",
                              timezone="Europe/Stockholm")
        s.add(muni)
        s.flush()
        s.add_all([
            m.Promise(id=1, municipality_id=1, year=now.year, key="krogtillsyn",
                      title="Krogtillsyn", kind="bar_inspection", target=6, visibility="police",
                      spec={}),
            m.Promise(id=2, municipality_id=1, year=now.year, key="riskkvallar",
                      title="Riskkvällar", kind="risk_night", target=None, visibility="public",
                      spec={}),
        ])
        s.flush()
        teams: list[dict[str, Any]] = []
        members: list[dict[str, Any]] = []
        tasks: list[dict[str, Any]] = []
        rows: list[dict[str, Any]] = []
        chat_of: list[int] = []
        chats = [(FIRST_USER + i, False) for i in range(n_private)] + \
                [(FIRST_GROUP - i, True) for i in range(n_groups)]
        task_id = 0
        for n, (chat, group) in enumerate(chats, start=1):
            teams.append({"id": n, "municipality_id": 1, "key": f"lag-{n}", "name": f"Lag {n}",
                          "group_chat_id": chat if group else None})
            if group:
                world.groups.append(chat)
            else:
                world.private.append(chat)
                members.append({"id": n, "telegram_id": chat, "display_name": f"Polis {n}",
                                "role": "officer", "team_id": n, "municipality_id": 1,
                                "language": "sv", "created_at": now - timedelta(days=30)})
            chat_tasks: list[int] = []
            for _ in range(tasks_per_chat):
                task_id += 1
                start = now + (timedelta(days=1) if group else timedelta(hours=2))
                tasks.append({
                    "id": task_id, "promise_id": 2 if group else 1, "key": f"t{task_id}",
                    "kind": "risk_night" if group else "bar_inspection", "start_at": start,
                    "end_at": start + timedelta(hours=4), "team_id": n, "joint": False,
                    "visibility": "public" if group else "police", "label": "",
                    "invited": [], "status": "pending", "updated_at": now - timedelta(days=1)})
                chat_tasks.append(task_id)
            for k in range(per_chat):
                task = chat_tasks[k % len(chat_tasks)]
                kind = KINDS[(k // len(chat_tasks)) % len(KINDS)]
                if k >= len(chat_tasks) * len(KINDS):
                    raise ValueError("too many reminders per chat for the kinds available")
                member_id, chat_id = (None, chat) if group else (n, None)
                rows.append({"subject": reminders.task_subject(task), "kind": kind,
                             "recipient": reminders.recipient_key(member_id, chat_id),
                             "task_id": task, "member_id": member_id, "chat_id": chat_id,
                             "due_at": minute if same_due else
                             minute + timedelta(seconds=rng.uniform(0, 59.9)),
                             "state": "pending"})
                chat_of.append(chat)
        order = list(range(len(rows)))
        if shuffle_ids:
            rng.shuffle(order)
        rows = [rows[i] for i in order]
        for rid, (row, i) in enumerate(zip(rows, order, strict=True), start=1):
            row["id"] = rid
            world.reminder_ids.append(rid)
            world.by_reminder[rid] = (chat_of[i], int(row["task_id"]))
        for model, data in ((m.Team, teams), (m.Member, members), (m.Task, tasks),
                            (m.Reminder, rows)):
            if data:
                s.execute(insert(model), data)
        if s.get_bind().dialect.name == "postgresql":  # explicit ids leave the sequences at 1
            for table_name in ("municipality", "promise", "team", "member", "task", "reminder"):
                s.execute(text(f"SELECT setval(pg_get_serial_sequence('{table_name}', 'id'), "
                               f"(SELECT coalesce(max(id), 1) FROM {table_name}))"))
        reminders.ensure_reminders(s, now)
    return world


def start_emulator(enforce_limits: bool, world: World | None = None
                   ) -> tuple[EmulatorThread, BotApiEmulator]:
    """An emulator on 127.0.0.1 in its own thread, with the world's users and groups."""
    runner = EmulatorThread(BotApiEmulator(token=TOKEN, enforce_limits=enforce_limits))
    emu = runner.start()
    if world is not None:
        runner.call(add_chats(emu, world.private, world.groups), timeout=120)
    return runner, emu


async def add_chats(emu: BotApiEmulator, private: Sequence[int], groups: Sequence[int]) -> None:
    """Create the users (who have all started the bot) and the groups."""
    for uid in private:
        await emu.add_user(uid, f"Polis{uid}")
    for gid in groups:
        await emu.add_group(gid, f"Grupp {gid}")


def percentile(values: Sequence[float], q: float) -> float:
    """The q-th percentile (0-100), nearest rank; nan for no values."""
    if not values:
        return float("nan")
    ordered = sorted(values)
    rank = max(1, min(len(ordered), round(q / 100 * len(ordered) + 0.5)))
    return ordered[rank - 1]


def table(rows: Sequence[tuple[str, str, str, str]],
          head: tuple[str, str, str, str] = ("figure", "value", "goal", "baseline")) -> str:
    """A plain aligned table: figure, value, goal (with ok/MISSED) and the baseline."""
    cols = list(zip(head, *rows, strict=False))
    widths = [max(len(str(c)) for c in col) for col in cols]
    lines = ["  ".join(str(c).ljust(w) for c, w in zip(r, widths, strict=True)).rstrip()
             for r in [head, *rows]]
    lines.insert(1, "  ".join("-" * w for w in widths))
    return "\n".join(lines)


def verdict(ok: bool) -> str:
    """'ok' or 'MISSED' beside a goal."""
    return "ok" if ok else "MISSED"
