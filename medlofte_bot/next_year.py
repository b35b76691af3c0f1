"""Next year's promise-set file from this year's: every rule carried over, the dates that a
police area must confirm moved by a stated rule and marked, last year's outcome as comments.

The file is rewritten with tomlkit, so the coordinator's comments, order and layout stay.
Nothing here reads the database or the clock: the caller hands in the outcome lines and
the seed, and writes the text.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import date, timedelta
from pathlib import Path
from typing import Any

import tomlkit
from tomlkit.items import AoT, Array, Date, InlineTable, Table

from medlofte_bot import texts
from medlofte_bot.domain.promise_set import PromiseSet
from medlofte_bot.services.report import YearReport

EASTER_NEAR = timedelta(days=7)  # a date this close to an Easter-bound holiday moves with Easter


def easter(year: int) -> date:
    """Easter Sunday (Gregorian; the anonymous algorithm)."""
    a, b, c = year % 19, year // 100, year % 100
    d, e = divmod(b, 4)
    f = (b + 8) // 25
    g = (b - f + 1) // 3
    h = (19 * a + b - d - g + 15) % 30
    i, k = divmod(c, 4)
    el = (32 + 2 * e + 2 * i - h - k) % 7
    m = (a + 11 * h + 22 * el) // 451
    month, day = divmod(h + el - 7 * m + 114, 31)
    return date(year, month, day + 1)


def _easter_bound(day: date) -> bool:
    """Near Easter, Ascension (39 days after) or Pentecost (49): school breaks and days off
    around them follow Easter from year to year."""
    sunday = easter(day.year)
    return any(abs(day - (sunday + timedelta(days=n))) <= EASTER_NEAR for n in (0, 39, 49))


def shift_date(day: date, years: int) -> date:
    """``day`` moved ``years`` on, by the rule a Swedish school or police area would use:

    - the first or last day of a month stays on that calendar day (periods such as
      1 June–31 August, Christmas leave to 31 December);
    - a day near Easter, Ascension or Pentecost moves with Easter (Easter break, the day
      off after Ascension);
    - anything else keeps its ISO week and weekday (Sportlov v. 10 stays in week 10 and on
      a Monday; Studenten stays a Thursday).
    """
    target = day.year + years
    if day.day == 1:
        return date(target, day.month, 1)
    if (day + timedelta(days=1)).month != day.month:
        first = date(target, day.month, 1)
        return (first + timedelta(days=32)).replace(day=1) - timedelta(days=1)
    if _easter_bound(day):
        return day + (easter(target) - easter(day.year))
    iso_year, week, weekday = day.isocalendar()
    new_year = iso_year + years
    weeks = date(new_year, 12, 28).isocalendar()[1]  # 28 December is always in the last week
    return date.fromisocalendar(new_year, min(week, weeks), weekday)


def _clamp(day: date, year: int) -> date:
    return min(max(day, date(year, 1, 1)), date(year, 12, 31))


@dataclass(frozen=True)
class NextYear:
    """The new file's text and what was moved (for the command's summary)."""

    text: str
    moved: tuple[tuple[str, date, date], ...]  # (what, before, after), each date
    marked: int  # entries marked to be confirmed


class _Writer:
    def __init__(self, old_year: int, new_year: int, lang: str) -> None:
        self.old, self.new, self.lang = old_year, new_year, lang
        self.moved: list[tuple[str, date, date]] = []
        self.marked = 0

    def day(self, what: str, before: date, within: bool) -> date:
        after = shift_date(before, self.new - self.old)
        if within:
            after = _clamp(after, self.new)
        self.moved.append((what, before, after))
        return after

    def note(self, before: date | tuple[date, date]) -> str:
        self.marked += 1
        if isinstance(before, tuple):
            was = f"{before[0].isoformat()}–{before[1].isoformat()}"
        else:
            was = before.isoformat()
        return texts.t("new_year.confirm", self.lang, was=was, year=self.new)

    def ranges(self, items: Array | AoT, what: str, within: bool) -> Array | AoT:
        """Ranges {name, start, end} moved, each with its comment: an inline array is rebuilt
        one range a line; an array of tables ([[school.terms]]) is moved in place."""
        if isinstance(items, AoT):
            for table in items:
                self.one_range(table, str(table.get("name", what)), within)
            return items
        out = tomlkit.array()
        for item in list(items):
            start, end = item["start"], item["end"]
            name = str(item.get("name", what))
            item["start"] = tomlkit.date(self.day(name, start, within).isoformat())
            new_end = self.day(name, end, within)
            item["end"] = tomlkit.date(max(new_end, item["start"]).isoformat())
            out.add_line(item, indent="  ", comment=self.note((start, end)))
        out.add_line(indent="")
        return out

    def one_range(self, table: Any, what: str, within: bool = True) -> None:
        """A {start, end} table moved; the comment goes after an inline table, or after the
        start date of a table with its own header."""
        start, end = table["start"], table["end"]
        new_start = tomlkit.date(self.day(what, start, within).isoformat())
        table["end"] = tomlkit.date(max(self.day(what, end, within), new_start).isoformat())
        note = self.note((start, end))
        if isinstance(table, InlineTable):
            table["start"] = new_start
            table.comment(note)
        else:
            table["start"] = self.commented(new_start, start, note)

    @staticmethod
    def commented(item: Date, old: Any, note: str) -> Date:
        """``item`` with ``note`` as its comment, after the comment the old value had."""
        had = getattr(getattr(old, "trivia", None), "comment", "").lstrip("#").strip()
        item.comment(f"{had} – {note}" if had else note)
        return item


def _comment_first(table: Table, lines: Sequence[str]) -> None:
    """Comment lines at the top of a table, under its header. Done last: tomlkit's index of
    the table's keys is not told about the insert, and nothing reads the table afterwards."""
    for line in reversed(lines):
        table.value.body.insert(0, (None, tomlkit.comment(line)))


def next_year_text(source: str, ps: PromiseSet, new_year: int, seed: int,
                   outcome: Mapping[str, Sequence[str]], header: Sequence[str]) -> NextYear:
    """The promise-set file ``source`` (already validated as ``ps``) rewritten for
    ``new_year``: the year and seed replaced, dates to confirm moved and marked, and the
    ``outcome`` lines (by promise id) and ``header`` lines written as comments."""
    doc = tomlkit.parse(source)
    w = _Writer(ps.year, new_year, ps.language)
    doc["year"] = new_year
    doc["seed"] = seed
    school = doc.get("school")
    if isinstance(school, Table):
        for key in ("terms", "breaks"):
            if isinstance(school.get(key), (Array, AoT)):
                school[key] = w.ranges(school[key], key, within=False)
    for role in doc.get("partner_roles", []):
        if isinstance(role.get("unavailable"), (Array, AoT)):
            role["unavailable"] = w.ranges(role["unavailable"], role.get("id", ""), within=True)
    for night in doc.get("risk_nights", []):
        if night.get("rule") == "date" and isinstance(night.get("date"), date):
            before = night["date"]
            moved = tomlkit.date(w.day(str(night["name"]), before, True).isoformat())
            night["date"] = w.commented(moved, before, w.note(before))
    promises = doc.get("promises")
    for promise in promises if isinstance(promises, AoT) else []:
        if promise.get("period") is not None:
            w.one_range(promise["period"], str(promise["id"]))
    for promise in promises if isinstance(promises, AoT) else []:
        lines = outcome.get(str(promise["id"]))
        if lines:
            _comment_first(promise, lines)
    for line in reversed(header):
        doc.body.insert(0, (None, tomlkit.comment(line)))
    return NextYear(tomlkit.dumps(doc), tuple(w.moved), w.marked)


def default_output(path: Path, old_year: int, new_year: int) -> Path:
    """config/arvidsjaur-2015.toml -> config/arvidsjaur-2016.toml; a name without the year
    gets it added (promises.toml -> promises-2016.toml)."""
    if str(old_year) in path.stem:
        return path.with_name(path.stem.replace(str(old_year), str(new_year)) + path.suffix)
    return path.with_name(f"{path.stem}-{new_year}{path.suffix}")


def outcome_lines(report: YearReport | None, ps: PromiseSet, over: bool, as_of: date,
                  lang: str) -> dict[str, list[str]]:
    """Last year's outcome per promise id, as comment lines: met or not, and by how much."""
    if report is None:
        return {}
    year = report.year
    out: dict[str, list[str]] = {}
    stored = {p.key: p for p in report.promises}
    for promise in ps.promises:
        p = stored.get(promise.id)
        if p is None:
            out[promise.id] = [texts.t("new_year.outcome_missing", lang, year=year)]
            continue
        if p.target is None:
            line = texts.t("new_year.outcome_counts", lang, year=year,
                           counters=texts.counters(p.counters, lang) or "–")
        elif not over:
            line = texts.t("new_year.outcome_so_far", lang, year=year, as_of=as_of.isoformat(),
                           done=p.done, target=p.target)
        elif p.met:
            extra = p.done - p.target
            line = texts.t("new_year.outcome_met", lang, year=year, done=p.done,
                           target=p.target) + (
                texts.plural("new_year.outcome_over", extra, lang) if extra else "")
        else:
            line = texts.t("new_year.outcome_not_met", lang, year=year, done=p.done,
                           target=p.target) + texts.plural(
                "new_year.outcome_short", max(p.target - p.done, 0), lang)
        if p.joint_target:
            line += texts.t("new_year.outcome_joint", lang, done=p.joint_done,
                            target=p.joint_target)
        out[promise.id] = [line]
    return out
