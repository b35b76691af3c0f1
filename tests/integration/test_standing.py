"""The chief's numbers agree: /status, the summary, the chart's rows and the report read one
standing (SQLite and PostgreSQL)."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from medlofte_bot.configuration import load_promise_set
from medlofte_bot.domain.promise_set import PromiseSet
from medlofte_bot.domain.standing import Standing
from medlofte_bot.domain.states import TaskStatus
from medlofte_bot.services import members
from medlofte_bot.services.plans import apply_promise_set
from medlofte_bot.services.report import year_report
from medlofte_bot.services.status import promise_status
from medlofte_bot.services.summary import build_summary
from medlofte_bot.storage import models as m

CONFIG = Path(__file__).parents[2] / "config" / "arvidsjaur-2015.toml"
NEW_YEAR = datetime(2015, 1, 1, 6, tzinfo=UTC)
Sets = dict[tuple[str, int], PromiseSet]


@pytest.fixture
def planned(sessions: sessionmaker[Session]) -> Iterator[tuple[sessionmaker[Session], Sets]]:
    loaded = load_promise_set(CONFIG)
    with sessions.begin() as s:
        apply_promise_set(s, loaded, NEW_YEAR)
    yield sessions, {("arvidsjaur", 2015): loaded.promise_set}


def _done(s: Session, task: m.Task, counters: dict[str, int] | None = None) -> None:
    task.status = TaskStatus.DONE
    s.add(m.Completion(task_id=task.id, done_at=task.end_at, note="", counters=counters or {}))


def test_a_missed_task_whose_replacement_was_done_is_not_expected_twice(
        planned: tuple[sessionmaker[Session], Sets]) -> None:
    sessions, sets = planned
    with sessions.begin() as s:
        chief = members.ensure_coordinator(s, 1, "Cora", NEW_YEAR)
        rows = list(s.scalars(select(m.Task).join(m.Promise).where(
            m.Promise.key == "skolkontroller").order_by(m.Task.start_at)))
        now = rows[3].end_at + timedelta(hours=1)
        rows[0].status = TaskStatus.MISSED  # its replacement is among the rest, and was done
        for row in rows[1:4]:
            _done(s, row)
        line = next(r for r in promise_status(s, sets, chief, now)
                    if r.promise == "skolkontroller")
        assert (line.done, line.expected) == (3, 3)
        assert line.state == Standing.ON_TRACK, line


def test_counts_that_two_promises_read_are_summed_once_in_the_totals(
        planned: tuple[sessionmaker[Session], Sets]) -> None:
    sessions, sets = planned
    with sessions.begin() as s:
        chief = members.ensure_coordinator(s, 1, "Cora", NEW_YEAR)
        night = s.scalars(select(m.Task).join(m.Promise).where(
            m.Promise.key == "riskkvallar").order_by(m.Task.start_at)).first()
        assert night is not None
        _done(s, night, {"young_people_met": 75})
        now = night.end_at + timedelta(days=1)
        lines = {r.promise: r for r in promise_status(s, sets, chief, now)}
        assert lines["riskkvallar"].counters["young_people_met"] == 75
        assert lines["kronobergsmodellen"].counters["young_people_met"] == 75
        summary = build_summary(s, sets, chief, now)
        assert summary.counters["young_people_met"] == 75  # was 150


def test_status_summary_and_report_agree_after_the_year(
        planned: tuple[sessionmaker[Session], Sets]) -> None:
    sessions, sets = planned
    with sessions.begin() as s:
        chief = members.ensure_coordinator(s, 1, "Cora", NEW_YEAR)
        for row in s.scalars(select(m.Task).join(m.Promise).where(
                m.Promise.key.in_(("narkotika", "krogtillsyn")))):
            if row.promise.key == "narkotika" or not row.joint:
                _done(s, row)  # every bar inspection, but no partner joined a joint one
        after = datetime(2016, 1, 2, 9, tzinfo=UTC)
        lines = {r.promise: r for r in promise_status(s, sets, chief, after)}
        summary = {r.promise: r for r in build_summary(s, sets, chief, after).promises}
        report = year_report(s, sets[("arvidsjaur", 2015)], after)
        assert report is not None
        met = {p.key: p.met for p in report.promises}
        states = {p.key: p.state for p in report.promises}
    assert states == {key: line.state for key, line in lines.items()}  # the report's word too
    assert lines["narkotika"].state == Standing.FULFILLED and met["narkotika"] is True
    assert lines["krogtillsyn"].state == Standing.NOT_FULFILLED and met["krogtillsyn"] is False
    assert lines["skolkontroller"].state == Standing.NOT_FULFILLED
    for key, line in lines.items():
        assert summary[key].state == line.state
        if line.target is not None:
            assert (line.state == Standing.FULFILLED) is bool(met[key]), key
