"""The Arvidsjaur 2015 year played through the chat: every promise reminded, confirmed, counted."""

from __future__ import annotations

import json
import re
import shlex
import shutil
from datetime import datetime
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy import select

from medlofte_bot import texts
from medlofte_bot.cli import main
from medlofte_bot.demo import people as pp
from medlofte_bot.demo.runner import DEMO_DB, Demo
from medlofte_bot.scheduling.clock import ManualClock
from medlofte_bot.storage import models as m

CONFIG = Path(__file__).parents[2] / "config" / "arvidsjaur-2015.toml"
TZ = ZoneInfo("Europe/Stockholm")


# the demo after its run, the figures it printed last and its whole transcript
Year = tuple[Demo, dict[str, Any], str]


@pytest.fixture(scope="module")
def year(arvidsjaur_year: Year) -> Year:
    return arvidsjaur_year


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
    assert "Veckorapport för medborgarlöften 2015, måndag 5 januari" in transcript


def test_every_follow_up_answer_was_stored_and_nothing_confirmed_twice(year: Year) -> None:
    demo, _, transcript = year
    assert "Redan registrerad" not in transcript
    assert "Jag kunde inte läsa" not in transcript
    with demo.services.ctx.db.sessions() as s:
        notes = s.scalars(select(m.Completion.note).join(m.Task).where(
            m.Task.kind == "narcotics_operation")).all()
    assert notes and all(notes)


def test_the_readmes_report_command_works_on_the_database_the_demo_leaves(
        year: Year, tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
        capsys: pytest.CaptureFixture[str]) -> None:
    """The README's line, run as written in a folder laid out like a fresh clone after
    `make run` (data/demo.db beside config/), makes the public PDF of the played year."""
    import pypdf

    demo, _, _ = year
    root = Path(__file__).parents[2]
    line = next(x for x in (root / "README.md").read_text(encoding="utf-8").splitlines()
                if x.startswith("DATABASE_URL=sqlite:///data/demo.db "))
    said = texts.t("demo.report_command", "sv", db=Path("data") / DEMO_DB,
                   config=Path("config/arvidsjaur-2015.toml"), year=2015)
    assert said.splitlines()[-1].strip() == line  # the demo prints the same command
    env, _, command = line.partition(" ")
    argv = shlex.split(command)
    assert argv[:3] == [".venv/bin/python", "-m", "medlofte_bot"]
    (tmp_path / "data").mkdir()
    shutil.copyfile(demo.services.ctx.db.url.removeprefix("sqlite:///"),
                    tmp_path / "data" / DEMO_DB)
    shutil.copytree(root / "config", tmp_path / "config")
    monkeypatch.chdir(tmp_path)
    name, _, value = env.partition("=")
    monkeypatch.setenv(name, value)
    for unset in ("MEDLOFTE_CLOCK", "MEDLOFTE_CONFIG", "MEDLOFTE_LANG"):
        monkeypatch.delenv(unset, raising=False)
    after_the_year = ManualClock(datetime(2016, 2, 1, 9, tzinfo=TZ))
    assert main(argv[3:], clock=after_the_year) == 0
    assert "rapport.pdf" in capsys.readouterr().out
    reader = pypdf.PdfReader(tmp_path / "rapport.pdf")
    text = " ".join(" ".join(p.extract_text() for p in reader.pages).split())
    assert "Arvidsjaur 2015: uppföljning av medborgarlöftena" in text
    assert "Offentlig version" in text and "Utfall: 6 av 6 – uppfyllt." in text
    assert all(name not in text for name in ("Olle", "Lina", "Pia", "Kim", "Cora"))
