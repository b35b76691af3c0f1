"""The update inbox on SQLite and PostgreSQL: each update accepted once, none lost."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import select

from medlofte_bot.services.health import Health
from medlofte_bot.services.inbox import KEEP_DONE, LEASE, MAX_ATTEMPTS, Inbox
from medlofte_bot.storage import models as m
from medlofte_bot.storage.database import Database

NOW = datetime(2026, 11, 29, 22, 0, tzinfo=UTC)


def _update(update_id: int, text: str = "/mina") -> dict[str, object]:
    return {"update_id": update_id, "message": {
        "message_id": 1, "date": 0, "text": text, "chat": {"id": 5, "type": "private"},
        "from": {"id": 5, "is_bot": False, "first_name": "Olle"}}}


@pytest.fixture
def db(db_url: str) -> Iterator[Database]:
    database = Database(db_url)
    database.migrate()
    yield database
    database.dispose()


def _rows(db: Database) -> dict[int, m.UpdateInbox]:
    with db.sessions() as s:
        return {r.update_id: r for r in s.scalars(select(m.UpdateInbox))}


def test_an_update_is_accepted_once_and_a_resend_changes_nothing(db: Database) -> None:
    inbox = Inbox(db, "bot-a")
    assert inbox.accept(10, _update(10), NOW)
    assert not inbox.accept(10, _update(10, "/other"), NOW + timedelta(seconds=5))
    row = _rows(db)[10]
    assert row.payload["message"]["text"] == "/mina"
    assert row.claimed_by == "bot-a" and row.claimed_at == NOW and row.done_at is None


def test_two_processes_accepting_the_same_update_at_once_get_one_new_one_duplicate(
        db_url: str) -> None:
    """Two engines (two processes' connection pools), many updates, all posted to both."""
    dbs = [Database(db_url), Database(db_url)]
    dbs[0].migrate()
    inboxes = [Inbox(d, f"bot-{i}") for i, d in enumerate(dbs)]
    ids = range(1, 101)
    won: list[list[int]] = [[], []]
    barrier = threading.Barrier(2)

    def post_all(i: int) -> None:
        barrier.wait()
        for uid in ids:
            if inboxes[i].accept(uid, _update(uid), NOW):
                won[i].append(uid)

    threads = [threading.Thread(target=post_all, args=(i,)) for i in (0, 1)]
    try:
        for t in threads:
            t.start()
        for t in threads:
            t.join(60)
        assert sorted(won[0] + won[1]) == list(ids), "each update new for exactly one"
        rows = _rows(dbs[0])
        assert {uid: r.claimed_by for uid, r in rows.items()} == {
            **{uid: "bot-0" for uid in won[0]}, **{uid: "bot-1" for uid in won[1]}}
    finally:
        for d in dbs:
            d.dispose()


def test_done_updates_are_never_taken_up_again(db: Database) -> None:
    inbox = Inbox(db, "bot-a")
    inbox.accept(1, _update(1), NOW)
    inbox.accept(2, _update(2), NOW)
    assert inbox.done([1], NOW + timedelta(seconds=1)) == 1
    assert inbox.done([1], NOW + timedelta(seconds=2)) == 0, "done once"
    taken = Inbox(db, "bot-b").reclaim(NOW + LEASE + timedelta(seconds=1))
    assert [a.update_id for a in taken] == [2]


def test_a_stale_claim_is_taken_up_by_another_process_once(db: Database) -> None:
    dead, alive, third = Inbox(db, "bot-dead"), Inbox(db, "bot-alive"), Inbox(db, "bot-3")
    dead.accept(7, _update(7, "/klar 3"), NOW)
    assert alive.reclaim(NOW + LEASE - timedelta(seconds=1)) == [], "lease still running"
    later = NOW + LEASE + timedelta(seconds=1)
    taken = alive.reclaim(later)
    assert [(a.update_id, a.payload["message"]["text"]) for a in taken] == [(7, "/klar 3")]
    assert third.reclaim(later) == [], "the new lease holds"
    row = _rows(db)[7]
    assert row.claimed_by == "bot-alive" and row.claimed_at == later and row.attempts == 2


def test_a_renewed_lease_is_not_taken_while_its_process_lives(db: Database) -> None:
    holder = Inbox(db, "bot-a")
    holder.accept(8, _update(8), NOW)
    assert holder.renew([8], NOW + LEASE - timedelta(seconds=5)) == 1
    assert Inbox(db, "bot-b").renew([8], NOW + LEASE) == 0, "only the holder renews"
    assert Inbox(db, "bot-b").reclaim(NOW + LEASE + timedelta(seconds=1)) == []


def test_an_update_that_keeps_killing_its_process_is_given_up(db: Database) -> None:
    inbox = Inbox(db, "bot-a")
    inbox.accept(9, _update(9), NOW)
    now = NOW
    for _ in range(MAX_ATTEMPTS - 1):
        now += LEASE + timedelta(seconds=1)
        assert [a.update_id for a in inbox.reclaim(now)] == [9]
    now += LEASE + timedelta(seconds=1)
    assert inbox.reclaim(now) == []
    assert _rows(db)[9].done_at == now


def test_done_rows_are_pruned_after_two_days_and_open_ones_never(db: Database) -> None:
    inbox = Inbox(db, "bot-a")
    for uid in (1, 2, 3):
        inbox.accept(uid, _update(uid), NOW)
    inbox.done([1], NOW)
    inbox.done([2], NOW + KEEP_DONE)
    assert inbox.prune(NOW + KEEP_DONE + timedelta(seconds=1)) == 1
    assert sorted(_rows(db)) == [2, 3]
    assert inbox.counts().open == 1 and inbox.counts().done == 1


def test_readiness_and_waiting_counts(db: Database) -> None:
    health = Health(db)
    assert health.not_ready() is None
    Inbox(db, "bot-a").accept(1, _update(1), NOW)
    assert health.waiting(NOW) == (0, 1)
    with db.transaction() as s:
        s.connection().exec_driver_sql("UPDATE alembic_version SET version_num = '0009'")
    assert health.not_ready() == "migrations not at head"


def test_an_unreachable_database_is_not_ready() -> None:
    health = Health(Database("postgresql+psycopg://nobody@127.0.0.1:9/none?connect_timeout=1"))
    try:
        assert health.not_ready() == "database unreachable"
    finally:
        health.db.dispose()
