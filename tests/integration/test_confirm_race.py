"""Two officers confirm the same task at the same moment, in two processes (two transactions
on one database): one completion, and the second is told who was first."""

from __future__ import annotations

import threading
import time
from datetime import UTC, datetime, timedelta

from seeding import bar_inspection_area
from sqlalchemy import func, select
from sqlalchemy.orm import Session, sessionmaker

from medlofte_bot.services import tasks
from medlofte_bot.services.tasks import Done
from medlofte_bot.storage import models as m

NOW = datetime(2015, 3, 6, 22, tzinfo=UTC)


def test_a_confirmation_racing_another_is_told_who_was_first_and_nothing_counts_twice(
        sessions: sessionmaker[Session]) -> None:
    with sessions.begin() as s:
        _muni, promise, team = bar_inspection_area(s)
        anna, bo = (m.Member(telegram_id=tid, display_name=name, role="officer",
                             team_id=team.id, municipality_id=team.municipality_id,
                             created_at=NOW - timedelta(days=9))
                    for tid, name in ((601, "Anna"), (602, "Bo")))
        task = m.Task(promise_id=promise.id, key="k1", kind="bar_inspection",
                      start_at=NOW - timedelta(hours=1), end_at=NOW + timedelta(hours=2),
                      team_id=team.id, visibility="public", updated_at=NOW)
        s.add_all([anna, bo, task])
        s.flush()
        anna_id, bo_id, task_id = anna.id, bo.id, task.id

    second: list[Done] = []
    errors: list[BaseException] = []

    def bo_confirms() -> None:  # reads the task as pending, then meets Anna's insert
        try:
            with sessions.begin() as s:
                member = s.get(m.Member, bo_id)
                assert member is not None
                second.append(tasks.mark_done(s, member, task_id, NOW + timedelta(seconds=1)))
        except BaseException as exc:
            errors.append(exc)

    with sessions.begin() as s:  # Anna's transaction stays open while Bo confirms
        member = s.get(m.Member, anna_id)
        assert member is not None
        first = tasks.mark_done(s, member, task_id, NOW)
        bo_thread = threading.Thread(target=bo_confirms)
        bo_thread.start()
        time.sleep(0.3)  # PostgreSQL: Bo's insert waits on Anna's row; SQLite: on the file
    bo_thread.join(30)

    assert errors == []
    assert not first.already and first.by == "Anna"
    [done] = second
    assert done.already and done.by == "Anna"
    with sessions() as s:
        assert s.scalar(select(func.count()).select_from(m.Completion)) == 1
        assert s.scalar(select(func.count()).select_from(m.AuditEntry)
                        .where(m.AuditEntry.action == "done")) == 1
