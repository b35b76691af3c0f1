"""Members come and go, through the real PTB Application and the emulator."""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy import select

from medlofte_bot.domain.states import ReminderState
from medlofte_bot.storage import models as m

from .conftest import CONFIG, COORDINATOR, Harness, invite_code, start_bot, stop_bot

OFFICER, PARTNER, CORA, KURT = 2001, 3001, 5001, 6001
STRANGER_SENTENCE = "Be samordnaren om en inbjudan"






def _task(bot: Harness, promise: str) -> m.Task:
    with bot.db.sessions() as s:
        task = s.scalars(select(m.Task).join(m.Promise).join(m.Team).where(
            m.Promise.key == promise, m.Team.key == "lag-1").order_by(m.Task.start_at)).first()
        assert task is not None
        return task


async def _texts_after(bot: Harness, chat: int, since: int) -> str:
    return "\n".join(x.text or "" for x in bot.emu.messages_to(chat) if x.message_id > since)


async def test_the_coordinator_lists_members_in_words_and_deactivates_one_by_button(
        bot: Harness) -> None:
    officer = await bot.join(OFFICER, "Olle", "polis lag-1")
    await bot.join(PARTNER, "Pia", "partner alkoholhandlaggare")
    task = _task(bot, "narkotika")
    bot.clock.current = task.start_at - timedelta(hours=3)
    await bot.tick()  # makes the officer's 2-hour reminder, due in an hour
    with bot.db.sessions() as s:
        owed = s.scalars(select(m.Reminder).where(
            m.Reminder.member_id == officer, m.Reminder.task_id == task.id,
            m.Reminder.state == ReminderState.PENDING)).all()
    assert owed, "the officer is owed a reminder before being deactivated"

    await bot.emu.send_text(COORDINATOR, "/medlemmar")  # the tick also sent a summary
    card = await bot.emu.wait_for_message(COORDINATOR, lambda x: "Medlemmar" in (x.text or ""))
    listing = card.text or ""
    assert f"#{officer} Olle – polis, Arvidsjaur lag 1" in listing
    assert "Pia – partner, Alkoholhandläggare" in listing
    assert "lag-1" not in listing and "alkoholhandlaggare" not in listing
    assert "Cora – samordnare (du)" in listing
    assert f"x:{officer}" in card.button_data()
    await bot.emu.press_button(COORDINATOR, COORDINATOR, card.message_id, f"x:{officer}")
    ask = await bot.emu.wait_for_message(COORDINATOR, lambda x: "Avsluta" in (x.text or ""))
    assert f"xy:{officer}" in ask.button_data()
    with bot.db.sessions() as s:
        assert s.get_one(m.Member, officer).active, "nothing happens before 'Ja, avsluta'"
    await bot.emu.press_button(COORDINATOR, COORDINATOR, ask.message_id, f"xy:{officer}")
    done = await bot.emu.wait_for_message(COORDINATOR, lambda x: "avslutad" in (x.text or ""))
    assert "Olle" in (done.text or "")

    assert STRANGER_SENTENCE in await bot.say(OFFICER, "/mina")
    assert STRANGER_SENTENCE in await bot.say(OFFICER, f"/klar {task.id}")
    before = max(x.message_id for x in bot.emu.messages_to(OFFICER))
    bot.clock.current = task.start_at - timedelta(hours=2) + timedelta(minutes=1)
    await bot.tick()
    assert f"#{task.id} " not in await _texts_after(bot, OFFICER, before)
    with bot.db.sessions() as s:
        assert s.get_one(m.Task, task.id).status == "pending"
        audit = s.scalars(select(m.AuditEntry).where(
            m.AuditEntry.action == "member_deactivated")).one()
        assert audit.entity_id == str(officer)
    assert f"#{officer} " not in await bot.say(COORDINATOR, "/medlemmar")


async def test_remove_by_command_role_change_and_refusals(bot: Harness) -> None:
    officer = await bot.join(OFFICER, "Olle", "polis lag-1")
    partner = await bot.join(PARTNER, "Pia", "partner alkoholhandlaggare")
    assert "samordnare" in await bot.say(OFFICER, "/medlemmar")
    assert "samordnare" in await bot.say(OFFICER, f"/avsluta {partner}")
    assert "dig själv" in await bot.say(COORDINATOR, "/avsluta 1")
    assert "/avsluta 12" in await bot.say(COORDINATOR, "/avsluta ²")
    changed = await bot.say(COORDINATOR, f"/roll {officer} polis lag-2")
    assert "Olle är nu polis, Arvidsjaur lag 2 (var polis, Arvidsjaur lag 1)" in changed
    typo = await bot.say(COORDINATOR, f"/roll {partner} partner alkohol")
    assert "alkoholhandlaggare" in typo and "Okänd partnerroll" in typo
    assert "avslutad" in await bot.say(COORDINATOR, f"/remove {partner}")
    assert STRANGER_SENTENCE in await bot.say(PARTNER, "/plan")
    with bot.db.sessions() as s:
        assert s.get_one(m.Team, s.get_one(m.Member, officer).team_id).key == "lag-2"
        actions = set(s.scalars(select(m.AuditEntry.action)))
    assert {"member_role_changed", "member_deactivated"} <= actions


async def test_member_lists_are_never_shown_in_a_group(bot: Harness) -> None:
    await bot.join(OFFICER, "Olle", "polis lag-1")
    group = -100777
    await bot.emu.add_group(group, "Lag 1", members=[COORDINATOR, OFFICER])
    answer = await bot.say(COORDINATOR, "/medlemmar", chat=group)
    assert "privat" in answer and "Olle" not in answer


async def test_invites_are_checked_listed_and_revoked(bot: Harness) -> None:
    typo = await bot.say(COORDINATOR, "/bjud partner alkohol")
    assert "Okänd partnerroll ”alkohol”" in typo and "alkoholhandlaggare" in typo
    assert "behöver en partnerroll" in await bot.say(COORDINATOR, "/bjud partner")
    link = await bot.say(COORDINATOR, "/bjud partner faltarbetare")
    assert "Fältarbetare / nattvandrare" in link
    code = invite_code(link)
    listing = await bot.say(COORDINATOR, "/inbjudningar")
    assert "partner, Fältarbetare / nattvandrare" in listing and "av Cora" in listing
    card = bot.emu.last_message(COORDINATOR)
    assert card is not None
    data = next(b for b in card.button_data() if b.startswith("ir:"))
    await bot.emu.press_button(COORDINATOR, COORDINATOR, card.message_id, data)
    revoked = await bot.emu.wait_for_message(COORDINATOR,
                                             lambda x: "återkallad" in (x.text or ""))
    assert "Fältarbetare" in (revoked.text or "")
    await bot.emu.add_user(PARTNER, "Pia")
    assert "återkallad" in await bot.say(PARTNER, f"/start {code}")
    assert STRANGER_SENTENCE in await bot.say(PARTNER, "/mina")
    assert "Inga oanvända" in await bot.say(COORDINATOR, "/inbjudningar")
    second = invite_code(await bot.say(COORDINATOR, "/bjud chef"))
    assert "återkallad" in await bot.say(COORDINATOR, f"/aterkalla {second[:8]}")


@pytest.fixture
async def two_areas(tmp_path: Path) -> AsyncIterator[Harness]:
    """Arvidsjaur (LPO Piteå Älvdal) and Kiruna (LPO Kiruna), one bot."""
    text = CONFIG.read_text(encoding="utf-8")
    kiruna = tmp_path / "kiruna-2015.toml"
    kiruna.write_text(text.replace('municipality = "Arvidsjaur"', 'municipality = "Kiruna"')
                      .replace('slug = "arvidsjaur"', 'slug = "kiruna"')
                      .replace('police_area = "LPO Piteå Älvdal"', 'police_area = "LPO Kiruna"'),
                      encoding="utf-8")
    h = await start_bot(tmp_path, datetime(2015, 3, 1, 9, tzinfo=ZoneInfo("Europe/Stockholm")),
                        configs=[CONFIG, kiruna])
    try:
        yield h
    finally:
        await stop_bot(h)


async def test_a_coordinator_of_one_area_cannot_list_remove_or_invite_in_another(
        two_areas: Harness) -> None:
    bot = two_areas
    await bot.join(CORA, "Cora A", "samordnare arvidsjaur")
    kurt = await bot.join(KURT, "Kurt", "polis lag-1 kiruna")
    olle = await bot.join(OFFICER, "Olle", "polis lag-1 arvidsjaur", by=CORA)
    listing = await bot.say(CORA, "/medlemmar")
    assert "Olle" in listing and "Kurt" not in listing and "Kiruna" not in listing
    assert f"medlem #{kurt}" in await bot.say(CORA, f"/avsluta {kurt}")
    last = bot.emu.last_message(CORA)
    assert last is not None
    await bot.emu.press_button(CORA, CORA, last.message_id, f"xy:{kurt}", check=False)
    forged = await bot.emu.wait_for_message(CORA)
    assert f"medlem #{kurt}" in (forged.text or "")
    assert "eget polisområde" in await bot.say(CORA, "/bjud polis lag-1 kiruna")
    assert "eget polisområde" in await bot.say(CORA, f"/roll {olle} polis lag-1 kiruna")
    with bot.db.sessions() as s:
        assert s.get_one(m.Member, kurt).active
        kiruna = s.scalar(select(m.Municipality.id).where(m.Municipality.slug == "kiruna"))
        assert s.scalars(select(m.Invite).where(m.Invite.municipality_id == kiruna,
                                                 m.Invite.created_by != 1)).all() == []
    assert "Kurt" in await bot.say(COORDINATOR, "/medlemmar"), "the settings admin sees all"
