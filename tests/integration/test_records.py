"""Records by rule: notes cleared after the year by the promise set's rule (counts and
completions kept, each clearing audited, the year report says so), names of deactivated
members replaced by their role, and `person` printing everything about one person."""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy import select, text

from medlofte_bot.cli import main
from medlofte_bot.configuration import LoadedSet, load_promise_set
from medlofte_bot.domain.states import TaskStatus
from medlofte_bot.scheduling.clock import ManualClock
from medlofte_bot.services import roster, tasks
from medlofte_bot.services.context import ServiceContext
from medlofte_bot.services.outbox import Outbox
from medlofte_bot.services.plans import apply_promise_set
from medlofte_bot.services.records import add_months, clear_due
from medlofte_bot.services.report import year_report
from medlofte_bot.settings import load_settings
from medlofte_bot.storage import models as m
from medlofte_bot.storage.database import Database, make_engine, migrate
from medlofte_bot.views.year_report import report_markdown

CONFIG = Path(__file__).parents[2] / "config" / "arvidsjaur-2015.toml"
STOCKHOLM = ZoneInfo("Europe/Stockholm")
NEW_YEAR = datetime(2015, 1, 1, tzinfo=STOCKHOLM)
SPRING = datetime(2015, 3, 1, 12, tzinfo=STOCKHOLM)
NOTE, REMARK, REASON = "Två beslag vid Storgatan 3.", "Krogen Björnen: ok", "sjuk, Per Persson"
DUE = datetime(2018, 1, 1, 0, 30, tzinfo=STOCKHOLM)  # 24 months after the year ended


@pytest.fixture(autouse=True)
def _isolated(cli_isolated: None) -> None:
    """Each test in its own folder, none of the bot's variables set (tests/conftest.py)."""


def _loaded(months: int | None) -> LoadedSet:
    base = load_promise_set(CONFIG)
    ps = base.promise_set.model_copy(update={"notes_kept_months": months})
    return LoadedSet(base.path, ps, hashlib.sha256(f"{base.digest}{months}".encode()).hexdigest())


@pytest.fixture
def db(db_url: str) -> Iterator[Database]:
    database = Database(db_url)
    database.migrate()
    yield database
    database.dispose()


def _play(db: Database, loaded: LoadedSet) -> dict[str, int]:
    """A note, free text in fields beside counts and codes, a cancellation with a reason."""
    sets = {("arvidsjaur", 2015): loaded.promise_set}
    with db.transaction() as s:
        apply_promise_set(s, loaded, NEW_YEAR)
        team = s.scalar(select(m.Team).where(m.Team.key == "lag-1"))
        muni = s.scalar(select(m.Municipality))
        assert team is not None and muni is not None
        officer = m.Member(telegram_id=501, display_name="Anna Polis", role="officer",
                           team_id=team.id, municipality_id=muni.id, created_at=NEW_YEAR)
        boss = m.Member(telegram_id=502, display_name="Sam", role="coordinator",
                        municipality_id=muni.id, created_at=NEW_YEAR)
        s.add_all([officer, boss])
        s.flush()
        rows = list(s.scalars(select(m.Task).join(m.Promise).where(
            m.Promise.key == "krogtillsyn", m.Task.team_id == team.id)
            .order_by(m.Task.start_at)))
        tasks.mark_done(s, officer, rows[0].id, rows[0].end_at, NOTE)
        tasks.record_follow_up(s, officer, rows[0].id, rows[0].end_at,
                               fields={"places_visited": 3, "remarks": REMARK,
                                       "vehicle": "unmarked"},
                               counters={"pour_outs": 2})
        later = [r for r in rows[1:] if r.start_at > SPRING]
        tasks.cancel(s, sets, boss, later[0].id, REASON, SPRING)
        return {"done": rows[0].id, "cancelled": later[0].id, "officer": officer.id}


def _texts_anywhere(db: Database) -> str:
    with db.transaction(write=False) as s:
        parts = [json.dumps([c.note, c.fields], ensure_ascii=False)
                 for c in s.scalars(select(m.Completion))]
        parts += [t.reason for t in s.scalars(select(m.Task))]
        parts += [json.dumps([a.before, a.after], ensure_ascii=False)
                  for a in s.scalars(select(m.AuditEntry))]
    return "\n".join(parts)


def test_notes_are_cleared_by_the_tick_after_the_kept_months_and_counts_stay(
        db: Database) -> None:
    loaded = _loaded(24)
    ids = _play(db, loaded)
    ctx = ServiceContext(db, {("arvidsjaur", 2015): loaded.promise_set},
                         ManualClock(DUE), names_kept_months=None)
    Outbox(ctx).prepare(add_months(DUE, -1))  # a month early: nothing is touched
    before = _texts_anywhere(db)
    assert NOTE in before and REMARK in before and REASON in before
    Outbox(ctx).prepare(DUE)
    after = _texts_anywhere(db)
    for gone in (NOTE, REMARK, REASON, "Storgatan", "Per Persson"):
        assert gone not in after
    with db.transaction(write=False) as s:
        done = s.scalar(select(m.Completion).where(m.Completion.task_id == ids["done"]))
        assert done is not None and done.note == ""
        assert done.fields == {"places_visited": 3, "vehicle": "unmarked"}
        assert done.counters == {"pour_outs": 2}
        assert s.get(m.Task, ids["done"]).status == TaskStatus.DONE  # type: ignore[union-attr]
        audits = list(s.scalars(select(m.AuditEntry).where(
            m.AuditEntry.action == "notes_cleared")))
        assert [(a.entity_id, a.after) for a in audits] == [(
            "arvidsjaur-2015", {"notes": 1, "reasons": 1, "audit_entries": 3,
                                "kept_months": 24})]
        report = year_report(s, loaded.promise_set, DUE)
    assert report is not None and report.notes_cleared_at is not None
    assert report.notes_cleared_at.date().isoformat() == "2018-01-01"
    assert "Fritexten (anteckningar och skäl) rensades måndag 1 januari kl. 00.30" in \
        report_markdown([report])
    assert {p.key: p.done for p in report.promises}["krogtillsyn"] == 1
    with db.transaction() as s:  # a second pass finds nothing and audits nothing
        assert clear_due(s, ctx.sets, DUE, None).sets == ()


def test_without_a_rule_notes_are_kept_and_the_stored_rule_applies_unloaded(
        db: Database) -> None:
    _play(db, _loaded(None))
    with db.transaction() as s:
        assert clear_due(s, {}, datetime(2040, 1, 1, tzinfo=UTC), None).sets == ()
    assert NOTE in _texts_anywhere(db)
    with db.transaction() as s:  # the 2015 file applied again with a rule, then not loaded
        apply_promise_set(s, _loaded(0), SPRING)
    with db.transaction() as s:
        cleared = clear_due(s, {}, datetime(2016, 1, 1, 1, tzinfo=STOCKHOLM), None)
    assert cleared.sets == ("arvidsjaur-2015",) and NOTE not in _texts_anywhere(db)


def test_a_deactivated_members_name_becomes_their_role_after_the_set_time(
        db: Database, capsys: pytest.CaptureFixture[str]) -> None:
    loaded = _loaded(None)
    ids = _play(db, loaded)
    sets = {("arvidsjaur", 2015): loaded.promise_set}
    with db.transaction() as s:
        boss = s.scalar(select(m.Member).where(m.Member.telegram_id == 502))
        assert boss is not None
        roster.deactivate(s, sets, boss, ids["officer"], SPRING, frozenset())
    with db.transaction() as s:
        assert clear_due(s, sets, add_months(SPRING, 11), 12).names == 0
    with db.transaction() as s:
        assert clear_due(s, sets, add_months(SPRING, 12), 12).names == 1
    with db.transaction(write=False) as s:
        officer = s.get(m.Member, ids["officer"])
        assert officer is not None and officer.display_name == "polis"
        entry = s.scalar(select(m.AuditEntry).where(m.AuditEntry.action == "name_cleared"))
        assert entry is not None and "Anna" not in json.dumps(entry.after)
        report = year_report(s, loaded.promise_set, SPRING)
    assert report is not None and "Anna Polis" not in report_markdown([report])
    settings = load_settings({"DATABASE_URL": db.url})
    assert main(["person", "--telegram-id", "501"], settings=settings) == 0
    out = capsys.readouterr().out
    assert "Allt som finns lagrat om polis (Telegram-id 501)" in out
    assert "En genomförd uppgift:" in out and "Krogtillsyner" in out
    assert "name_cleared" in out and "member_deactivated" in out
    assert "avslutad: 2015-03-01" in out


def test_person_prints_everything_about_one_person_and_refuses_an_unknown_id(
        db: Database, capsys: pytest.CaptureFixture[str]) -> None:
    played = _play(db, _loaded(None))
    with db.transaction(write=False) as s:
        done = s.get_one(m.Task, played["done"])
        when = done.start_at.astimezone(ZoneInfo("Europe/Stockholm")).strftime("%Y-%m-%d %H:%M")
    settings = load_settings({"DATABASE_URL": db.url})
    assert main(["--lang", "en", "person", "--telegram-id", "501"], settings=settings) == 0
    out = capsys.readouterr().out
    assert "Everything stored about Anna Polis (Telegram id 501)" in out
    assert "role: officer" in out and "team: Arvidsjaur lag 1" in out
    assert f"Krogtillsyner, {when}" in out
    assert "One task done:" in out and NOTE in out and REMARK in out
    assert "follow_up" in out and "done" in out  # the audit entries they made
    assert main(["person", "--telegram-id", "999"], settings=settings) == 2
    err = capsys.readouterr().err
    assert "Ingen medlem med Telegram-id 999" in err and "Traceback" not in err


def test_clear_notes_on_the_command_line(db: Database,
                                         capsys: pytest.CaptureFixture[str]) -> None:
    _play(db, _loaded(24))
    settings = load_settings({"DATABASE_URL": db.url})
    early = ManualClock(datetime(2016, 6, 1, tzinfo=UTC))
    assert main(["clear-notes"], clock=early, settings=settings) == 0
    assert "Inget att rensa nu" in capsys.readouterr().out
    assert main(["clear-notes"], clock=ManualClock(DUE), settings=settings) == 0
    assert "fritext i 1 genomförda uppgifter och 1 inställda (arvidsjaur-2015)" in \
        capsys.readouterr().out


def test_migration_dates_members_already_deactivated_from_the_audit(db_url: str) -> None:
    engine = make_engine(db_url)
    migrate(engine, "0005")
    with engine.begin() as conn:
        conn.execute(text(
            "INSERT INTO member (id, telegram_id, display_name, role, language, active,"
            " unreachable, created_at) VALUES (7, 70, 'Olle', 'officer', 'sv', false, false,"
            " :at)"), {"at": NEW_YEAR})
        conn.execute(text(
            "INSERT INTO audit_entry (at, actor, action, entity, entity_id) VALUES"
            " (:at, 'member:1', 'member_deactivated', 'member', '7')"), {"at": SPRING})
    migrate(engine)
    with engine.connect() as conn:
        got = conn.execute(text("SELECT deactivated_at FROM member WHERE id = 7")).scalar()
    engine.dispose()
    assert got is not None and str(got).startswith("2015-03-01")
