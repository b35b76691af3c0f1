"""`new-year` as a coordinator runs it: last year's outcome from the database, then `plan`."""

from __future__ import annotations

import shutil
from datetime import datetime
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy import select

from medlofte_bot.cli import main
from medlofte_bot.configuration import load_promise_set
from medlofte_bot.domain.states import TaskStatus
from medlofte_bot.scheduling.clock import ManualClock
from medlofte_bot.services.plans import apply_promise_set
from medlofte_bot.settings import load_settings
from medlofte_bot.storage import models as m
from medlofte_bot.storage.database import make_engine, migrate, session_factory

CONFIG = Path(__file__).parents[2] / "config" / "arvidsjaur-2015.toml"
STOCKHOLM = ZoneInfo("Europe/Stockholm")
JANUARY = ManualClock(datetime(2016, 1, 4, 9, 0, tzinfo=STOCKHOLM))


@pytest.fixture(autouse=True)
def _isolated(cli_isolated: None) -> None:
    """Each test in its own folder, none of the bot's variables set (tests/conftest.py)."""


def _played(url: str) -> None:
    """2015 stored: 2 of 6 narcotics operations and all 6 bar inspections (one joint with
    a partner present), 7 school controls of 12."""
    engine = make_engine(url)
    migrate(engine)
    with session_factory(engine).begin() as s:
        apply_promise_set(s, load_promise_set(CONFIG), datetime(2015, 1, 1, tzinfo=STOCKHOLM))
        officer = m.Member(telegram_id=1, display_name="Anna", role="officer",
                           created_at=datetime(2015, 1, 1, tzinfo=STOCKHOLM))
        partner = m.Member(telegram_id=2, display_name="Pia", role="partner",
                           created_at=datetime(2015, 1, 1, tzinfo=STOCKHOLM))
        s.add_all([officer, partner])
        s.flush()
        joined = False
        for key, count in (("narkotika", 2), ("krogtillsyn", 6), ("skolkontroller", 7)):
            rows = s.scalars(select(m.Task).join(m.Promise).where(m.Promise.key == key)
                             .order_by(m.Task.start_at)).all()
            for row in rows[:count]:
                row.status = TaskStatus.DONE
                s.add(m.Completion(task_id=row.id, member_id=officer.id, done_at=row.end_at))
                if row.joint and not joined:
                    s.add(m.Participation(task_id=row.id, member_id=partner.id, joins=True,
                                          at=row.start_at))
                    joined = True
    engine.dispose()


def test_two_commands_from_the_2015_file_to_a_2016_plan_with_last_years_outcome(
        db_url: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    config = tmp_path / "config"
    config.mkdir()
    shutil.copy(CONFIG, config)
    _played(db_url)
    settings = load_settings({"DATABASE_URL": db_url})
    assert main(["new-year", "config/arvidsjaur-2015.toml", "2016"], clock=JANUARY,
                settings=settings) == 0
    out = capsys.readouterr().out
    assert "config/arvidsjaur-2016.toml" in out and "11 datum att bekräfta" in out
    text = (config / "arvidsjaur-2016.toml").read_text(encoding="utf-8")
    assert "# Utfall 2015: ej uppfyllt, 2 av 6 genomförda, 4 färre än målet." in text
    assert "# Utfall 2015: ej uppfyllt, 7 av 12 genomförda, 5 färre än målet." in text
    assert "# Utfall 2015: ej uppfyllt, 6 av 6 genomförda; antalet nåddes men inte de " \
           "gemensamma. Gemensamma med partner: 1 av 2." in text
    assert "seed = 20150101" not in text
    assert "# Utfallet 2015 står överst i varje löfte" in text
    assert main(["plan", "config/arvidsjaur-2016.toml"], settings=settings) == 0
    plan = capsys.readouterr().out
    assert "Arvidsjaur 2016: plan för medborgarlöftena" in plan and "Studenten" in plan


def test_an_existing_file_is_kept_unless_forced(tmp_path: Path,
                                                capsys: pytest.CaptureFixture[str]) -> None:
    shutil.copy(CONFIG, tmp_path)
    target = tmp_path / "arvidsjaur-2016.toml"
    target.write_text("# mitt utkast\n", encoding="utf-8")
    source = str(tmp_path / "arvidsjaur-2015.toml")
    assert main(["new-year", source, "2016"], clock=JANUARY) == 2
    assert "finns redan" in capsys.readouterr().err
    assert target.read_text(encoding="utf-8") == "# mitt utkast\n"
    assert not (tmp_path / "data").exists()  # no database was made to look for an outcome
    assert main(["new-year", source, "2016", "--force"], clock=JANUARY) == 0
    assert load_promise_set(target).promise_set.year == 2016
    assert "Inget utfall för 2015 hittades" in target.read_text(encoding="utf-8")


def test_a_year_not_later_is_refused_in_words(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["--lang", "en", "new-year", str(CONFIG), "2015"], clock=JANUARY) == 2
    err = capsys.readouterr().err
    assert "the next year must be later, not 2015" in err and "Traceback" not in err


def test_a_folder_that_does_not_exist_is_said_in_words(
        tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["new-year", str(CONFIG), "2016", "--output",
                 str(tmp_path / "nowhere" / "x.toml")], clock=JANUARY) == 2
    err = capsys.readouterr().err
    assert "Kan inte skriva" in err and "Traceback" not in err
