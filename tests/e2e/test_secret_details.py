"""secret_details = "web": the Arvidsjaur 2015 year played through the chat, every message
the bot sent read for police-only details (issue 10, point 5).

The same year is played twice: with the promise set's ``secret_details = "web"`` no message
to anyone names a police-only task's kind, promise, time, team, car or place, yet each
carries its number and the link to its web page, and every confirmation made in chat is
stored; with the file as shipped ("chat") the same checker finds the details, so it can
fail.
"""

from __future__ import annotations

import asyncio
import io
import re
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from botapi_emulator.records import SentMessage
from sqlalchemy import select

from medlofte_bot import texts
from medlofte_bot.demo import people as pp
from medlofte_bot.demo.runner import Demo
from medlofte_bot.storage import models as m

from .conftest import PlayedYear

CONFIG = Path(__file__).parents[2] / "config" / "arvidsjaur-2015.toml"
TZ = ZoneInfo("Europe/Stockholm")
WEB = "https://medlofte.example.se"
START, UNTIL = datetime(2015, 1, 1, 6, tzinfo=TZ), datetime(2016, 1, 9, tzinfo=TZ)
# a promise's standing in /status and the summary: its title and counts stay (README)
STANDING = re.compile(r"^• [^#]+: (\d+/\d+ – |[a-zåäö ]+ \d+)")


@dataclass(frozen=True)
class Secret:
    """What chat must not say of one police-only task."""

    id: int
    words: tuple[str, ...]  # kind, promise title, team, car, label: never beside its number
    times: tuple[str, ...]  # every start it had, as the bot writes times (sv and en)


@dataclass
class Played:
    """One played year: what the bot sent, what it must keep secret, what was stored."""

    demo: Demo
    figures: dict[str, Any]
    sent: list[SentMessage]
    secrets: list[Secret]
    everywhere: tuple[str, ...]  # kinds and titles of promises whose every task is police-only


def _said(moment: datetime) -> tuple[str, ...]:
    local = moment.astimezone(TZ)
    return (texts.when(local, "sv"), texts.when(local, "en"),
            f"{texts.short_day(local.date(), 'sv')} kl. {texts.clock(local, 'sv')}")


def _secrets(demo: Demo) -> tuple[list[Secret], tuple[str, ...]]:
    with demo.services.ctx.db.sessions() as s:
        rows = s.scalars(select(m.Task)).all()
        starts: dict[int, set[datetime]] = {r.id: {r.start_at} for r in rows}
        for entry in s.scalars(select(m.AuditEntry).where(m.AuditEntry.entity == "task")):
            for state in (entry.before or {}, entry.after or {}):
                if "start" in state and int(entry.entity_id) in starts:
                    starts[int(entry.entity_id)].add(datetime.fromisoformat(state["start"]))
        open_times = {t for r in rows if r.visibility != "police"
                      for moment in starts[r.id] for t in _said(moment)}
        secrets = []
        for r in rows:
            if r.visibility != "police":
                continue
            words = {texts.kind(r.kind, lang, r.promise.title) for lang in ("sv", "en")}
            words |= {r.promise.title, r.team.name if r.team else "", r.label}
            words |= {texts.t(f"vehicle.{r.vehicle}", lang) for lang in ("sv", "en")
                      if r.vehicle}
            times = {t for moment in starts[r.id] for t in _said(moment)} - open_times
            secrets.append(Secret(r.id, tuple(w for w in words if w), tuple(sorted(times))))
        by_promise: dict[str, set[str]] = {}
        for r in rows:
            by_promise.setdefault(r.promise.key, set()).add(r.visibility)
        everywhere = {w for r in rows if by_promise[r.promise.key] == {"police"}
                      for w in (r.promise.title, texts.kind(r.kind, "sv"),
                                texts.kind(r.kind, "en"))}
    return secrets, tuple(sorted(everywhere))


def _play(tmp: Path, mode: str) -> Played:
    config = tmp / "arvidsjaur-2015.toml"
    shipped = CONFIG.read_text(encoding="utf-8")
    assert "partner_summary = false\n" in shipped
    config.write_text(shipped.replace("partner_summary = false\n",
                                      f'partner_summary = false\nsecret_details = "{mode}"\n'),
                      encoding="utf-8")
    demo = Demo(config, START, io.StringIO(), web_url=WEB)
    figures = asyncio.run(demo.run(UNTIL, tmp / "db"))
    secrets, everywhere = _secrets(demo)
    return Played(demo, figures, demo.emu.all_sent(), secrets, everywhere)


@pytest.fixture(scope="module")
def web(tmp_path_factory: pytest.TempPathFactory) -> Played:
    return _play(tmp_path_factory.mktemp("web"), "web")


@pytest.fixture(scope="module")
def chat(arvidsjaur_year: PlayedYear) -> Played:
    """The same year with the file as shipped (secret_details absent: "chat"), played once
    for test_year.py too."""
    demo = arvidsjaur_year[0]
    secrets, everywhere = _secrets(demo)
    return Played(demo, arvidsjaur_year[1], demo.emu.all_sent(), secrets, everywhere)


def _shown(message: SentMessage) -> list[str]:
    """Everything a reader sees of a message: its text or caption, and its buttons."""
    rows = (message.reply_markup or {}).get("inline_keyboard") or []
    return [message.content or "", *(b.get("text", "") for row in rows for b in row)]


def leaks(played: Played) -> list[str]:
    """Every place a message says a police-only task's details: a time it had anywhere, a
    word of it on a line with its number, a police-only promise's kind or title outside a
    standing line."""
    found = []
    for message in played.sent:
        for shown in _shown(message):
            lines = [line for line in shown.splitlines() if not STANDING.match(line)]
            found += [f"{word!r} in {shown!r}" for word in played.everywhere
                      if any(word in line for line in lines)]
            for secret in played.secrets:
                found += [f"{when!r} of #{secret.id} in {shown!r}" for when in secret.times
                          if when in shown]
                number = re.compile(rf"#{secret.id}(?!\d)|(?:Uppgift|Task) {secret.id}(?!\d)")
                found += [f"{word!r} beside #{secret.id} in {line!r}" for line in lines
                          if number.search(line) for word in secret.words if word in line]
    return found


def _mentions(played: Played) -> dict[int, list[str]]:
    ids = {s.id for s in played.secrets}
    out: dict[int, list[str]] = {}
    for message in played.sent:
        for number in {int(n) for n in re.findall(r"#(\d+)(?!\d)", message.content or "")}:
            if number in ids:
                out.setdefault(number, []).append(message.content or "")
    return out


def _done_in_chat(played: Played) -> set[int]:
    with played.demo.services.ctx.db.sessions() as s:
        return set(s.scalars(select(m.Task.id).join(m.Completion).where(
            m.Task.visibility == "police", m.Completion.member_id.is_not(None))))


def test_no_message_of_the_web_year_names_a_police_only_tasks_details(web: Played) -> None:
    assert len(web.sent) > 400 and len(web.secrets) > 30
    assert "Riktade insatser mot narkotika" in web.everywhere
    assert leaks(web) == []


def test_each_police_only_task_is_said_by_its_number_and_its_page(web: Played) -> None:
    mentioned = _mentions(web)
    assert len(mentioned) == len(web.secrets)  # every one was reminded, at least
    for number, said in mentioned.items():
        for text in said:
            assert f"{WEB}/webb/uppdrag/{number}" in text, text
    reminders = [t for said in mentioned.values() for t in said if t.startswith("Påminnelse")]
    assert reminders and all("närmar sig" in t for t in reminders)


def test_officers_still_confirm_police_only_tasks_in_chat(web: Played, chat: Played) -> None:
    done = _done_in_chat(web)
    assert len(done) >= 30  # narcotics, bar inspections, school controls, summer nights
    with web.demo.services.ctx.db.sessions() as s:
        police = s.execute(select(m.Task.id, m.Task.status).where(
            m.Task.visibility == "police")).all()
    # every one the officers did not forget on purpose was confirmed in chat and stored
    assert {i for i, status in police if status != "done"} == {
        i for i, _ in police if pp.misses(i)}
    assert {i for i, status in police if status == "done"} == done
    assert len(done) == len(_done_in_chat(chat))
    with web.demo.services.ctx.db.sessions() as s:
        answered = s.scalars(select(m.Completion).join(m.Task).where(
            m.Task.kind == "summer_night_patrol")).all()
    # the follow-up asked without naming its fields, answered from the web page's questions
    assert any((c.counters or {}).get("young_people_met") for c in answered)


def test_the_same_year_in_chat_mode_shows_the_details(chat: Played) -> None:
    found = leaks(chat)
    assert any("Narkotikainsats" in leak for leak in found)
    assert any(" kl. " in leak and " of #" in leak for leak in found)
    assert not any(f"{WEB}/webb/uppdrag/" in (msg.content or "") for msg in chat.sent)


def test_the_checker_sees_a_time_a_kind_and_a_team(web: Played) -> None:
    secret = next(s for s in web.secrets if s.times)
    team = next(w for w in secret.words if w.startswith("Arvidsjaur lag"))
    for text in (f"I morgon: #{secret.id} ({texts.t('secret.in_web', 'sv', link=WEB)})"
                 f"\n{secret.times[0]}",
                 f"⚠ #{secret.id} ({team}) bekräftades aldrig",
                 "Kommande 14 dagar:\n• Narkotikainsats"):
        fake = SentMessage(1, 1, "text", text, None, None, None, None, False, 0.0, 0.0, 0,
                           "sendMessage")
        assert leaks(Played(web.demo, {}, [fake], web.secrets, web.everywhere)), text
