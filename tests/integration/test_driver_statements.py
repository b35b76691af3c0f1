"""The confirmation's statements on SQLite's driver (storage.driver) store and read exactly
what the same statements store and read through Core: the same text for a time, the same
JSON, the same enum word, the same row back (SQLite; on PostgreSQL they go through Core,
checked the same way)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

from seeding import bar_inspection_area
from sqlalchemy import bindparam, insert, select, update
from sqlalchemy.orm import Session, sessionmaker

from medlofte_bot.domain.states import TaskStatus
from medlofte_bot.storage import models as m
from medlofte_bot.storage.driver import DriverStatement

# a Swedish summer evening: the stored time must be the same instant in UTC
AT = datetime(2015, 6, 12, 22, 30, 15, 123456, tzinfo=ZoneInfo("Europe/Stockholm"))
AUDIT = m.table_of(m.AuditEntry)
KEYS = ("at", "actor", "action", "entity", "entity_id", "before", "after")


def _audit(n: int) -> dict[str, object]:
    return {"at": AT, "actor": f"member:{n}", "action": "done", "entity": "task",
            "entity_id": "7", "before": {"status": "pending"},
            "after": {"status": "done", "note": "två på Krogen"}}


def test_an_insert_on_the_driver_stores_what_core_stores(
        sessions: sessionmaker[Session]) -> None:
    statement = DriverStatement(insert(AUDIT), keys=KEYS)
    with sessions.begin() as s:
        connection = s.connection()
        assert statement.run(connection, _audit(1)) == 1
        connection.execute(insert(AUDIT), _audit(2))
    with sessions() as s:
        stored = {row.actor: row for row in s.scalars(select(m.AuditEntry))}
        # as the database holds them (times as text on SQLite, JSON as text)
        raw = s.connection().exec_driver_sql(
            "SELECT actor, at, before, after FROM audit_entry ORDER BY actor").all()
    driver, core = stored["member:1"], stored["member:2"]
    assert driver.at == core.at == AT.astimezone(UTC)
    assert driver.at.tzinfo is not None
    assert (driver.before, driver.after) == (core.before, core.after) == (
        {"status": "pending"}, {"status": "done", "note": "två på Krogen"})
    assert raw[0][1:] == raw[1][1:]


def test_an_update_fills_the_values_the_statement_carries(
        sessions: sessionmaker[Session]) -> None:
    """status='done' is part of the statement, the time and the task are given."""
    tasks = m.table_of(m.Task)
    statement = DriverStatement(update(tasks).where(tasks.c.id == bindparam("task")).values(
        status=TaskStatus.DONE, updated_at=bindparam("at")))
    with sessions.begin() as s:
        _muni, promise, team = bar_inspection_area(s)
        rows = [m.Task(promise_id=promise.id, key=f"t{i}", kind="bar_inspection",
                       start_at=AT, end_at=AT + timedelta(hours=3), team_id=team.id,
                       visibility="public", status="pending", updated_at=AT)
                for i in range(2)]
        s.add_all(rows)
        s.flush()
        ids = [r.id for r in rows]
    later = AT + timedelta(hours=1)
    with sessions.begin() as s:
        assert statement.run(s.connection(), {"task": ids[0], "at": later}) == 1
        assert statement.run(s.connection(), {"task": 999_999, "at": later}) == 0
    with sessions() as s:
        first, second = (s.get(m.Task, i) for i in ids)
        assert first is not None and second is not None
        assert (first.status, first.updated_at) == (TaskStatus.DONE, later)
        assert (second.status, second.updated_at) == (TaskStatus.PENDING, AT)


def test_a_select_on_the_driver_reads_what_core_reads(sessions: sessionmaker[Session]) -> None:
    query = select(m.Task.id, m.Task.start_at, m.Task.status, m.Task.joint, m.Task.invited,
                   m.Promise.key.label("promise_key")).join(
        m.Promise, m.Promise.id == m.Task.promise_id).where(m.Task.key == bindparam("key"))
    with sessions.begin() as s:
        _muni, promise, team = bar_inspection_area(s)
        s.add(m.Task(promise_id=promise.id, key="krogen", kind="bar_inspection",
                     start_at=AT, end_at=AT + timedelta(hours=3), team_id=team.id,
                     visibility="public", joint=True, invited=["alkoholhandlaggare"],
                     status="pending", updated_at=AT))
    with sessions() as s:
        found = DriverStatement(query).first(s.connection(), {"key": "krogen"})
        core = s.execute(query, {"key": "krogen"}).one()
        assert DriverStatement(query).first(s.connection(), {"key": "ingen"}) is None
    assert found == dict(core._mapping)
    assert found["start_at"] == AT and found["status"] is TaskStatus.PENDING
    assert found["joint"] is True and found["invited"] == ["alkoholhandlaggare"]
