"""The Arvidsjaur 2015 year played through the chat: every promise reminded, confirmed, counted."""

from __future__ import annotations

import asyncio
import io
import json
import re
from datetime import datetime
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy import select

from medlofte_bot.demo import people as pp
from medlofte_bot.demo.runner import Demo
from medlofte_bot.storage import models as m

CONFIG = Path(__file__).parents[2] / "config" / "arvidsjaur-2015.toml"
TZ = ZoneInfo("Europe/Stockholm")


# the demo after its run, the figures it printed last and its whole transcript
Year = tuple[Demo, dict[str, Any], str]


@pytest.fixture(scope="module")
def year(tmp_path_factory: pytest.TempPathFactory) -> Year:
    out = io.StringIO()
    demo = Demo(CONFIG, datetime(2015, 1, 1, 6, tzinfo=TZ), out)
    figures = asyncio.run(demo.run(datetime(2016, 1, 9, tzinfo=TZ),
                                   tmp_path_factory.mktemp("year")))
    return demo, figures, out.getvalue()


def test_the_year_ends_with_the_documented_figures(year: Year) -> None:
    _, figures, _ = year
    assert set(figures) == {"demo", "messages", "weekly_summaries", "tasks_planned",
                            "tasks_done", "promises_met", "promises"}
    assert figures["demo"] == "ok" and figures["promises"] == 5
    assert figures["weekly_summaries"] == 2 * 53  # chief and coordinator, every Monday of 2015
    assert figures["tasks_done"] >= 40 and figures["tasks_planned"] >= 46


def test_every_promise_had_tasks_reminded_confirmed_and_counted(year: Year) -> None:
    demo, _, _ = year
    with demo.services.ctx.db.sessions() as s:
        for key in ("narkotika", "riskkvallar", "krogtillsyn", "skolkontroller", "buskorning"):
            done = s.scalars(select(m.Task).join(m.Promise).where(
                m.Promise.key == key, m.Task.status == "done")).all()
            assert done, key
            for task in done:
                sent = s.scalars(select(m.Reminder).where(
                    m.Reminder.task_id == task.id, m.Reminder.state == "sent",
                    m.Reminder.kind.in_(("assignee_2h", "team_1d", "was_it_done")))).all()
                assert sent, f"{key} task {task.id} was never reminded"
        counters = s.scalars(select(m.Completion.counters).join(m.Task).where(
            m.Task.kind == "risk_night")).all()
        assert sum(c.get("pour_outs", 0) for c in counters) > 0
        # summer nights keep the Kronoberg counters too: their follow-up asks for them,
        # answered labelled in any order or in order (issue 9: it used to ask for a note)
        summer = s.execute(select(m.Completion.counters, m.Completion.fields).join(m.Task)
                           .where(m.Task.kind == "summer_night_patrol")).all()
        assert summer and all(c.get("young_people_met", 0) > 0 for c, _ in summer)
        assert any(f.get("vehicles_checked") for _, f in summer)


def test_a_joint_inspection_was_joined_and_one_declined(year: Year) -> None:
    demo, _, transcript = year
    with demo.services.ctx.db.sessions() as s:
        answers = s.scalars(select(m.Participation.joins)).all()
    assert True in answers and False in answers
    assert "[Jag deltar]" in transcript and "[Kan inte]" in transcript


def test_no_partner_ever_saw_a_police_only_task(year: Year) -> None:
    demo, _, _ = year
    with demo.services.ctx.db.sessions() as s:
        police_only = {t.id for t in s.scalars(select(m.Task).where(m.Task.visibility == "police"))}
    for partner in (pp.PIA, pp.FREDRIK):
        messages = demo.emu.messages_to(partner)
        assert messages
        for msg in messages:
            text = msg.text or msg.caption or ""
            mentioned = {int(x) for x in re.findall(r"#(\d+) ", text)}
            assert not mentioned & police_only, text
            assert "Narkotika" not in text and "Trafikkontroll" not in text


def test_the_moved_task_stayed_where_the_officer_put_it(year: Year) -> None:
    demo, _, transcript = year
    assert re.search(r"/flytta \d+ ", transcript)
    with demo.services.ctx.db.sessions() as s:
        moved = s.scalars(select(m.Task).where(m.Task.moved.is_(True))).all()
    assert len(moved) == 1 and moved[0].status == "done"


def test_the_demo_prints_its_json_last(year: Year) -> None:
    _, figures, transcript = year
    from medlofte_bot.demo.runner import play  # the CLI's path prints the same line last

    assert callable(play)
    assert json.loads(json.dumps(figures)) == figures
    assert "Veckorapport måndag 5 januari" in transcript


def test_every_follow_up_answer_was_stored_and_nothing_confirmed_twice(year: Year) -> None:
    demo, _, transcript = year
    assert "Redan registrerad" not in transcript
    assert "Jag kunde inte läsa" not in transcript
    with demo.services.ctx.db.sessions() as s:
        notes = s.scalars(select(m.Completion.note).join(m.Task).where(
            m.Task.kind == "narcotics_operation")).all()
    assert notes and all(notes)
