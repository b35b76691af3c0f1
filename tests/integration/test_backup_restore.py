"""`backup` while the bot's connection is open, `restore` into an empty database only: the
restored year reads back as the same year report (SQLite and PostgreSQL)."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
from pgserver import PostgresServer
from sqlalchemy import func, insert, select
from sqlalchemy.orm import Session

from medlofte_bot.cli import main
from medlofte_bot.configuration import load_promise_set
from medlofte_bot.domain.states import TaskStatus
from medlofte_bot.services import tasks
from medlofte_bot.services.plans import apply_promise_set
from medlofte_bot.services.report import YearReport, year_report
from medlofte_bot.settings import load_settings
from medlofte_bot.storage import models as m
from medlofte_bot.storage.database import make_engine, migrate, session_factory

CONFIG = Path(__file__).parents[2] / "config" / "arvidsjaur-2015.toml"
STOCKHOLM = ZoneInfo("Europe/Stockholm")
NEW_YEAR = datetime(2015, 1, 1, tzinfo=STOCKHOLM)
SPRING = datetime(2015, 3, 1, 12, tzinfo=STOCKHOLM)
AS_OF = datetime(2015, 6, 1, 12, tzinfo=STOCKHOLM)


@pytest.fixture(autouse=True)
def _isolated(cli_isolated: None) -> None:
    """Each test in its own folder, none of the bot's variables set (tests/conftest.py)."""


@pytest.fixture
def empty_url(db_url: str, tmp_path: Path, request: pytest.FixtureRequest) -> Iterator[str]:
    """A second, empty database on the same backend as ``db_url``."""
    if db_url.startswith("sqlite"):
        yield f"sqlite:///{tmp_path}/restored.db"
        return
    server: PostgresServer = request.getfixturevalue("pg_server")
    with server.scratch_database("restored") as url:
        yield url


def _play_spring(url: str) -> None:
    """Half a spring of 2015: done with notes and counts, a partner joined, one cancelled,
    one moved."""
    engine = make_engine(url)
    migrate(engine)
    loaded = load_promise_set(CONFIG)
    sets = {(loaded.promise_set.slug, 2015): loaded.promise_set}
    with session_factory(engine).begin() as s:
        apply_promise_set(s, loaded, NEW_YEAR, actor="test")
        team = s.scalar(select(m.Team).where(m.Team.key == "lag-1"))
        officer = m.Member(telegram_id=11, display_name="Anna Polis", role="officer",
                           team_id=team.id if team else None, created_at=NEW_YEAR)
        boss = m.Member(telegram_id=12, display_name="Sam", role="coordinator",
                        created_at=NEW_YEAR)
        partner = m.Member(telegram_id=13, display_name="Pia", role="partner",
                           partner_role="alkoholhandlaggare", created_at=NEW_YEAR)
        s.add_all([officer, boss, partner])
        s.flush()
        early = list(s.scalars(select(m.Task).where(m.Task.end_at < SPRING)
                               .order_by(m.Task.start_at)))
        for i, row in enumerate(early):
            row.status = TaskStatus.DONE
            s.add(m.Completion(task_id=row.id, member_id=officer.id, done_at=row.end_at,
                               note=f"anteckning {i}", counters={"pour_outs": i},
                               fields={"vehicles_checked": i}))
            if row.joint:
                s.add(m.Participation(task_id=row.id, member_id=partner.id, joins=True,
                                      at=row.start_at))
        later = list(s.scalars(select(m.Task).join(m.Promise).where(
            m.Promise.key == "narkotika", m.Task.start_at > SPRING).order_by(m.Task.start_at)))
        s.flush()
        tasks.cancel(s, sets, boss, later[0].id, "sjukdom", SPRING)
        moved = later[-1]
        start = moved.start_at.astimezone(STOCKHOLM) + timedelta(days=1)
        tasks.move(s, sets, boss, moved.id, start.replace(hour=20, minute=0), SPRING)
    engine.dispose()


def _report(url: str) -> tuple[YearReport, int]:
    engine = make_engine(url)
    try:
        with session_factory(engine)() as s:
            report = year_report(s, load_promise_set(CONFIG).promise_set, AS_OF)
            audits = s.scalar(select(func.count()).select_from(m.AuditEntry))
    finally:
        engine.dispose()
    assert report is not None
    return report, int(audits or 0)


def test_backup_while_open_then_restore_gives_the_same_year_report(
        db_url: str, empty_url: str, tmp_path: Path,
        capsys: pytest.CaptureFixture[str]) -> None:
    _play_spring(db_url)
    before, audits = _report(db_url)
    assert any(t.note for p in before.promises for t in p.tasks)
    assert any(t.moves for p in before.promises for t in p.tasks)
    file = tmp_path / "medlofte.backup"
    bot = make_engine(db_url)  # the running bot: a transaction open, with a write not committed
    try:
        with bot.connect() as conn, conn.begin() as open_transaction:
            conn.execute(insert(m.table_of(m.AuditEntry)).values(
                at=AS_OF, actor="bot", action="uncommitted", entity="x", entity_id="1"))
            assert main(["backup", str(file)],
                        settings=load_settings({"DATABASE_URL": db_url})) == 0
            open_transaction.rollback()
    finally:
        bot.dispose()
    assert "medlofte.backup" in capsys.readouterr().out
    assert main(["restore", str(file)],
                settings=load_settings({"DATABASE_URL": empty_url})) == 0
    after, restored_audits = _report(empty_url)
    assert after == before
    assert restored_audits == audits  # what was committed, and not the open transaction's row


def test_restore_refuses_a_database_that_is_not_empty(
        db_url: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    engine = make_engine(db_url)
    migrate(engine)
    with Session(engine) as s, s.begin():
        s.add(m.Municipality(slug="x", name="X", police_area="Y", timezone="Europe/Stockholm"))
    engine.dispose()
    settings = load_settings({"DATABASE_URL": db_url})
    file = tmp_path / "copy.backup"
    assert main(["backup", str(file)], settings=settings) == 0
    assert main(["backup", str(file)], settings=settings) == 2
    assert "skrivs aldrig över" in capsys.readouterr().err
    assert main(["--lang", "en", "restore", str(file)], settings=settings) == 2
    err = capsys.readouterr().err
    assert "is not empty" in err and "Traceback" not in err


def test_restore_refuses_a_file_that_is_no_backup(tmp_path: Path,
                                                  capsys: pytest.CaptureFixture[str]) -> None:
    file = tmp_path / "notes.txt"
    file.write_text("hej", encoding="utf-8")
    settings = load_settings({"DATABASE_URL": f"sqlite:///{tmp_path}/new.db"})
    assert main(["restore", str(file)], settings=settings) == 2
    assert "ingen säkerhetskopia av rätt slag" in capsys.readouterr().err


def test_a_backup_into_a_folder_that_does_not_exist_is_said_in_words(
        tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    url = f"sqlite:///{tmp_path}/live.db"
    engine = make_engine(url)
    migrate(engine)
    engine.dispose()
    assert main(["backup", str(tmp_path / "nowhere" / "copy.db")],
                settings=load_settings({"DATABASE_URL": url})) == 2
    err = capsys.readouterr().err
    assert "Kunde inte kopiera" in err and "Traceback" not in err
