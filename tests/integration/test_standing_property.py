"""One standing, four readers: over random histories (done, missed, cancelled, partners who
joined, any moment of the year or after it), /status, the Monday summary, the chart and the
year report say the same numbers and the same word for every promise."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from medlofte_bot import texts
from medlofte_bot.chat.render import status_text
from medlofte_bot.configuration import load_promise_set
from medlofte_bot.domain.promise_set import PromiseSet
from medlofte_bot.domain.states import Role, TaskStatus
from medlofte_bot.services import members
from medlofte_bot.services.plans import apply_promise_set
from medlofte_bot.services.report import year_report
from medlofte_bot.services.status import promise_status
from medlofte_bot.services.summary import build_summary
from medlofte_bot.storage import models as m
from medlofte_bot.storage.database import make_engine, migrate, session_factory
from medlofte_bot.views.chart import chart_rows

CONFIG = Path(__file__).parents[2] / "config" / "arvidsjaur-2015.toml"
NEW_YEAR = datetime(2015, 1, 1, 6, tzinfo=UTC)
Sets = dict[tuple[str, int], PromiseSet]
OUTCOMES = st.sampled_from(["pending", "done", "done_joined", "missed", "cancelled"])


@pytest.fixture(scope="module")
def planned(tmp_path_factory: pytest.TempPathFactory
            ) -> Iterator[tuple[sessionmaker[Session], Sets, int]]:
    """One planned year on SQLite; every example works in a transaction it rolls back."""
    engine = make_engine(f"sqlite:///{tmp_path_factory.mktemp('standing')}/db.sqlite")
    migrate(engine)
    sessions = session_factory(engine)
    loaded = load_promise_set(CONFIG)
    with sessions.begin() as s:
        apply_promise_set(s, loaded, NEW_YEAR)
        members.ensure_coordinator(s, 1, "Cora", NEW_YEAR)
        partner = m.Member(telegram_id=2, display_name="Pia", role=Role.PARTNER,
                           partner_role="alkoholhandlaggare", created_at=NEW_YEAR)
        s.add(partner)
        s.flush()
        partner_id = partner.id
    yield sessions, {("arvidsjaur", 2015): loaded.promise_set}, partner_id
    engine.dispose()


@settings(max_examples=25, deadline=None, derandomize=True, database=None,
          suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(outcomes=st.lists(OUTCOMES, min_size=48, max_size=48),
       day=st.integers(0, 400))
def test_status_summary_chart_and_report_agree_on_every_promise(
        planned: tuple[sessionmaker[Session], Sets, int], outcomes: list[str],
        day: int) -> None:
    sessions, sets, partner_id = planned
    now = NEW_YEAR + timedelta(days=day, hours=3)
    s = sessions()
    try:
        chief = s.scalars(select(m.Member).where(m.Member.telegram_id == 1)).one()
        rows = list(s.scalars(select(m.Task).order_by(m.Task.start_at, m.Task.id)))
        for row, outcome in zip(rows, outcomes, strict=False):
            if row.end_at > now or outcome == "pending":
                continue  # the future stays as planned
            if outcome.startswith("done"):
                row.status = TaskStatus.DONE
                s.add(m.Completion(task_id=row.id, done_at=row.end_at, note="",
                                   counters={"young_people_met": 3, "pour_outs": 1}))
                if outcome == "done_joined" and row.joint:
                    s.add(m.Participation(task_id=row.id, member_id=partner_id, joins=True,
                                          at=row.start_at))
            else:
                row.status = TaskStatus(outcome)
        s.flush()
        status = promise_status(s, sets, chief, now)
        summary = build_summary(s, sets, chief, now).promises
        report = year_report(s, sets[("arvidsjaur", 2015)], now)
        assert report is not None
        text = status_text(status, "sv")
        by_key = {p.key: p for p in report.promises}
        chart = {r.promise: r for r in chart_rows(summary, "sv") if not r.joint}
        assert [r.promise for r in summary] == [r.promise for r in status]
        for line, said in zip(status, summary, strict=True):
            numbers = (line.done, line.target, line.joint_done, line.joint_target,
                       line.expected, line.counters)
            assert (said.done, said.target, said.joint_done, said.joint_target,
                    said.expected, said.counters) == numbers, line.promise
            assert said.state == line.state and said.joint_state == line.joint_state
            rep = by_key[line.promise]
            assert rep.state == line.state, line.promise
            assert (rep.done, rep.target) == (line.done, line.target), line.promise
            if line.target:
                word = texts.t(f"state.{line.state}", "sv", expected=line.expected,
                               reachable=line.reachable)
                assert f"{line.title}: {line.done}/{line.target} – {word}" in text
                assert chart[line.promise].words == word
                assert (chart[line.promise].done, chart[line.promise].target) == \
                    (line.done, line.target)
    finally:
        s.rollback()
        s.close()
