"""secret_details = "web" with no web URL set: the commands about police-only tasks answer
by number only, say the web view is not set up, and still store what an officer confirms."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from datetime import datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy import select

from medlofte_bot import texts
from medlofte_bot.storage import models as m

from .conftest import CONFIG, Harness, start_bot, stop_bot

OFFICER = 2001
TZ = ZoneInfo("Europe/Stockholm")
NOT_SET_UP = texts.t("secret.in_web_none", "sv")
SECRET_WORDS = ("Narkotikainsats", "Krogtillsyn", "Trafikkontroll", "Sommarnatt", "lag 1",
                "kl. ", "polismålad", "civil", "Riktade insatser", "Krogtillsyner")


@pytest.fixture
async def web_bot(tmp_path: Path) -> AsyncIterator[Harness]:
    config = tmp_path / "arvidsjaur-2015.toml"
    config.write_text(CONFIG.read_text(encoding="utf-8").replace(
        "partner_summary = false\n", 'partner_summary = false\nsecret_details = "web"\n'),
        encoding="utf-8")
    h = await start_bot(tmp_path, datetime(2015, 3, 1, 9, 0, tzinfo=TZ), configs=[config])
    try:
        await h.join(OFFICER, "Olle", "polis lag-1")
        yield h
    finally:
        await stop_bot(h)


def _police_tasks(bot: Harness) -> list[m.Task]:
    with bot.db.sessions() as s:
        return list(s.scalars(select(m.Task).join(m.Team).where(
            m.Team.key == "lag-1", m.Task.visibility == "police",
            m.Task.start_at > bot.clock.now()).order_by(m.Task.start_at)))


def _secret_free(text: str) -> bool:
    return not [word for word in SECRET_WORDS if word in text]


async def test_mina_shows_police_only_tasks_by_number_and_klar_still_confirms(
        web_bot: Harness) -> None:
    bot = web_bot
    await bot.emu.send_text(OFFICER, "/mina")
    await bot.emu.wait_for_message(OFFICER, lambda x: "#" in (x.text or ""))
    await _quiet(bot)
    police = {t.id for t in _police_tasks(bot)}
    cards = [x for x in bot.emu.messages_to(OFFICER) if (x.text or "").startswith("#")]
    sealed = [c for c in cards if int((c.text or "")[1:].split(" ")[0]) in police]
    assert sealed and len(sealed) < len(cards)  # a joint inspection is shown in full
    assert all(_secret_free(c.text or "") and NOT_SET_UP in (c.text or "") for c in sealed)
    assert cards[-len(sealed):] == sealed, "sealed cards come last, in no time order"
    first = _police_tasks(bot)[0]
    assert f"d:{first.id}" in next(c for c in cards if f"#{first.id} " in (c.text or "")
                                   ).button_data()
    await bot.emu.send_text(OFFICER, f"/klar {first.id}")
    asked = await bot.emu.wait_for_message(OFFICER, lambda x: "börjat" in (x.text or ""))
    assert asked.text == texts.t("secret.early_confirm", "sv", id=first.id)
    assert f"d:{first.id}:nu" in asked.button_data()
    await bot.emu.press_button(OFFICER, OFFICER, asked.message_id, f"d:{first.id}:nu")
    done = await bot.emu.wait_for_message(OFFICER, lambda x: "genomförd" in (x.text or ""))
    assert _secret_free(done.text or "") and NOT_SET_UP in (done.text or "")
    with bot.db.sessions() as s:
        assert s.get_one(m.Task, first.id).status == "done"
        assert s.scalar(select(m.Completion.member_id).where(m.Completion.task_id == first.id))


async def test_a_move_and_a_clash_name_no_time_of_a_police_only_task(web_bot: Harness) -> None:
    bot = web_bot
    first, second = _police_tasks(bot)[:2]
    onto = second.start_at.astimezone(TZ)  # the team is busy then, with a sealed task
    clash = await bot.say(OFFICER, f"/flytta {first.id} {onto:%d/%m %H.%M}")
    assert clash in (texts.t("move_team_busy_sealed", "sv", team="Arvidsjaur lag 1",
                             id=second.id),
                     texts.t("move_outside_window_sealed", "sv", id=first.id))
    assert _secret_free(clash.replace("Arvidsjaur lag 1 har", ""))
    await bot.emu.send_text(OFFICER, f"/flytta {first.id}")
    prompt = await bot.emu.wait_for_message(OFFICER, lambda x: "I stället" in (x.text or "")
                                            or "i stället" in (x.text or ""))
    labels = [b["text"] for row in (prompt.reply_markup or {})["inline_keyboard"] for b in row]
    assert labels == [texts.t("secret.move_choice.1", "sv"), texts.t("secret.move_choice.7", "sv")]
    week = next(d for d in prompt.button_data() if d.startswith(f"mv:{first.id}:")
                and datetime.fromisoformat(d.split(":", 2)[2]) - first.start_at
                >= timedelta(days=7))
    await bot.emu.press_button(OFFICER, OFFICER, prompt.message_id, week)
    moved = await bot.emu.wait_for_message(OFFICER, lambda x: "flyttad" in (x.text or ""))
    assert moved.text == texts.t("secret.moved", "sv", id=first.id, details=NOT_SET_UP)
    target = await bot.emu.wait_for_message(OFFICER, lambda x: "Målet" in (x.text or ""))
    assert "löftet" in (target.text or "") and _secret_free(target.text or "")


async def _quiet(bot: Harness) -> None:
    """Wait until the bot has sent nothing more for half a second (/mina's last card)."""
    count = -1
    while count != len(bot.emu.messages_to(OFFICER)):
        count = len(bot.emu.messages_to(OFFICER))
        await asyncio.sleep(0.5)


async def test_the_chief_gets_the_public_year_report_and_a_pointer_to_the_web(
        web_bot: Harness) -> None:
    bot = web_bot
    await bot.join(4001, "Kim", "/bjud chef")
    assert "Jag gör årsrapporten för 2015" in await bot.say(4001, "/arsrapport")
    doc = await bot.emu.wait_for_message(4001, lambda x: x.kind == "document", timeout=30)
    assert doc.file_name == "arsrapport-2015.pdf" and "offentlig" in (doc.caption or "")
    note = await bot.emu.wait_for_message(4001, lambda x: "interna" in (x.text or ""))
    assert note.text == texts.t("secret.internal_report", "sv", details=NOT_SET_UP)
