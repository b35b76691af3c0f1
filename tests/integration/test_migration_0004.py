"""Revision 0004 on SQLite and PostgreSQL: a played year upgrades without loss, and a
reminder is stored once however many times (and by however many processes) it is made."""

from __future__ import annotations

import multiprocessing
import queue
import shutil
import sqlite3
import time
from datetime import UTC, datetime, timedelta
from multiprocessing.queues import Queue
from multiprocessing.synchronize import Barrier
from pathlib import Path
from typing import Any
from unittest import mock
from zoneinfo import ZoneInfo

import pytest
from seeding import bar_inspection_area, insert_row
from sqlalchemy import Connection, func, select, text
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session, sessionmaker

from medlofte_bot.configuration import load_promise_set
from medlofte_bot.services.reminders import ensure_reminders, replied_task
from medlofte_bot.services.report import year_report
from medlofte_bot.storage import models as m
from medlofte_bot.storage.database import (
    head_revision,
    insert_ignoring_duplicates,
    make_engine,
    migrate,
    session_factory,
)
from medlofte_bot.views.year_report import report_markdown

ROOT = Path(__file__).parents[2]
FIXTURES = ROOT / "tests" / "fixtures"
HALF_YEAR_DB = FIXTURES / "half-year-2015-rev0003.db"
HALF_YEAR_REPORT = FIXTURES / "half-year-2015-rev0003.report.md"
CONFIG = ROOT / "config" / "arvidsjaur-2015.toml"
STOCKHOLM = ZoneInfo("Europe/Stockholm")
LOG_KINDS = ("card", "prompt_move", "prompt_cancel", "prompt_follow_up")
NOW = datetime(2015, 3, 14, 19, 0, tzinfo=UTC)
KEPT_COLUMNS = ("id", "task_id", "member_id", "chat_id", "due_at", "state", "attempts",
                "claimed_by", "claimed_at", "sent_at", "message_id", "late", "error")


def _version(url: str) -> str:
    engine = make_engine(url)
    try:
        with engine.connect() as conn:
            version: str = conn.execute(
                text("SELECT version_num FROM alembic_version")).scalar_one()
            return version
    finally:
        engine.dispose()


# ----- the played half year --------------------------------------------------------------


def test_a_played_half_year_at_0003_upgrades_to_head_and_reports_the_same_year(
        tmp_path: Path) -> None:
    copy = tmp_path / "half-year.db"
    shutil.copyfile(HALF_YEAR_DB, copy)  # the fixture itself is never opened
    with sqlite3.connect(copy) as raw:
        assert raw.execute("SELECT version_num FROM alembic_version").fetchone() == ("0003",)
        names = ", ".join(f"r.{c}" for c in KEPT_COLUMNS)
        before = raw.execute(
            f"SELECT {names}, r.kind, mem.telegram_id FROM reminder r "
            "LEFT JOIN member mem ON mem.id = r.member_id ORDER BY r.id").fetchall()
    raw.close()
    assert len(before) > 100, "the fixture holds half a played year"
    kind_at, telegram_at = len(KEPT_COLUMNS), len(KEPT_COLUMNS) + 1
    reminders = {row[0]: row for row in before if row[kind_at] not in LOG_KINDS}
    logged = [row for row in before if row[kind_at] in LOG_KINDS]
    sent = [row for row in before if row[5] == "sent" and row[10] is not None]
    assert logged and sent and any(row[kind_at].startswith("weekly_summary:") for row in before)

    url = f"sqlite:///{copy}"
    engine = make_engine(url)
    migrate(engine)
    assert _version(url) == head_revision()
    ps = load_promise_set(CONFIG).promise_set
    with session_factory(engine)() as s:
        report = year_report(s, ps, datetime(2015, 7, 1, tzinfo=STOCKHOLM))
    engine.dispose()
    assert report is not None
    assert report_markdown([report], "sv", public=False) == HALF_YEAR_REPORT.read_text(
        encoding="utf-8")

    with sqlite3.connect(copy) as raw:
        after = {row[0]: row for row in raw.execute(
            f"SELECT {', '.join(KEPT_COLUMNS)}, kind, subject, recipient "
            "FROM reminder ORDER BY id")}
        messages = {(chat, msg): (kind, task, member) for chat, msg, kind, task, member
                    in raw.execute("SELECT chat_id, message_id, kind, task_id, member_id "
                                   "FROM sent_message")}
    raw.close()
    assert sorted(after) == sorted(reminders), "a reminder row was lost, or a log row kept"
    for rid, old in reminders.items():
        assert after[rid][:len(KEPT_COLUMNS)] == old[:len(KEPT_COLUMNS)], rid
        kind, subject, recipient = after[rid][len(KEPT_COLUMNS):]
        old_kind = old[kind_at]
        if old_kind.startswith("weekly_summary:"):
            assert (kind, subject) == ("weekly_summary",
                                       f"week:{old_kind.removeprefix('weekly_summary:')}")
        else:
            assert (kind, subject) == (old_kind, f"task:{old[1]}")
        assert recipient == (f"chat:{old[3]}" if old[3] is not None else f"member:{old[2]}")
    for row in sent:
        chat = row[3] if row[3] is not None else row[telegram_at]
        assert (chat, row[10]) in messages, f"sent row {row[0]} has no sent_message"
        kind, task_id, member_id = messages[(chat, row[10])]
        assert (task_id, member_id) == (row[1], row[2])
        if row[kind_at] in LOG_KINDS:
            assert kind == row[kind_at]
        else:
            assert kind == ("reminder" if row[1] is not None else "summary")
    assert len(messages) == len(sent), "every sent message is logged once"


# ----- a small database at 0003, upgraded on both backends ----------------------------------


def _old_reminder(conn: Connection, rid: int, kind: str, task_id: int | None, member_id: int | None,
                  chat_id: int | None = None, message_id: int | None = None,
                  due_at: datetime = NOW) -> None:
    sent = message_id is not None
    insert_row(conn, "reminder", id=rid, task_id=task_id, member_id=member_id, chat_id=chat_id,
            kind=kind, due_at=due_at, state="sent" if sent else "pending",
            attempts=1 if sent else 0, claimed_by="w1" if sent else None,
            claimed_at=due_at if sent else None, sent_at=due_at if sent else None,
            message_id=message_id, late=False, error="")


GROUP = -1001234567890


def test_0003_rows_upgrade_to_one_reminder_per_key_and_a_sent_message_log(db_url: str) -> None:
    engine = make_engine(db_url)
    migrate(engine, "0003")
    with engine.begin() as conn:
        insert_row(conn, "municipality", id=1, slug="arvidsjaur", name="Arvidsjaur",
                police_area="Norrbotten", timezone="Europe/Stockholm", language="sv")
        insert_row(conn, "team", id=1, municipality_id=1, key="lag-1", name="Lag 1",
                group_chat_id=GROUP)
        insert_row(conn, "promise", id=1, municipality_id=1, year=2015, key="krog",
                title="Krogtillsyn", kind="bar_inspection", target=6, joint_target=0,
                visibility="public", spec={})
        for tid in (1, 2):
            insert_row(conn, "task", id=tid, promise_id=1, key=f"t{tid}", kind="bar_inspection",
                    start_at=NOW + timedelta(days=tid), end_at=NOW + timedelta(days=tid, hours=4),
                    team_id=1, joint=False, vehicle=None, visibility="public", label="",
                    partner_role=None, invited=[], status="pending", moved=False, reason="",
                    updated_at=NOW - timedelta(days=30))
        for mid, telegram, role in ((1, 2001, "officer"), (2, 1, "coordinator")):
            insert_row(conn, "member", id=mid, telegram_id=telegram, display_name=f"m{mid}",
                    role=role, team_id=1 if role == "officer" else None, municipality_id=1,
                    partner_role=None, language="sv", active=True, unreachable=False,
                    created_at=NOW - timedelta(days=60))
        _old_reminder(conn, 11, "assignee_1d", 1, 1)
        _old_reminder(conn, 12, "assignee_1d", 1, 1)  # the duplicate 0003 let through
        _old_reminder(conn, 13, "card", 1, 1, chat_id=2001, message_id=77)
        _old_reminder(conn, 14, "prompt_move", 2, 1, chat_id=2001, message_id=78)
        _old_reminder(conn, 15, "team_7d", 2, None, chat_id=GROUP, message_id=77)
        _old_reminder(conn, 16, "weekly_summary:2015-03-02", None, 2, message_id=80,
                      due_at=datetime(2015, 3, 2, 6, 0, tzinfo=UTC))
        _old_reminder(conn, 17, "was_it_done", 1, 1)
        _old_reminder(conn, 18, "card", 2, 1, message_id=81)  # as 0003 stored cards: no chat
        assert conn.execute(text("SELECT COUNT(*) FROM reminder")).scalar_one() == 8
    migrate(engine)
    assert _version(db_url) == head_revision()

    with session_factory(engine)() as s:
        rows = {r.id: r for r in s.scalars(select(m.Reminder))}
        assert sorted(rows) == [11, 15, 16, 17], "the duplicate and the log rows are gone"
        keys = {r.id: (r.subject, r.kind, r.recipient) for r in rows.values()}
        assert keys == {11: ("task:1", "assignee_1d", "member:1"),
                        15: ("task:2", "team_7d", f"chat:{GROUP}"),
                        16: ("week:2015-03-02", "weekly_summary", "member:2"),
                        17: ("task:1", "was_it_done", "member:1")}
        assert rows[15].chat_id == GROUP and rows[15].member_id is None
        assert rows[16].due_at == datetime(2015, 3, 2, 6, 0, tzinfo=UTC)
        assert (rows[16].state, rows[16].message_id) == ("sent", 80)
        messages = {(r.chat_id, r.message_id): (r.kind, r.task_id, r.member_id)
                    for r in s.scalars(select(m.SentMessage))}
        assert messages == {(2001, 77): ("card", 1, 1), (2001, 78): ("prompt_move", 2, 1),
                            (2001, 81): ("card", 2, 1), (GROUP, 77): ("reminder", 2, None),
                            (1, 80): ("summary", None, 2)}
        assert replied_task(s, 2001, 77) == (1, "card")
        assert replied_task(s, GROUP, 77) == (2, "reminder")
        assert replied_task(s, 2001, 78) == (2, "prompt_move")
        assert replied_task(s, 2001, 81) == (2, "card")

    with session_factory(engine).begin() as s:  # the id sequence was moved past the copies
        fresh = m.Reminder(subject="task:2", kind="assignee_1d", recipient="member:1",
                           task_id=2, member_id=1, due_at=NOW + timedelta(days=1))
        s.add(fresh)
        s.flush()
        assert fresh.id > max(rows), "a new reminder reused a copied id"
    engine.dispose()


# ----- one reminder per (subject, kind, recipient) ----------------------------------------


def _seed(sessions: sessionmaker[Session], tasks: int, officers: int) -> tuple[list[int],
                                                                                 list[int]]:
    """A municipality, promise, team (no group chat), ``tasks`` pending tasks starting one
    to five days after NOW, and ``officers`` active officers. Returns (task ids, member ids)."""
    with sessions.begin() as s:
        muni, promise, team = bar_inspection_area(s)
        task_rows = [m.Task(promise_id=promise.id, key=f"t{i}", kind="bar_inspection",
                            start_at=NOW + timedelta(days=1, hours=2 * i),
                            end_at=NOW + timedelta(days=1, hours=2 * i + 4), team_id=team.id,
                            visibility="public", updated_at=NOW - timedelta(days=60))
                     for i in range(tasks)]
        members = [m.Member(telegram_id=2001 + i, display_name=f"Officer {i}", role="officer",
                            team_id=team.id, municipality_id=muni.id,
                            created_at=NOW - timedelta(days=30)) for i in range(officers)]
        s.add_all([*task_rows, *members])
        s.flush()
        return [t.id for t in task_rows], [mem.id for mem in members]


def _reminder(task_id: int, member_id: int) -> dict[str, Any]:
    return {"subject": f"task:{task_id}", "kind": "assignee_1d",
            "recipient": f"member:{member_id}", "task_id": task_id, "member_id": member_id,
            "chat_id": None, "due_at": NOW, "state": "pending", "attempts": 0, "late": False,
            "error": ""}


def test_the_same_reminder_inserted_twice_is_stored_once(
        sessions: sessionmaker[Session]) -> None:
    (task,), (olle, lina) = _seed(sessions, tasks=1, officers=2)
    reported = []
    with sessions.begin() as s:
        reported.append(insert_ignoring_duplicates(s, m.Reminder, [_reminder(task, olle)]))
    with sessions.begin() as s:
        reported.append(insert_ignoring_duplicates(s, m.Reminder, [_reminder(task, olle)]))
        reported.append(insert_ignoring_duplicates(
            s, m.Reminder, [_reminder(task, olle), _reminder(task, lina)]))
    with sessions() as s, pytest.raises(IntegrityError):
        s.add(m.Reminder(**_reminder(task, olle)))
        s.flush()
    with sessions() as s:
        keys = s.execute(select(m.Reminder.subject, m.Reminder.kind, m.Reminder.recipient)
                         .order_by(m.Reminder.id)).all()
    assert keys == [(f"task:{task}", "assignee_1d", f"member:{olle}"),
                    (f"task:{task}", "assignee_1d", f"member:{lina}")]
    assert reported == [1, 0, 1], "insert_ignoring_duplicates reports the rows it inserted"


def _ensure_in_process(url: str, now: datetime, start: Barrier, read: Barrier,
                       out: Queue[int | str]) -> None:
    """Runs in a spawned process: wait for the others, make the reminders, commit."""
    try:
        from medlofte_bot.services import reminders

        def insert_after_all_have_read(*args: Any) -> int:
            read.wait(30)  # every process has read what exists: only the index can stop them
            return insert_ignoring_duplicates(*args)

        # ensure_reminders looks the name up in its own module: replace it there
        with mock.patch.object(reminders, "insert_ignoring_duplicates",
                               insert_after_all_have_read):
            engine = make_engine(url)
            try:
                start.wait(30)
                with session_factory(engine)() as s:
                    made = reminders.ensure_reminders(s, now)
                    s.commit()
            finally:
                engine.dispose()
        out.put(made)
    except BaseException as exc:  # report instead of hanging the parent
        out.put(repr(exc))


def test_two_processes_making_reminders_for_the_same_tasks_at_once_create_no_duplicates(
        db_url: str, sessions: sessionmaker[Session]) -> None:
    task_ids, member_ids = _seed(sessions, tasks=50, officers=3)
    with sessions() as s:  # what one run makes, counted and rolled back
        reported_once = ensure_reminders(s, NOW)
        once = s.scalar(select(func.count()).select_from(m.Reminder))
        s.rollback()
    # team_7d is stale for tasks 1-5 days ahead; the other three rules go to each officer
    wanted = {(f"task:{t}", kind, f"member:{mem}") for t in task_ids for mem in member_ids
              for kind in ("assignee_1d", "assignee_2h", "was_it_done")}
    assert once == len(wanted) == 450

    workers = 3
    ctx = multiprocessing.get_context("spawn")
    start, read = ctx.Barrier(workers), ctx.Barrier(workers)
    out: Queue[int | str] = ctx.Queue()
    procs = [ctx.Process(target=_ensure_in_process, args=(db_url, NOW, start, read, out))
             for _ in range(workers)]
    for p in procs:
        p.start()
    made: list[int | str] = []
    deadline = time.monotonic() + 60
    try:
        while len(made) < workers and time.monotonic() < deadline:
            try:
                made.append(out.get(timeout=0.5))
            except queue.Empty:
                if not any(p.is_alive() for p in procs) and out.empty():
                    break  # a worker died without reporting
    finally:
        for p in procs:
            p.join(30)
            if p.is_alive():
                p.kill()
    assert len(made) == workers and all(isinstance(n, int) for n in made), made

    with sessions() as s:
        keys = s.execute(select(m.Reminder.subject, m.Reminder.kind, m.Reminder.recipient)
                         ).all()
        twice = s.execute(select(m.Reminder.subject, m.Reminder.kind, m.Reminder.recipient)
                          .group_by(m.Reminder.subject, m.Reminder.kind, m.Reminder.recipient)
                          .having(func.count() > 1)).all()
    assert len(keys) == once and set(keys) == wanted
    assert twice == []
    with sessions.begin() as s:
        again = ensure_reminders(s, NOW)
    with sessions() as s:
        assert s.scalar(select(func.count()).select_from(m.Reminder)) == once
    assert again == 0
    # what ensure_reminders says it made: one run's worth, split among the processes
    counts = [n for n in made if isinstance(n, int)]  # all of them, as asserted above
    assert (reported_once, sum(counts)) == (once, once), (reported_once, made)
