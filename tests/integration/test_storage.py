"""Storage on SQLite and a real PostgreSQL: migrations, UTC round trips, applying plans."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy import inspect, select, text
from sqlalchemy.orm import Session, sessionmaker

from medlofte_bot.configuration import load_promise_set
from medlofte_bot.domain.states import TaskStatus
from medlofte_bot.services.plans import ApplyResult, apply_promise_set
from medlofte_bot.storage import models as m
from medlofte_bot.storage.database import head_revision, make_engine, migrate
from medlofte_bot.storage.models import Base

CONFIG = Path(__file__).parents[2] / "config" / "arvidsjaur-2015.toml"
STOCKHOLM = ZoneInfo("Europe/Stockholm")
NEW_YEAR = datetime(2015, 1, 1, tzinfo=STOCKHOLM)


def test_alembic_builds_every_table_from_empty(db_url: str) -> None:
    engine = make_engine(db_url)
    migrate(engine)
    tables = set(inspect(engine).get_table_names())
    assert {"municipality", "promise", "task", "team", "member", "completion", "reminder",
            "sent_message", "audit_entry", "alembic_version"} <= tables
    with engine.connect() as conn:
        version = conn.execute(text("select version_num from alembic_version")).scalar()
        assert version == head_revision()
    # the models and the migrated schema agree: every mapped column exists
    for table in Base.metadata.sorted_tables:
        columns = {c["name"] for c in inspect(engine).get_columns(table.name)}
        assert {c.name for c in table.columns} <= columns, table.name
    migrate(engine)  # a second run is a no-op, not an error
    engine.dispose()


@pytest.mark.parametrize("moment", [
    datetime(2015, 3, 29, 1, 59, tzinfo=UTC),              # just before spring DST
    datetime(2015, 3, 29, 3, 30, tzinfo=STOCKHOLM),        # just after it, local
    datetime(2015, 10, 25, 2, 30, fold=0, tzinfo=STOCKHOLM),  # first 02:30 of autumn DST
    datetime(2015, 10, 25, 2, 30, fold=1, tzinfo=STOCKHOLM),  # the second 02:30
])
def test_times_come_back_as_the_same_aware_utc_instant(
        sessions: sessionmaker[Session], moment: datetime) -> None:
    with sessions.begin() as s:
        s.add(m.AuditEntry(at=moment, actor="t", action="x", entity="y", entity_id="1"))
    with sessions() as s:
        back = s.scalar(select(m.AuditEntry.at))
    assert back is not None and back.tzinfo is not None
    assert back.utcoffset() == timedelta(0)
    # compare in UTC: Python never calls an ambiguous (fold) local time equal across zones
    assert back == moment.astimezone(UTC)
    assert back.astimezone(STOCKHOLM).fold == moment.fold


def test_a_naive_time_is_refused_and_nothing_is_stored(sessions: sessionmaker[Session]) -> None:
    with pytest.raises(Exception, match="naive"), sessions.begin() as s:
        s.add(m.AuditEntry(at=datetime(2015, 1, 1), actor="t", action="x", entity="y",
                           entity_id="1"))
    with sessions() as s:
        assert s.scalar(select(m.AuditEntry.id)) is None


def _apply(sessions: sessionmaker[Session], path: Path, now: datetime) -> ApplyResult:
    with sessions.begin() as s:
        return apply_promise_set(s, load_promise_set(path), now, actor="test")


def test_applying_the_same_config_twice_changes_nothing(sessions: sessionmaker[Session]) -> None:
    first = _apply(sessions, CONFIG, NEW_YEAR)
    assert len(first.added) == 46 and not first.unchanged
    with sessions() as s:
        before = [(t.key, t.start_at, t.team_id) for t in s.scalars(select(m.Task))]
    second = _apply(sessions, CONFIG, NEW_YEAR + timedelta(days=3))
    assert second.unchanged and not second.added and second.kept == 46
    with sessions() as s:
        after = [(t.key, t.start_at, t.team_id) for t in s.scalars(select(m.Task))]
        audits = s.scalars(select(m.AuditEntry.action)).all()
    assert before == after
    assert audits.count("plan_applied") == 1


def test_an_edited_config_updates_pending_tasks_and_keeps_completions(
        sessions: sessionmaker[Session], tmp_path: Path) -> None:
    _apply(sessions, CONFIG, NEW_YEAR)
    with sessions.begin() as s:
        first = s.scalars(select(m.Task).join(m.Promise).where(m.Promise.key == "narkotika")
                          .order_by(m.Task.start_at)).first()
        assert first is not None
        first.status = TaskStatus.DONE
        s.add(m.Completion(task_id=first.id, done_at=first.end_at, note="ok"))
        done_id, done_start = first.id, first.start_at
    edited = tmp_path / "arvidsjaur-2015.toml"
    edited.write_text(CONFIG.read_text().replace("seed = 20150101", "seed = 7"))
    later = done_start + timedelta(days=1)
    result = _apply(sessions, edited, later)
    assert result.updated, "a new seed moves pending tasks"
    with sessions() as s:
        done = s.get(m.Task, done_id)
        assert done is not None and done.status == "done" and done.start_at == done_start
        assert s.scalar(select(m.Completion.note).where(m.Completion.task_id == done_id)) == "ok"
        narcotics = s.scalars(select(m.Task).join(m.Promise).where(
            m.Promise.key == "narkotika", m.Task.status.in_(["pending", "done"]))).all()
        assert len(narcotics) >= 6
        assert all(t.start_at > later for t in narcotics if t.status == "pending")
        actions = set(s.scalars(select(m.AuditEntry.action)))
    assert {"planned", "replanned", "plan_applied"} <= actions


def test_a_year_already_over_is_refused_and_nothing_is_written(
        sessions: sessionmaker[Session]) -> None:
    from medlofte_bot.domain.errors import UserError

    with pytest.raises(UserError) as err:
        _apply(sessions, CONFIG, datetime(2016, 1, 2, tzinfo=UTC))
    assert err.value.key == "year_over"
    with sessions() as s:
        assert s.scalar(select(m.Task.id)) is None
        assert s.scalar(select(m.Municipality.id)) is None
