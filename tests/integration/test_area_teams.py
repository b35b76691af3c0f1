"""A team belongs to the police area: the municipalities that name it share one row and one
calendar, on SQLite and PostgreSQL."""

from __future__ import annotations

from collections import defaultdict
from datetime import UTC, datetime, timedelta
from itertools import pairwise
from pathlib import Path

import pytest
from seeding import insert_row
from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from medlofte_bot.configuration import load_many
from medlofte_bot.domain.errors import ConfigError, UserError
from medlofte_bot.domain.promise_set import PromiseSet
from medlofte_bot.domain.states import TaskStatus
from medlofte_bot.services import members, tasks
from medlofte_bot.storage import models as m
from medlofte_bot.storage.database import make_engine, migrate, session_factory

NOW = datetime(2015, 1, 1, 6, tzinfo=UTC)
AREA = "LPO Piteå Älvdal"
Sets = dict[tuple[str, int], PromiseSet]
World = tuple[sessionmaker[Session], Sets]


def _overlaps(rows: list[m.Task]) -> list[tuple[int, int]]:
    """Pairs of task ids one team has at overlapping times."""
    by_team: dict[int, list[m.Task]] = defaultdict(list)
    for row in rows:
        if row.team_id is not None and row.status != TaskStatus.CANCELLED:
            by_team[row.team_id].append(row)
    found = []
    for team_rows in by_team.values():
        team_rows.sort(key=lambda r: r.start_at)
        for a, b in pairwise(team_rows):
            if b.start_at < a.end_at:
                found.append((a.id, b.id))
    return found


def test_a_team_two_municipalities_name_is_one_team_never_booked_twice(area: World) -> None:
    sessions, _ = area
    with sessions() as s:
        shared = s.scalars(select(m.Team).where(m.Team.police_area == AREA)).all()
        assert sorted(t.key for t in shared) == ["lag-1", "lag-2"], "one row per area and key"
        rows = list(s.scalars(select(m.Task).join(m.Promise).join(m.Municipality).where(
            m.Municipality.police_area == AREA)))
        towns = {(r.team_id, r.promise.municipality.slug) for r in rows}
        assert {slug for _, slug in towns} == {"arvidsjaur", "arjeplog"}
        assert all((t.id, "arvidsjaur") in towns and (t.id, "arjeplog") in towns
                   for t in shared), "both municipalities use both shared teams"
        assert _overlaps(rows) == []
        # Valborg: both towns have their risk night, each with a different team
        valborg = [r for r in rows if r.label == "Valborgsmässoafton"]
        assert len(valborg) == 2 and valborg[0].team_id != valborg[1].team_id


def test_a_move_onto_the_shared_team_s_time_in_another_town_is_refused(area: World) -> None:
    sessions, sets = area
    with sessions.begin() as s:
        invite = members.create_invite(s, sets, "coordinator", NOW, municipality="arvidsjaur")
        coordinator = members.redeem(s, invite.code, 40, "Cora", "sv", NOW)
        theirs = s.scalars(select(m.Task).join(m.Promise).join(m.Municipality).where(
            m.Municipality.slug == "arjeplog", m.Task.kind == "bar_inspection",
            m.Task.start_at > NOW + timedelta(days=30)).order_by(m.Task.start_at)).first()
        assert theirs is not None and theirs.team is not None
        mine = s.scalars(select(m.Task).join(m.Promise).join(m.Municipality).where(
            m.Municipality.slug == "arvidsjaur", m.Task.kind == "bar_inspection",
            m.Task.team_id == theirs.team_id, m.Task.start_at > NOW + timedelta(days=30),
            m.Task.id != theirs.id)).first()
        assert mine is not None
        before = mine.start_at
        with pytest.raises(UserError) as err:
            tasks.move(s, sets, coordinator, mine.id, theirs.start_at, NOW)
        assert err.value.key == "move_team_busy"
        assert err.value.params["municipality"] == "Arjeplog"
        assert err.value.params["team"] == theirs.team.name
    with sessions() as s:
        row = s.get(m.Task, mine.id)
        assert row is not None and row.start_at == before and not row.moved


def test_files_of_one_area_that_name_a_team_differently_are_refused(tmp_path: Path) -> None:
    config = Path(__file__).parents[2] / "config" / "arvidsjaur-2015.toml"
    text = config.read_text(encoding="utf-8")
    (tmp_path / "a.toml").write_text(text, encoding="utf-8")
    (tmp_path / "b.toml").write_text(
        text.replace('slug = "arvidsjaur"', 'slug = "arjeplog"')
        .replace('"Arvidsjaur lag 2"', '"Arjeplog lag"'), encoding="utf-8")
    with pytest.raises(ConfigError) as err:
        load_many([tmp_path])
    assert err.value.key == "config_team_names"
    assert err.value.params["team"] == "lag-2"
    assert err.value.params["other"] == "Arvidsjaur lag 2"
    # another police area may use the same id for its own team
    (tmp_path / "b.toml").write_text(
        text.replace('slug = "arvidsjaur"', 'slug = "kiruna"')
        .replace('"LPO Piteå Älvdal"', '"LPO Kiruna"')
        .replace('"Arvidsjaur lag 2"', '"Kiruna lag"'), encoding="utf-8")
    assert len(load_many([tmp_path])) == 2


def test_0005_teams_of_one_area_fold_into_one_with_their_tasks_and_members(db_url: str
                                                                           ) -> None:
    engine = make_engine(db_url)
    migrate(engine, "0005")
    with engine.begin() as conn:
        for mid, slug, area in ((1, "arvidsjaur", AREA), (2, "arjeplog", AREA),
                                (3, "kiruna", "LPO Kiruna")):
            insert_row(conn, "municipality", id=mid, slug=slug, name=slug.title(),
                       police_area=area, timezone="Europe/Stockholm", language="sv")
            insert_row(conn, "team", id=10 + mid, municipality_id=mid, key="lag-1",
                       name="Lag 1", group_chat_id=-100 if mid == 2 else None)
            insert_row(conn, "promise", id=20 + mid, municipality_id=mid, year=2015,
                       key="krogtillsyn", title="Krogtillsyner", kind="bar_inspection",
                       target=6, joint_target=0, visibility="police", spec={})
            insert_row(conn, "task", id=30 + mid, promise_id=20 + mid, key="k-01",
                       kind="bar_inspection", start_at=NOW, end_at=NOW, team_id=10 + mid,
                       joint=False, visibility="police", label="", invited=[],
                       status="pending", moved=False, reason="", updated_at=NOW)
            insert_row(conn, "member", id=40 + mid, telegram_id=400 + mid, display_name="P",
                       role="officer", team_id=10 + mid, municipality_id=mid,
                       language="sv", active=True, unreachable=False, created_at=NOW)
    migrate(engine)
    with session_factory(engine)() as s:
        teams = {t.id: (t.police_area, t.key, t.group_chat_id)
                 for t in s.scalars(select(m.Team))}
        assert teams == {11: (AREA, "lag-1", -100), 13: ("LPO Kiruna", "lag-1", None)}
        task_teams = {i: t for i, t in s.execute(select(m.Task.id, m.Task.team_id))}
        assert task_teams == {31: 11, 32: 11, 33: 13}
        member_teams = {i: t for i, t in s.execute(select(m.Member.id, m.Member.team_id))}
        assert member_teams == {41: 11, 42: 11, 43: 13}
    engine.dispose()
