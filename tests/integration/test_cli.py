"""The plan command as a coordinator runs it: table, JSON, iCalendar, apply, bad files."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
from icalendar import Calendar
from sqlalchemy import create_engine, inspect, text

from medlofte_bot.cli import main
from medlofte_bot.scheduling.clock import ManualClock

CONFIG = str(Path(__file__).parents[2] / "config" / "arvidsjaur-2015.toml")
NEW_YEAR = ManualClock(datetime(2014, 12, 31, 23, 0, tzinfo=UTC))


@pytest.fixture(autouse=True)
def _isolated(cli_isolated: None) -> None:
    """Each test in its own folder, none of the bot's variables set (tests/conftest.py)."""


def test_json_has_the_documented_shape_and_the_same_bytes_every_run(
        capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["plan", CONFIG, "--json"]) == 0
    first = capsys.readouterr().out
    assert main(["plan", CONFIG, "--json", "--year", "2015"]) == 0
    assert capsys.readouterr().out == first
    doc = json.loads(first)
    assert set(doc) == {"municipality", "year", "timezone", "promises", "tasks"}
    assert (doc["municipality"], doc["year"], doc["timezone"]) == \
        ("Arvidsjaur", 2015, "Europe/Stockholm")
    assert all({"id", "title", "kind", "target"} <= set(p) for p in doc["promises"])
    for task in doc["tasks"]:
        assert set(task) == {"id", "promise", "kind", "start", "end", "team", "joint",
                             "vehicle", "visibility"}
        assert datetime.fromisoformat(task["start"]).utcoffset() is not None
        assert task["vehicle"] in ("marked", "unmarked", None)
        assert task["visibility"] in ("police", "partners", "public")
    kinds = {t["kind"] for t in doc["tasks"]}
    assert kinds == {"narcotics_operation", "risk_night", "bar_inspection",
                     "school_traffic_control", "summer_night_patrol"}


def test_the_table_is_swedish_and_grouped_by_month(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["plan", CONFIG]) == 0
    out = capsys.readouterr().out
    assert "Arvidsjaur 2015: plan för medborgarlöftena" in out
    assert "Krogtillsyner: 6, varav 2 gemensamma" in out
    assert "Juni 2015" in out and "Midsommarafton" in out
    assert "46 uppgifter." in out


def _categories(event: Any) -> set[str]:
    """An event's CATEGORIES as words."""
    return {str(c) for c in event["categories"].cats}


@pytest.mark.usefixtures("capsys")  # the command's "written" lines are captured, not checked
def test_ics_leaves_police_only_tasks_out_unless_asked(tmp_path: Path) -> None:
    ics = tmp_path / "plan.ics"
    assert main(["plan", CONFIG, "--ics", str(ics)], clock=NEW_YEAR) == 0
    events = [c for c in Calendar.from_ical(ics.read_bytes()).walk("VEVENT")]
    assert len(events) == 9 + 2  # risk nights and the two joint bar inspections
    assert all(str(e["class"]) == "PRIVATE" for e in events)  # partners invited, no one else
    assert {c for e in events for c in _categories(e)} == {"Riskkväll", "Krogtillsyn"}
    assert main(["plan", CONFIG, "--ics", str(ics), "--include-police-only"],
                clock=NEW_YEAR) == 0
    events = [c for c in Calendar.from_ical(ics.read_bytes()).walk("VEVENT")]
    assert len(events) == 46
    assert events[0].decoded("dtstart").tzinfo is not None
    police = [e for e in events if str(e["class"]) == "CONFIDENTIAL"]
    assert len(police) == 46 - 11 and {"Narkotikainsats"} <= {
        c for e in police for c in _categories(e)}


def test_the_calendar_from_the_database_shows_moves_and_cancellations(
        tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    from datetime import timedelta

    assert main(["plan", CONFIG, "--apply"], clock=NEW_YEAR) == 0
    engine = create_engine(f"sqlite:///{tmp_path}/data/medlofte.db")
    with engine.begin() as conn:
        moved, cancelled = conn.execute(text(
            "SELECT id, key, start_at FROM task WHERE visibility != 'police' "
            "ORDER BY start_at LIMIT 2")).all()
        conn.execute(text("UPDATE task SET start_at = :s, end_at = :e, updated_at = :u "
                          "WHERE id = :id"),
                     {"s": "2015-03-21 21:00:00.000000", "e": "2015-03-22 01:00:00.000000",
                      "u": "2015-03-01 10:00:00.000000", "id": moved.id})
        conn.execute(text("UPDATE task SET status = 'cancelled' WHERE id = :id"),
                     {"id": cancelled.id})
    engine.dispose()
    capsys.readouterr()
    ics = tmp_path / "year.ics"
    assert main(["calendar", CONFIG, "--output", str(ics)], clock=NEW_YEAR) == 0
    assert "Skrev 11 händelser" in capsys.readouterr().out
    events = {str(e["uid"]).split(".")[0]: e
              for e in Calendar.from_ical(ics.read_bytes()).walk("VEVENT")}
    assert len(events) == 11  # police-only work stays out of a file meant to be shared
    assert events[moved.key].decoded("dtstart").astimezone(UTC) == \
        datetime(2015, 3, 21, 21, 0, tzinfo=UTC)
    assert events[moved.key].decoded("dtend") - events[moved.key].decoded("dtstart") == \
        timedelta(hours=4)
    assert str(events[cancelled.key]["status"]) == "CANCELLED"
    assert str(events[moved.key]["status"]) == "CONFIRMED"
    assert int(str(events[moved.key]["sequence"])) > 0
    assert main(["calendar", CONFIG, "--output", str(ics), "--include-police-only"],
                clock=NEW_YEAR) == 0
    assert len(Calendar.from_ical(ics.read_bytes()).walk("VEVENT")) == 46


def test_the_calendar_says_so_when_nothing_is_stored(tmp_path: Path,
                                                     capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["calendar", CONFIG, "--output", str(tmp_path / "x.ics")],
                clock=NEW_YEAR) == 2
    assert "Traceback" not in capsys.readouterr().err
    assert not (tmp_path / "x.ics").exists()


def test_apply_prints_the_diff_then_nothing_the_second_time(
        tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["plan", CONFIG, "--apply"], clock=NEW_YEAR) == 0
    out = capsys.readouterr().out
    assert "46 nya, 0 ändrade, 0 inställda" in out
    assert (tmp_path / "data" / "medlofte.db").exists()
    assert main(["plan", CONFIG, "--apply"], clock=NEW_YEAR) == 0
    assert "oförändrad (46 uppgifter)" in capsys.readouterr().out


@pytest.mark.parametrize(("edit", "key"), [
    (("target = 6\njoint", 'target = "six"\njoint'), "promises[2] (krogtillsyn).target"),
    (('hours = ["22:00-02:00"]', 'hours = ["25:00-02:00"]'), "promises[2] (krogtillsyn).hours[0]"),
    (('id = "lag-2"', 'id = "Lag 2!"'), "teams[1] (Lag 2!).id"),
])
def test_a_bad_file_names_file_and_key_exits_2_and_writes_nothing(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch,
    edit: tuple[str, str], key: str,
) -> None:
    bad = tmp_path / "bad.toml"
    text = Path(CONFIG).read_text()
    assert edit[0] in text
    bad.write_text(text.replace(edit[0], edit[1], 1))
    db = tmp_path / "x.db"
    monkeypatch.setenv("DATABASE_URL", f"sqlite:///{db}")
    assert main(["plan", str(bad), "--apply"], clock=NEW_YEAR) == 2
    err = capsys.readouterr().err
    assert str(bad) in err and key in err
    assert "Inget har sparats" in err
    assert "Traceback" not in err
    assert not db.exists() or not inspect(create_engine(f"sqlite:///{db}")).get_table_names()


def test_a_toml_syntax_error_is_one_clear_message_in_english_too(
        tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    bad = tmp_path / "broken.toml"
    bad.write_text("municipality = 'Arvidsjaur\n")
    assert main(["--lang", "en", "plan", str(bad)]) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert err[0].startswith(f"Error: {bad} is not valid TOML")
    assert err[1].startswith("Nothing was saved.")


def test_a_year_without_a_file_is_refused(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["plan", CONFIG, "--year", "2016"]) == 2
    assert "inga löften för 2016" in capsys.readouterr().err


INVITES = """role,team,municipality,partner_role,name
polis,lag-1,arvidsjaur,,Olle Berg
officer,lag-2,,,Lina
partner,,arvidsjaur,alkoholhandlaggare,Pia
chief,,,,Kim
"""


def _invites(db: Path) -> list[tuple[str, str | None]]:
    engine = create_engine(f"sqlite:///{db}")
    try:
        if "invite" not in inspect(engine).get_table_names():
            return []
        with engine.connect() as conn:
            return [(r[0], r[1]) for r in conn.execute(
                text("SELECT role, name FROM invite ORDER BY id"))]
    finally:
        engine.dispose()


def test_invite_csv_prints_one_single_use_link_per_row_with_the_name(
        tmp_path: Path, capsys: pytest.CaptureFixture[str],
        monkeypatch: pytest.MonkeyPatch) -> None:
    rows = tmp_path / "people.csv"
    rows.write_text(INVITES, encoding="utf-8")
    db = tmp_path / "x.db"
    monkeypatch.setenv("DATABASE_URL", f"sqlite:///{db}")
    assert main(["invite", "--csv", str(rows), "--config", CONFIG], clock=NEW_YEAR) == 0
    out = capsys.readouterr()
    lines = out.out.strip().splitlines()
    assert [line.split(": ")[0] for line in lines] == ["Olle Berg", "Lina", "Pia", "Kim"]
    codes = {line.split("?start=")[1] for line in lines}
    assert len(codes) == 4 and all("https://t.me/medlofte_bot?start=" in x for x in lines)
    assert "4 inbjudningar" in out.err
    assert _invites(db) == [("officer", "Olle Berg"), ("officer", "Lina"),
                            ("partner", "Pia"), ("chief", "Kim")]


@pytest.mark.parametrize(("edit", "row", "column", "says"), [
    (("alkoholhandlaggare", "alkohol"), 4, "partner_role", "alkoholhandlaggare"),
    (("lag-2", "lag-7"), 3, "team", "lag-1 (Arvidsjaur lag 1)"),
    (("chief,,,,Kim", "chief,,pitea,,Kim"), 5, "municipality", "arvidsjaur"),
    (("chief,,,,Kim", "sheriff,,,,Kim"), 5, "role", "polis"),
    (("partner,,arvidsjaur,alkoholhandlaggare", "partner,,arvidsjaur,"), 4, "partner_role",
     "faltarbetare"),
    ((",partner_role,name", ",name"), 1, "partner_role", "saknas"),
])
def test_a_bad_invite_file_names_row_and_column_and_stores_nothing(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch,
    edit: tuple[str, str], row: int, column: str, says: str,
) -> None:
    rows = tmp_path / "people.csv"
    assert edit[0] in INVITES
    rows.write_text(INVITES.replace(edit[0], edit[1], 1), encoding="utf-8")
    db = tmp_path / "x.db"
    monkeypatch.setenv("DATABASE_URL", f"sqlite:///{db}")
    assert main(["invite", "--csv", str(rows), "--config", CONFIG], clock=NEW_YEAR) == 2
    out = capsys.readouterr()
    assert out.out == "", "no link is printed"
    assert f"{rows}: rad {row}, kolumn {column}: " in out.err and says in out.err
    assert "Inget har sparats" in out.err and "Traceback" not in out.err
    assert _invites(db) == []


def test_a_single_invite_with_a_partner_role_typo_is_refused(
        tmp_path: Path, capsys: pytest.CaptureFixture[str],
        monkeypatch: pytest.MonkeyPatch) -> None:
    db = tmp_path / "x.db"
    monkeypatch.setenv("DATABASE_URL", f"sqlite:///{db}")
    assert main(["--lang", "en", "invite", "--role", "partner", "--partner-role", "alkohol",
                 "--config", CONFIG], clock=NEW_YEAR) == 2
    err = capsys.readouterr().err
    assert "Unknown partner role “alkohol”" in err and "alkoholhandlaggare" in err
    assert main(["invite", "--role", "partner", "--config", CONFIG], clock=NEW_YEAR) == 2
    assert "behöver en partnerroll" in capsys.readouterr().err
    assert _invites(db) == []
    assert main(["invite", "--role", "partner", "--partner-role", "alkoholhandlaggare",
                 "--name", "Pia", "--config", CONFIG], clock=NEW_YEAR) == 0
    assert "start=" in capsys.readouterr().out
    assert _invites(db) == [("partner", "Pia")]
