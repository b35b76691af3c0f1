"""The three-municipality example (config/lpo-pitea-alvdal/) end to end: one chief, teams
shared between towns, the Monday summary and /status grouped by municipality."""

from __future__ import annotations

import asyncio
import re
from collections.abc import AsyncIterator
from datetime import datetime, timedelta
from itertools import pairwise
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy import select

from medlofte_bot.chat.render import MESSAGE_MAX, units
from medlofte_bot.storage import models as m

from .conftest import Harness, start_bot, stop_bot

AREA = Path(__file__).parents[2] / "config" / "lpo-pitea-alvdal"
TOWNS = ("Arvidsjaur", "Arjeplog", "Älvsbyn")
CHIEF, OFFICER = 4001, 2002
STOCKHOLM = ZoneInfo("Europe/Stockholm")


@pytest.fixture
async def area(tmp_path: Path) -> AsyncIterator[Harness]:
    h = await start_bot(tmp_path, datetime(2015, 3, 1, 12, 0, tzinfo=STOCKHOLM),
                        configs=[AREA])
    try:
        yield h
    finally:
        await stop_bot(h)




async def test_the_area_file_folder_plans_three_towns_with_shared_teams(area: Harness) -> None:
    with area.db.sessions() as s:
        towns = set(s.scalars(select(m.Municipality.name)))
        assert towns == set(TOWNS)
        teams = {t.key: t for t in s.scalars(select(m.Team))}
        assert sorted(teams) == ["alvsbyn", "lag-1", "lag-2"], "a shared team is one team"
        rows = list(s.scalars(select(m.Task).where(m.Task.status != "cancelled")))
        for key in ("lag-1", "lag-2"):
            mine = sorted((r for r in rows if r.team_id == teams[key].id),
                          key=lambda r: r.start_at)
            assert len({r.promise.municipality.name for r in mine}) == 2, key
            assert all(b.start_at >= a.end_at for a, b in pairwise(mine)), \
                f"{key} is booked twice at once"


async def test_the_chief_reads_every_town_by_name_in_status_and_the_monday_summary(
        area: Harness, tmp_path: Path) -> None:
    await area.join(CHIEF, "Kim", "/bjud chef arvidsjaur")
    status = await area.say(CHIEF, "/status")
    heads = [status.index(f"\n{town}:") for town in TOWNS]
    assert all(h > 0 for h in heads), status
    for start, end in zip(heads, [*heads[1:], len(status)], strict=True):
        part = status[start:end] if start < end else status[start:]
        assert "Riktade insatser mot narkotika: 0/" in part  # once under each name
    assert status.count("Riktade insatser mot narkotika") == 3
    assert "lag-1" not in status and "alvsbyn" not in status
    plan = await area.say(CHIEF, "/plan")
    heads = [plan.find(f"\n{town}:\n") for town in TOWNS]
    shown = [h for h in heads if h >= 0]
    assert len(shown) >= 2 and plan.startswith("De kommande 14 dagarna:"), plan
    assert " i Arjeplog (" not in plan, "grouped under the name, not repeated per line"

    monday = datetime(2015, 3, 2, 7, 1, tzinfo=STOCKHOLM)
    area.clock.current = monday
    await area.tick()
    await area.tick()
    messages = area.emu.messages_to(CHIEF)
    texts_ = [x.text or "" for x in messages if x.kind != "photo"]
    start = next(i for i, t in enumerate(texts_) if t.startswith("Veckorapport"))
    summary = texts_[start:]
    assert all(units(t) <= MESSAGE_MAX for t in summary)
    whole = "\n".join(summary)
    assert all(f"\n{town}:" in whole for town in TOWNS)
    assert "Kommande 14 dagar" in whole
    upcoming = whole[whole.index("Kommande 14 dagar"):]
    assert any(f" i {town} (" in upcoming for town in TOWNS), "each line says where"
    photos = [x for x in messages if x.kind == "photo"]
    assert len(photos) == 1 and photos[0].file_size and photos[0].file_size > 1000
    assert photos[0].file_id is not None
    png = area.emu.files[photos[0].file_id].data
    assert png.startswith(b"\x89PNG")
    # what the chief read, kept with the run (--basetemp) to be looked at
    (tmp_path / "area-summary.txt").write_text("\n\n---\n\n".join(summary), encoding="utf-8")
    (tmp_path / "area-chart.png").write_bytes(png)


async def test_an_officer_of_a_shared_team_sees_both_towns_and_where_each_task_is(
        area: Harness) -> None:
    await area.join(OFFICER, "Stina", "/bjud polis lag-2 arjeplog")
    with area.db.sessions() as s:
        team = s.scalars(select(m.Team).where(m.Team.key == "lag-2")).one()
        ahead = [(r.start_at, r.end_at, r.promise.municipality.name) for r in s.scalars(
            select(m.Task).where(m.Task.team_id == team.id, m.Task.status == "pending",
                                 m.Task.start_at > area.clock.current)
            .order_by(m.Task.start_at))]
    # the first time lag-2 works in one town and then, within a week, in the other
    first = next(a for a, b in pairwise(ahead) if a[2] != b[2] and b[0] - a[0] < timedelta(7))
    area.clock.current = first[0] - timedelta(hours=1)
    shown = [town for start, end, town in ahead  # what /mina lists: not over, within 30 days
             if end > area.clock.current and start < area.clock.current + timedelta(days=30)][:8]
    before = len(area.emu.messages_to(OFFICER))
    await area.emu.send_text(OFFICER, "/mina")
    await area.emu.wait_until(
        lambda: len(area.emu.messages_to(OFFICER)) >= before + 1 + len(shown) or None)
    cards = [x.text or "" for x in area.emu.messages_to(OFFICER)][-len(shown):]
    assert all(card.startswith("#") for card in cards), cards
    assert [re.search(r" i (\w+) \(Arvidsjaur lag 2", c)[1] for c in cards] == shown  # type: ignore[index]


async def test_a_status_longer_than_a_message_comes_whole_in_several(tmp_path: Path) -> None:
    text = (AREA.parent / "arvidsjaur-2015.toml").read_text(encoding="utf-8")
    towns = [f"Ort {chr(65 + n)}" for n in range(20)]
    folder = tmp_path / "area"
    folder.mkdir()
    for n, town in enumerate(towns):  # twenty towns with their own teams, one area
        (folder / f"ort-{n:02d}.toml").write_text(
            text.replace('municipality = "Arvidsjaur"', f'municipality = "{town}"')
            .replace('slug = "arvidsjaur"', f'slug = "ort-{n:02d}"')
            .replace('id = "lag-', f'id = "o{n}-lag-').replace('"Arvidsjaur lag ', f'"{town} lag '),
            encoding="utf-8")
    h = await start_bot(tmp_path, datetime(2015, 3, 1, 12, 0, tzinfo=STOCKHOLM),
                        configs=[folder])
    try:
        await h.join(CHIEF, "Kim", "chef ort-00")
        before = len(h.emu.messages_to(CHIEF))
        await h.emu.send_text(CHIEF, "/status")
        await h.emu.wait_until(lambda: len(h.emu.messages_to(CHIEF)) > before + 1 or None)
        await asyncio.sleep(0.5)  # let the last part arrive
        parts = [x.text or "" for x in h.emu.messages_to(CHIEF)[before:]]
        assert len(parts) >= 2 and all(units(p) <= MESSAGE_MAX for p in parts)
        whole = "\n".join(parts)
        assert all(f"\n{town}:\n" in f"\n{whole}" for town in towns), "no town left out"
        assert all(p.split("\n")[0].endswith(":") for p in parts[1:]), \
            "each further part starts at a town's heading"
    finally:
        await stop_bot(h)
