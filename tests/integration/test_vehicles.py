"""The car is part of the plan people see: the report flags a car other than planned, and
the alternation continues from the car actually used (SQLite and PostgreSQL)."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from medlofte_bot.configuration import load_promise_set
from medlofte_bot.services import tasks
from medlofte_bot.services.plans import apply_promise_set
from medlofte_bot.services.report import year_report
from medlofte_bot.storage import models as m
from medlofte_bot.views.year_report import report_markdown

CONFIG = Path(__file__).parents[2] / "config" / "arvidsjaur-2015.toml"
NEW_YEAR = datetime(2015, 1, 1, 6, tzinfo=UTC)


def test_a_car_other_than_planned_is_flagged_and_the_next_ones_alternate_from_it(
        sessions: sessionmaker[Session]) -> None:
    loaded = load_promise_set(CONFIG)
    with sessions.begin() as s:
        apply_promise_set(s, loaded, NEW_YEAR)
        team = s.scalars(select(m.Team).where(m.Team.key == "lag-1")).one()
        officer = m.Member(telegram_id=501, display_name="Anna", role="officer",
                           team_id=team.id, municipality_id=team.municipality_id,
                           created_at=NEW_YEAR)
        s.add(officer)
        s.flush()
        rows = list(s.scalars(select(m.Task).join(m.Promise).where(
            m.Promise.key == "skolkontroller").order_by(m.Task.start_at)))
        first = rows[0]
        planned = first.vehicle
        used = "unmarked" if planned == "marked" else "marked"
        before = {r.id: r.vehicle for r in rows[1:]}
        tasks.mark_done(s, officer, first.id, first.end_at, "")
        tasks.record_follow_up(s, officer, first.id, first.end_at,
                               fields={"vehicle": used, "vehicles_checked": 9})
    with sessions() as s:
        later = list(s.scalars(select(m.Task).join(m.Promise).where(
            m.Promise.key == "skolkontroller", m.Task.id != first.id)
            .order_by(m.Task.start_at)))
        # the next one takes the other car than the one used, and they go on in turn
        assert [r.vehicle for r in later[:4]] == [planned, used, planned, used]
        changed = [r.id for r in later if r.vehicle != before[r.id]]
        audits = set(s.scalars(select(m.AuditEntry.entity_id).where(
            m.AuditEntry.action == "vehicle_changed")))
        assert changed and audits == {str(i) for i in changed}
        report = year_report(s, loaded.promise_set, datetime(2015, 12, 31, tzinfo=UTC))
    assert report is not None
    md = report_markdown([report], public=False)
    assert "⚠ inte det planerade fordonet" in md
    assert "Fordon: ett av 1 pass med svar gjordes med ett annat fordon" in md
