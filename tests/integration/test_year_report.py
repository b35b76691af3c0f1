"""The year report for the council, on SQLite and PostgreSQL: Markdown, CSV, HTML and the CLI."""

from __future__ import annotations

import csv
import io
import re
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import datetime, timedelta
from html.parser import HTMLParser
from pathlib import Path
from zoneinfo import ZoneInfo

import pypdf
import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session

from medlofte_bot import texts
from medlofte_bot.cli import main
from medlofte_bot.configuration import load_promise_set
from medlofte_bot.domain.states import TaskStatus
from medlofte_bot.scheduling.clock import ManualClock
from medlofte_bot.services import tasks
from medlofte_bot.services.comments import set_comment
from medlofte_bot.services.plans import apply_promise_set
from medlofte_bot.services.report import YearReport, year_report
from medlofte_bot.storage import models as m
from medlofte_bot.storage.database import make_engine, migrate, session_factory
from medlofte_bot.views.year_report import (
    render_report,
    report_csv,
    report_html,
    report_markdown,
)

CONFIG = Path(__file__).parents[2] / "config" / "arvidsjaur-2015.toml"
STOCKHOLM = ZoneInfo("Europe/Stockholm")
NEW_YEAR = datetime(2015, 1, 1, tzinfo=STOCKHOLM)
LATER = datetime(2015, 2, 1, 12, 0, tzinfo=STOCKHOLM)
AS_OF = datetime(2015, 12, 1, 12, 0, tzinfo=STOCKHOLM)
COLUMNS = ["promise", "task_id", "key", "kind", "start", "end", "status", "team", "joint",
           "partners_joined", "done_by", "note", "counters", "moved_from", "cancel_reason"]
EVIL_NOTE = "3 ställen <script>alert(1)</script> | ok"
COMMENT = "Två pass blev polisens egna när handläggaren var sjuk."
NAMES = ("Anna Polis", "Sam Samordnare", "Petra Alkohol")


@dataclass
class Stored:
    url: str
    cancelled: int
    moved: int
    moved_from: datetime
    moved_to: datetime
    joint_with: int
    joint_without: int
    evil: int


@pytest.fixture(autouse=True)
def _isolated(cli_isolated: None) -> None:
    """Each test in its own folder, none of the bot's variables set (tests/conftest.py)."""


def _member(s: Session, tid: int, name: str, role: str, **kw: object) -> m.Member:
    row = m.Member(telegram_id=tid, display_name=name, role=role, created_at=NEW_YEAR, **kw)
    s.add(row)
    s.flush()
    return row


def _tasks(s: Session, promise: str) -> list[m.Task]:
    return list(s.scalars(select(m.Task).join(m.Promise).where(m.Promise.key == promise)
                          .order_by(m.Task.start_at)))


def _done(s: Session, row: m.Task, by: m.Member, note: str = "",
          counters: dict[str, int] | None = None, fields: dict[str, object] | None = None) -> None:
    row.status = TaskStatus.DONE
    s.add(m.Completion(task_id=row.id, member_id=by.id, done_at=row.end_at, note=note,
                       counters=counters or {}, fields=fields or {}))


@pytest.fixture
def stored(db_url: str) -> Stored:
    engine = make_engine(db_url)
    migrate(engine)
    loaded = load_promise_set(CONFIG)
    ps = loaded.promise_set
    sets = {(ps.slug, ps.year): ps}
    with session_factory(engine).begin() as s:
        apply_promise_set(s, loaded, NEW_YEAR, actor="test")
        muni = s.scalar(select(m.Municipality))
        assert muni is not None
        team = s.scalar(select(m.Team).where(m.Team.key == "lag-1"))
        officer = _member(s, 101, "Anna Polis", "officer", team_id=team.id if team else None)
        coordinator = _member(s, 102, "Sam Samordnare", "coordinator")
        partner = _member(s, 103, "Petra Alkohol", "partner", municipality_id=muni.id,
                          partner_role="alkoholhandlaggare")
        narcotics = _tasks(s, "narkotika")
        _done(s, narcotics[0], officer, note="Två beslag.")
        _done(s, narcotics[1], officer)
        nights = _tasks(s, "riskkvallar")
        _done(s, nights[0], officer, counters={"young_people_met": 12, "pour_outs": 4})
        _done(s, nights[1], officer, counters={"young_people_met": 3})
        _done(s, _tasks(s, "buskorning")[0], officer, counters={"pour_outs": 1})
        _done(s, _tasks(s, "skolkontroller")[0], officer,
              fields={"vehicle": "unmarked", "vehicles_checked": 14})
        bars = _tasks(s, "krogtillsyn")
        joint = [t for t in bars if t.joint]
        solo = [t for t in bars if not t.joint]
        assert len(joint) == 2
        _done(s, joint[0], officer, fields={"places_visited": 2})
        s.add(m.Participation(task_id=joint[0].id, member_id=partner.id, joins=True,
                              at=NEW_YEAR))
        _done(s, joint[1], officer)
        _done(s, solo[0], officer, note=EVIL_NOTE, fields={"places_visited": 3})
        s.flush()
        cancelled, moved = narcotics[-2], narcotics[-1]
        tasks.cancel(s, sets, coordinator, cancelled.id, "sjukdom i laget", LATER)
        moved_from = moved.start_at.astimezone(STOCKHOLM)
        moved_to = (moved_from + timedelta(days=1)).replace(hour=20, minute=0)
        tasks.move(s, sets, coordinator, moved.id, moved_to, LATER)
        set_comment(s, sets, coordinator, "krogtillsyn", COMMENT, LATER)
        ids = (cancelled.id, moved.id, joint[0].id, joint[1].id, solo[0].id)
    engine.dispose()
    return Stored(db_url, ids[0], ids[1], moved_from, moved_to, ids[2], ids[3], ids[4])


def _report(url: str) -> YearReport:
    engine = make_engine(url)
    try:
        with session_factory(engine)() as s:
            report = year_report(s, load_promise_set(CONFIG).promise_set, AS_OF)
            count = len(list(s.scalars(select(m.Task.id))))
    finally:
        engine.dispose()
    assert report is not None
    assert sum(len(p.tasks) for p in report.promises) == count
    return report


def test_the_internal_markdown_shows_promised_against_done_with_names_and_times(
        stored: Stored) -> None:
    report = _report(stored.url)
    by_key = {p.key: p for p in report.promises}
    assert (by_key["krogtillsyn"].done, by_key["krogtillsyn"].joint_done) == (3, 1)
    assert by_key["kronobergsmodellen"].counters["young_people_met"] == 15
    md = report_markdown([report], public=False)
    assert md.startswith("# Arvidsjaur 2015: uppföljning av medborgarlöftena")
    assert "Intern version" in md.split("## ")[0] and "allmänna handlingar" in md.split("## ")[0]
    for title in ("Riktade insatser mot narkotika", "Närvaro vid riskkvällar", "Krogtillsyner",
                  "Arbeta efter Kronobergsmodellens principer", "Trafikkontroller vid skolor",
                  "Sommarnätter mot buskörning"):
        assert f"\n## {title}\n" in md
    # the standing is the word /status gives (domain.standing through services.status)
    assert "| Krogtillsyner | 6 | 3 | 1/2 | efter (borde vara 5) |" in md
    assert "Utfall: 3 av 6 – efter (borde vara 5)." in md
    assert "Gemensamma där en partner deltog: 1 av 2 – " in md
    assert "| Genomförda | 1 | 0 | 0 | 0 | 1 |" in md  # school controls: done per quarter
    assert "Petra Alkohol" in md and "Anna Polis" in md
    assert re.search(r"Krogtillsyner, (fredag|lördag) ", md)  # the municipality's part
    assert ": Petra Alkohol" in md
    assert "unga mötta 15, upphällningar 5" in md  # Kronoberg: risk nights and summer nights
    assert "civil bil" in md and "kontrollerade fordon: 14" in md and "besökta ställen: 3" in md
    assert "inställd: sjukdom i laget" in md
    assert "inställd – sjukdom i laget" in md.split("**Missade och inställda**")[1]
    before, after = texts.when(stored.moved_from), texts.when(stored.moved_to)
    assert f"flyttad från {before} till {after} av Sam Samordnare" in md
    assert "[endast polis]" in md and before.split(" kl.")[0] in md
    assert "\\<script\\>" in md and "\\| ok" in md


def test_english_report(stored: Stored) -> None:
    md = report_markdown([_report(stored.url)], "en", public=False)
    assert "Outcome: 3 of 6 – behind" in md and "Joint with a partner present: 1 of 2" in md
    assert "cancelled: sjukdom i laget" in md and "Notes may become public records" in md
    assert "| Done | 1 | 0 | 0 | 0 | 1 |" in md and "Q4" in md


def test_csv_has_one_row_per_task_with_the_documented_columns(stored: Stored) -> None:
    report = _report(stored.url)
    reader = csv.DictReader(io.StringIO(report_csv([report], public=False), newline=""))
    assert reader.fieldnames == COLUMNS
    rows = {int(r["task_id"]): r for r in reader}
    assert len(rows) == sum(len(p.tasks) for p in report.promises)
    assert rows[stored.cancelled]["status"] == "cancelled"
    assert rows[stored.cancelled]["cancel_reason"] == "sjukdom i laget"
    assert rows[stored.moved]["moved_from"] == stored.moved_from.isoformat()
    assert rows[stored.moved]["start"] == stored.moved_to.isoformat()
    assert rows[stored.joint_with]["partners_joined"] == "Petra Alkohol"
    assert rows[stored.joint_with]["joint"] == rows[stored.joint_without]["joint"] == "true"
    assert rows[stored.joint_without]["partners_joined"] == ""
    assert rows[stored.evil]["note"] == EVIL_NOTE
    assert rows[stored.evil]["done_by"] == "Anna Polis"
    counters = [r["counters"] for r in rows.values() if r["promise"] == "riskkvallar"]
    assert "young_people_met=12;pour_outs=4" in counters


class _Nesting(HTMLParser):
    VOID = frozenset({"meta", "br", "hr", "img", "link", "input"})

    def __init__(self) -> None:
        super().__init__()
        self.stack: list[str] = []
        self.errors: list[str] = []
        self.tags: list[str] = []

    def handle_starttag(self, tag: str, _attrs: list[tuple[str, str | None]]) -> None:
        self.tags.append(tag)
        if tag not in self.VOID:
            self.stack.append(tag)

    def handle_endtag(self, tag: str) -> None:
        if not self.stack or self.stack.pop() != tag:
            self.errors.append(tag)


def test_html_is_a_self_contained_page_with_every_value_escaped(stored: Stored) -> None:
    page = report_html([_report(stored.url)], public=False)
    assert page.startswith("<!doctype html>") and '<html lang="sv">' in page
    assert "<script" not in page and "&lt;script&gt;alert(1)&lt;/script&gt;" in page
    parser = _Nesting()
    parser.feed(page)
    parser.close()
    assert parser.errors == [] and parser.stack == []
    # overview, per quarter and the tasks of the 5 promises with tasks, totals
    assert parser.tags.count("table") == 1 + 5 * 2 + 1
    assert parser.tags.count("svg") == 1 and parser.tags.count("figure") == 1
    # no outside file (the SVG's namespaces are names, not links)
    assert "src=" not in page and "<link" not in page
    assert "http" not in page.replace("http://www.w3.org/", "")
    assert re.findall(r'href="(?!#)', page) == []  # the chart's own references only
    assert "@media print" in page and "size:A4" in page and 'name="viewport"' in page


def test_the_cli_writes_each_format(stored: Stored, tmp_path: Path,
                                    monkeypatch: pytest.MonkeyPatch,
                                    capsys: pytest.CaptureFixture[str]) -> None:
    monkeypatch.setenv("DATABASE_URL", stored.url)
    clock = ManualClock(AS_OF)
    assert main(["report", str(CONFIG), "--year", "2015"], clock=clock) == 0
    assert "| Krogtillsyner | 6 | 3 | 1/2 | efter (borde vara 5) |" in capsys.readouterr().out
    out = tmp_path / "rapport.html"
    assert main(["--lang", "en", "report", str(CONFIG), "--format", "html", "--output",
                 str(out)], clock=clock) == 0
    assert str(out) in capsys.readouterr().out
    assert out.read_text(encoding="utf-8").startswith("<!doctype html>")
    assert main(["report", str(CONFIG), "--format", "csv"], clock=clock) == 0
    assert capsys.readouterr().out.startswith(",".join(COLUMNS))


@pytest.mark.parametrize(("lang", "said"), [("sv", "Inget är sparat för Arvidsjaur 2015"),
                                            ("en", "Nothing is stored for Arvidsjaur 2015")])
def test_nothing_stored_says_so_and_exits_2(db_url: str, monkeypatch: pytest.MonkeyPatch,
                                            capsys: pytest.CaptureFixture[str], lang: str,
                                            said: str) -> None:
    monkeypatch.setenv("DATABASE_URL", db_url)
    assert main(["--lang", lang, "report", str(CONFIG), "--year", "2015"],
                clock=ManualClock(AS_OF)) == 2
    captured = capsys.readouterr()
    assert captured.out == ""
    assert said in captured.err and f"plan {CONFIG} --apply" in captured.err
    assert "Traceback" not in captured.err


# ----- public and internal versions -----------------------------------------------------


def _as_text(data: bytes, fmt: str) -> str:
    """What a reader of the file sees: the PDF's extracted text (whitespace made single:
    table cells wrap), the others as they are."""
    if fmt != "pdf":
        return data.decode("utf-8")
    assert data.startswith(b"%PDF-")
    reader = pypdf.PdfReader(io.BytesIO(data))
    assert all(round(float(p.mediabox.width)) == 595 and round(float(p.mediabox.height)) == 842
               for p in reader.pages)  # A4 portrait
    return " ".join(" ".join(page.extract_text() for page in reader.pages).split())


def _police_only_times(report: YearReport, fmt: str) -> Iterator[str]:
    """Every police-only task's time as the format writes it (not the times of tasks anyone
    may see: a risk night may start at the same hour)."""
    shown = {t.start for p in report.promises if not p.police_only for t in p.tasks}
    for p in report.promises:
        for t in p.tasks:
            if (p.police_only or t.visibility == "police") and t.start not in shown:
                yield t.start.isoformat() if fmt == "csv" else texts.when(t.start)


@pytest.mark.parametrize("fmt", ["md", "html", "pdf", "csv"])
def test_the_public_version_has_no_police_only_time_and_no_name(stored: Stored,
                                                                 fmt: str) -> None:
    report = _report(stored.url)
    public = _as_text(render_report([report], fmt), fmt)
    times = list(_police_only_times(report, fmt))
    assert len(times) > 10
    assert [t for t in times if t in public] == []
    assert [n for n in NAMES if n in public] == []
    assert EVIL_NOTE.split()[0] + " ställen <" not in public  # officers' notes stay internal
    if fmt != "csv":
        assert "Offentlig version" in public
        assert "en alkoholhandläggare" in public  # the municipality's part, without her name
        assert COMMENT in public  # the coordinator's comment, unsigned
        assert "inställd – sjukdom i laget" in public  # the reason, by quarter
        assert "K1" in public and "Utfall: 3 av 6 – efter (borde vara 5)." in public
    risk_night = next(p for p in report.promises if p.key == "riskkvallar").tasks[0]
    seen = risk_night.start.isoformat() if fmt == "csv" else texts.when(risk_night.start)
    assert seen in public  # work anyone may see keeps its times


@pytest.mark.parametrize("fmt", ["md", "html", "pdf", "csv"])
def test_the_internal_version_has_the_police_only_times_and_the_names(stored: Stored,
                                                                     fmt: str) -> None:
    report = _report(stored.url)
    internal = _as_text(render_report([report], fmt, public=False), fmt)
    missing = [t for t in _police_only_times(report, fmt) if t not in internal]
    assert missing == []
    assert [n for n in NAMES if n not in internal] == ([] if fmt != "csv" else
                                                       ["Sam Samordnare"])
    if fmt != "csv":
        assert "Intern version" in internal
        assert f"{COMMENT} (Sam Samordnare, " in internal


def test_the_comment_written_in_chat_wins_over_the_file_which_is_used_otherwise(
        stored: Stored) -> None:
    loaded = load_promise_set(CONFIG).promise_set
    ps = loaded.model_copy(update={"promises": [
        p.model_copy(update={"comment": "Ur filen."}) for p in loaded.promises]})
    engine = make_engine(stored.url)
    try:
        with session_factory(engine)() as s:
            report = year_report(s, ps, AS_OF)
    finally:
        engine.dispose()
    assert report is not None
    comments = {p.key: (p.comment, p.comment_by) for p in report.promises}
    assert comments["krogtillsyn"] == (COMMENT, "Sam Samordnare")
    assert comments["narkotika"] == ("Ur filen.", "")
    wording = {p.key: p.wording for p in report.promises}
    assert wording["narkotika"].startswith("Vid minst 6 tillfällen")
