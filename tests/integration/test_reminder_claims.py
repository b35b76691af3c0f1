"""Claiming due reminders on SQLite and PostgreSQL: each once, none lost after a crash."""

from __future__ import annotations

import multiprocessing
import queue
import threading
import time
from datetime import UTC, datetime, timedelta
from multiprocessing.queues import Queue
from multiprocessing.synchronize import Barrier

import pytest
from seeding import bar_inspection_area
from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from medlofte_bot.services.reminders import LEASE, claim_due, mark_failed, mark_sent
from medlofte_bot.storage import models as m
from medlofte_bot.storage.database import make_engine, migrate, session_factory

NOW = datetime(2015, 3, 14, 19, 0, tzinfo=UTC)


def _seed(sessions: sessionmaker[Session], due: int, later: int = 0) -> tuple[list[int], list[int]]:
    """A municipality, promise, team, task and officer; ``due`` reminders due before NOW and
    ``later`` reminders due after it. Returns (due ids, later ids)."""
    with sessions.begin() as s:
        muni, promise, team = bar_inspection_area(s)
        task = m.Task(promise_id=promise.id, key="t1", kind="bar_inspection",
                      start_at=NOW + timedelta(hours=2), end_at=NOW + timedelta(hours=6),
                      team_id=team.id, visibility="public", updated_at=NOW - timedelta(days=60))
        member = m.Member(telegram_id=2001, display_name="Olle", role="officer", team_id=team.id,
                          municipality_id=muni.id, created_at=NOW - timedelta(days=30))
        s.add_all([task, member])
        s.flush()
        rows = [m.Reminder(task_id=task.id, member_id=member.id, kind=f"due{i}",
                           due_at=NOW - timedelta(seconds=i + 1), state="pending")
                for i in range(due)]
        rows += [m.Reminder(task_id=task.id, member_id=member.id, kind=f"later{i}",
                            due_at=NOW + LEASE + timedelta(minutes=i + 1), state="pending")
                 for i in range(later)]
        s.add_all(rows)
        s.flush()
        ids = [r.id for r in rows]
    return ids[:due], ids[due:]


def _claim(sessions: sessionmaker[Session], now: datetime, worker: str,
           limit: int = 500) -> list[int]:
    with sessions() as s:
        ids = claim_due(s, now, worker, limit)
        s.commit()
    return ids


def test_a_due_reminder_is_claimed_once_and_a_second_worker_gets_nothing(
        sessions: sessionmaker[Session]) -> None:
    due, later = _seed(sessions, due=5, later=3)
    first = _claim(sessions, NOW, "w1")
    assert sorted(first) == sorted(due)
    assert _claim(sessions, NOW, "w2") == []
    assert _claim(sessions, NOW + LEASE, "w2") == [], "the lease has not yet run out"
    with sessions() as s:
        rows = {r.id: r for r in s.scalars(select(m.Reminder))}
    assert all(rows[i].state == "claimed" and rows[i].claimed_by == "w1" for i in due)
    assert all(rows[i].attempts == 1 for i in due)
    assert all(rows[i].state == "pending" and rows[i].attempts == 0 for i in later)


def test_the_limit_splits_due_reminders_into_disjoint_batches(
        sessions: sessionmaker[Session]) -> None:
    due, _ = _seed(sessions, due=7)
    batches = [_claim(sessions, NOW, f"w{i}", limit=3) for i in range(4)]
    assert [len(b) for b in batches] == [3, 3, 1, 0]
    claimed = [i for b in batches for i in b]
    assert sorted(claimed) == sorted(due) and len(set(claimed)) == len(claimed)


def test_a_crash_between_claim_and_send_loses_none(sessions: sessionmaker[Session]) -> None:
    due, _ = _seed(sessions, due=4)
    assert sorted(_claim(sessions, NOW, "crashed")) == sorted(due)  # …and never marked sent
    assert _claim(sessions, NOW + LEASE - timedelta(seconds=1), "w2") == []
    again = NOW + LEASE + timedelta(seconds=1)
    assert sorted(_claim(sessions, again, "w2")) == sorted(due)
    assert _claim(sessions, again, "w3") == []
    with sessions() as s:
        rows = s.scalars(select(m.Reminder)).all()
    assert {(r.state, r.claimed_by, r.attempts) for r in rows} == {("claimed", "w2", 2)}


def test_a_sent_reminder_is_never_claimed_again(sessions: sessionmaker[Session]) -> None:
    _seed(sessions, due=3)
    claimed = _claim(sessions, NOW, "w1")
    with sessions.begin() as s:
        for n, rid in enumerate(claimed):
            mark_sent(s, rid, 100 + n, NOW + timedelta(seconds=5))
    for later in (NOW, NOW + LEASE + timedelta(minutes=1), NOW + timedelta(days=30)):
        assert _claim(sessions, later, "w2") == []
    with sessions() as s:
        rows = s.scalars(select(m.Reminder)).all()
    assert {r.state for r in rows} == {"sent"}
    assert sorted(r.message_id or 0 for r in rows) == [100, 101, 102]
    assert not any(r.late for r in rows)


def test_a_failed_send_is_retried_only_when_retry_is_asked(sessions: sessionmaker[Session]) -> None:
    _seed(sessions, due=2)
    retried, dead = sorted(_claim(sessions, NOW, "w1"))
    with sessions.begin() as s:
        mark_failed(s, retried, "network down", retry=True)
        mark_failed(s, dead, "Forbidden: bot was blocked by the user", retry=False)
    assert _claim(sessions, NOW, "w2") == [retried]
    with sessions.begin() as s:
        mark_sent(s, retried, 7, NOW)
    assert _claim(sessions, NOW + timedelta(days=1), "w3") == []
    with sessions() as s:
        failed = s.get(m.Reminder, dead)
        assert failed is not None
        assert failed.state == "failed"
        assert "blocked" in (failed.error or "")


def test_a_reminder_not_yet_due_is_not_claimed(sessions: sessionmaker[Session]) -> None:
    _, later = _seed(sessions, due=0, later=3)
    assert _claim(sessions, NOW + LEASE, "w1") == []
    assert _claim(sessions, NOW + LEASE + timedelta(minutes=1), "w1") == [later[0]]
    assert sorted(_claim(sessions, NOW + LEASE + timedelta(minutes=3), "w1")) == sorted(later[1:])


# ----- concurrency -------------------------------------------------------------------------


def _claim_until_empty(url: str, worker: str, now: datetime, limit: int = 50) -> list[int]:
    engine = make_engine(url)
    sessions = session_factory(engine)
    mine: list[int] = []
    try:
        while True:
            with sessions() as s:
                ids = claim_due(s, now, worker, limit)
                s.commit()
            if not ids:
                return mine
            mine += ids
    finally:
        engine.dispose()


# what a worker process reports: the ids it claimed, or the repr of what it raised
Report = tuple[str, list[int] | str]


def _process_worker(url: str, worker: str, now: datetime, start: Barrier,
                    out: Queue[Report]) -> None:  # runs in a spawned process
    try:
        start.wait(60)
        out.put((worker, _claim_until_empty(url, worker, now)))
    except BaseException as exc:  # report instead of hanging the parent
        out.put((worker, repr(exc)))


def _assert_each_claimed_by_exactly_one(sessions: sessionmaker[Session], due: list[int],
                                        got: dict[str, list[int]]) -> None:
    claimed = [i for ids in got.values() for i in ids]
    assert len(claimed) == len(set(claimed)), "a reminder was claimed by two workers"
    assert sorted(claimed) == sorted(due)
    owner = {i: w for w, ids in got.items() for i in ids}
    with sessions() as s:
        rows = s.scalars(select(m.Reminder)).all()
    assert all(r.attempts == 1 and r.state == "claimed" for r in rows)
    assert all(owner[r.id] == r.claimed_by for r in rows)


@pytest.mark.postgres
def test_two_processes_on_postgresql_never_claim_the_same_reminder(pg_url: str) -> None:
    engine = make_engine(pg_url)
    migrate(engine)
    sessions = session_factory(engine)
    due, _ = _seed(sessions, due=2000)
    ctx = multiprocessing.get_context("spawn")
    workers = 4
    start = ctx.Barrier(workers)
    out: Queue[Report] = ctx.Queue()
    procs = [ctx.Process(target=_process_worker, args=(pg_url, f"w{i}", NOW, start, out))
             for i in range(workers)]
    for p in procs:
        p.start()
    got: dict[str, list[int] | str] = {}
    deadline = time.monotonic() + 90
    try:
        while len(got) < workers and time.monotonic() < deadline:
            try:
                worker, ids = out.get(timeout=0.5)
            except queue.Empty:
                if not any(p.is_alive() for p in procs) and out.empty():
                    break  # a worker died without reporting
                continue
            got[worker] = ids
    finally:
        for p in procs:
            p.join(30)
            if p.is_alive():
                p.kill()
    assert len(got) == workers and all(isinstance(ids, list) for ids in got.values()), got
    claims = {worker: ids for worker, ids in got.items() if isinstance(ids, list)}
    _assert_each_claimed_by_exactly_one(sessions, due, claims)
    engine.dispose()


def test_threads_on_sqlite_never_claim_the_same_reminder(sqlite_url: str) -> None:
    engine = make_engine(sqlite_url)
    migrate(engine)
    sessions = session_factory(engine)
    due, _ = _seed(sessions, due=600)
    engine.dispose()
    got: dict[str, list[int]] = {}
    errors: list[BaseException] = []
    start = threading.Barrier(4)

    def run(worker: str) -> None:
        try:
            start.wait(10)
            got[worker] = _claim_until_empty(sqlite_url, worker, NOW, limit=20)
        except BaseException as exc:
            errors.append(exc)

    threads = [threading.Thread(target=run, args=(f"w{i}",)) for i in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(60)
    assert not errors, errors
    engine = make_engine(sqlite_url)
    _assert_each_claimed_by_exactly_one(session_factory(engine), due, got)
    engine.dispose()
