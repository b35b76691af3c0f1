"""Hostile input changes nothing and gets a clear answer (issue 8, point 4: the chat layer).

Malformed task numbers, control characters, echoes over Telegram's limit, late and repeated
presses, redelivered updates, edits and floods, each through the real bot and the emulator.
"""

from __future__ import annotations

import asyncio
import re
from collections.abc import AsyncIterator
from datetime import datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy import func, select
from telegram import Update

from medlofte_bot.storage import models as m

from .conftest import COORDINATOR, Harness, start_bot, stop_bot

OFFICER, OTHER_OFFICER, GROUP = 2001, 2002, -500
GENERIC_ERROR = "Något gick fel"


@pytest.fixture
async def any_bot(tmp_path: Path, db_url: str) -> AsyncIterator[Harness]:
    """The bot on SQLite and on PostgreSQL."""
    h = await start_bot(tmp_path, datetime(2015, 3, 1, 9, 0, tzinfo=ZoneInfo("Europe/Stockholm")),
                        db_url=db_url)
    try:
        yield h
    finally:
        await stop_bot(h)




def _task_id(bot: Harness, nth: int = 0) -> int:
    """The nth narcotics operation of lag-1 (the officer's own: done, moved, cancelled)."""
    with bot.db.sessions() as s:
        ids = s.scalars(select(m.Task.id).join(m.Promise).join(m.Team).where(
            m.Promise.key == "narkotika", m.Team.key == "lag-1").order_by(m.Task.start_at)).all()
    return ids[nth]


def _after(bot: Harness, task_id: int) -> None:
    """Move the clock to an hour after the task's end: a confirmation is due."""
    with bot.db.sessions() as s:
        bot.clock.current = s.get_one(m.Task, task_id).end_at + timedelta(hours=1)


async def _card(bot: Harness, task_id: int) -> int:
    """The message id of the task's card from /mina, two days before the task."""
    with bot.db.sessions() as s:
        bot.clock.current = s.get_one(m.Task, task_id).start_at - timedelta(days=2)
    await bot.emu.send_text(OFFICER, "/mina")
    card = await bot.emu.wait_for_message(OFFICER, lambda x: f"d:{task_id}" in x.button_data())
    return card.message_id


def _completions(bot: Harness) -> int:
    with bot.db.sessions() as s:
        return s.scalar(select(func.count()).select_from(m.Completion)) or 0


def _texts(bot: Harness, chat: int) -> list[str]:
    return [x.text or "" for x in bot.emu.messages_to(chat)]


async def _redeliver(bot: Harness, update_id: int) -> None:
    """Telegram delivers an update again (a webhook retry, an offset never confirmed)."""
    raw = bot.emu.update_json(update_id)
    assert raw is not None
    await bot.app.update_queue.put(Update.de_json(raw, bot.app.bot))


async def test_task_numbers_that_are_not_ascii_digits_in_range_get_the_usage_answer(
        any_bot: Harness) -> None:
    bot = any_bot
    await bot.join(OFFICER, "Olle", "polis lag-1")
    for text in ("/klar ²", "/klar 99999999999999999999", "/klar 2147483648", "/klar ١٧",
                 "/klar 0", "/stallin ² sjuk", "/flytta 9223372036854775808 fre 22:00"):
        answer = await bot.say(OFFICER, text)
        assert "Skriv uppgiftens nummer" in answer and GENERIC_ERROR not in answer, (text, answer)
    card = bot.emu.last_message(OFFICER)
    assert card is not None
    for data in ("d:²", "d:99999999999999999999", "c:2147483648", "mv:١:2015-03-02T22:00+01:00"):
        await bot.emu.press_button(OFFICER, OFFICER, card.message_id, data, check=False)
        answer = (await bot.emu.wait_for_message(OFFICER)).text or ""
        assert "t.ex. /mina" in answer and GENERIC_ERROR not in answer, (data, answer)
    assert _completions(bot) == 0


async def test_nul_and_control_characters_are_dropped_before_anything_is_stored(
        any_bot: Harness) -> None:
    bot = any_bot
    await bot.join(OFFICER, "Olle", "polis lag-1")
    task_id = _task_id(bot)
    answer = await bot.say(OFFICER, f"/stallin {task_id} skäl\x00x\x1b")
    assert "inställd (skälx)" in answer, answer
    await bot.emu.wait_for_message(OFFICER, lambda x: "målet" in (x.text or "").lower())
    done_id = _task_id(bot, 1)
    _after(bot, done_id)
    await bot.say(OFFICER, f"/klar {done_id}")
    prompt = bot.emu.last_message(OFFICER)
    assert prompt is not None and "anteckning" in (prompt.text or "")
    saved = await bot.say(OFFICER, "2 ställen\x00, lugnt\x07\nrad\ttvå", reply_to=prompt.message_id)
    assert saved == "Tack, sparat."
    with bot.db.sessions() as s:
        assert s.get_one(m.Task, task_id).reason == "skälx"
        note = s.scalar(select(m.Completion.note).where(m.Completion.task_id == done_id))
    assert note == "2 ställen, lugnt\nrad\ttvå"
    assert all(GENERIC_ERROR not in t for t in _texts(bot, OFFICER))


async def test_a_long_reason_is_kept_and_echoed_in_whole_words_within_telegrams_limit(
        bot: Harness) -> None:
    await bot.join(OFFICER, "Olle", "polis lag-1")
    task_id = _task_id(bot)
    reason = " ".join(["långt"] * 670)  # 4 019 characters of whole words
    await bot.emu.send_text(OFFICER, f"/stallin {task_id} {reason}")
    echo = await bot.emu.wait_for_message(OFFICER, lambda x: "inställd" in (x.text or ""))
    words = re.findall(r"\w+", echo.text or "")
    assert words[:4] == ["Uppgift", str(task_id), "är", "inställd"]
    assert words[4:] and set(words[4:]) == {"långt"}
    with bot.db.sessions() as s:
        stored = s.get_one(m.Task, task_id).reason
    assert 0 < len(stored) <= 500 and set(stored.split()) == {"långt"}
    assert all(GENERIC_ERROR not in t for t in _texts(bot, OFFICER))


async def test_a_word_longer_than_a_message_is_echoed_cut_not_refused(bot: Harness) -> None:
    await bot.emu.send_text(COORDINATOR, "/bjud " + "x" * 4090)
    answer = (await bot.emu.wait_for_message(
        COORDINATOR, lambda x: "kortats" not in (x.text or ""))).text or ""
    assert answer.startswith("Okänd roll ”xxx") and "”. Välj en av: " in answer, answer
    assert len(answer) <= 4096


async def test_after_a_commit_a_failed_answer_never_says_nothing_changed(bot: Harness) -> None:
    await bot.join(OFFICER, "Olle", "polis lag-1")
    task_id = _task_id(bot)
    bot.emu.fail_next(1, 400, "Bad Request: message is too long", methods=["sendMessage"])
    await bot.emu.send_text(OFFICER, f"/stallin {task_id} sjuk")
    told = await bot.emu.wait_for_message(OFFICER)
    with bot.db.sessions() as s:
        assert s.get_one(m.Task, task_id).status == "cancelled"
    assert "inget har ändrats" not in (told.text or "") and "/mina" in (told.text or ""), told.text


async def test_a_late_press_still_records_the_done_and_answers_in_the_chat(bot: Harness) -> None:
    await bot.join(OFFICER, "Olle", "polis lag-1")
    task_id = _task_id(bot)
    card = await _card(bot, task_id)
    _after(bot, task_id)
    bot.emu.callback_answer_timeout = 0.0  # the press is too old by the time it is answered
    await bot.emu.press_button(OFFICER, OFFICER, card, f"d:{task_id}")
    done = await bot.emu.wait_for_message(OFFICER, lambda x: not x.button_data()
                                          or "genomförd" in (x.text or ""))
    assert "genomförd av Olle" in (done.text or ""), done.text
    assert _completions(bot) == 1
    assert bot.emu.answered_callbacks == []
    assert all(GENERIC_ERROR not in t for t in _texts(bot, OFFICER))


async def test_the_same_update_twice_changes_nothing_and_answers_nothing_the_second_time(
        bot: Harness) -> None:
    await bot.join(OFFICER, "Olle", "polis lag-1")
    task_id = _task_id(bot)
    _after(bot, task_id)
    sent = await bot.emu.send_text(OFFICER, f"/klar {task_id}")
    first = await bot.emu.wait_for_message(OFFICER)
    assert "genomförd" in (first.text or "")
    answered = len(bot.emu.messages_to(OFFICER))
    await _redeliver(bot, sent.update_id)
    assert "/mina" in await bot.say(OFFICER, "/hjalp")  # after the redelivered one, in order
    assert len(bot.emu.messages_to(OFFICER)) == answered + 1
    assert _completions(bot) == 1


async def test_a_press_delivered_twice_answers_once_and_a_second_press_says_who_did_it(
        bot: Harness) -> None:
    await bot.join(OFFICER, "Olle", "polis lag-1")
    task_id = _task_id(bot)
    card = await _card(bot, task_id)
    _after(bot, task_id)
    query_id = await bot.emu.press_button(OFFICER, OFFICER, card, f"d:{task_id}")
    await bot.emu.wait_for_message(OFFICER, lambda x: "genomförd" in (x.text or ""))
    update_id = next(u for u in range(1, 1000) if (bot.emu.update_json(u) or {}).get(
        "callback_query", {}).get("id") == query_id)
    answered = len(bot.emu.messages_to(OFFICER))
    await _redeliver(bot, update_id)
    assert "/mina" in await bot.say(OFFICER, "/hjalp")
    assert len(bot.emu.messages_to(OFFICER)) == answered + 1
    await bot.emu.press_button(OFFICER, OFFICER, card, f"d:{task_id}")
    again = (await bot.emu.wait_for_message(OFFICER)).text or ""
    assert re.fullmatch(r"Redan registrerad av Olle kl\. \d\d\.\d\d\. Inget räknas två gånger\.",
                        again), again
    assert _completions(bot) == 1
    assert all(GENERIC_ERROR not in t for t in _texts(bot, OFFICER))


async def test_an_edit_never_runs_a_command_and_gets_one_short_answer_in_private(
        bot: Harness) -> None:
    await bot.join(OFFICER, "Olle", "polis lag-1")
    task_id = _task_id(bot)
    sent = await bot.emu.send_text(OFFICER, "/plan")
    await bot.emu.wait_for_message(OFFICER)
    await bot.emu.edit_text(OFFICER, None, sent.message_id, f"/stallin {task_id} ändrat")
    answer = (await bot.emu.wait_for_message(OFFICER)).text or ""
    assert answer.startswith("Jag läser inte ändrade meddelanden"), answer
    await bot.emu.add_group(GROUP, "Lag 1", members=[COORDINATOR, OFFICER])
    in_group = await bot.emu.send_text(OFFICER, "hej", chat_id=GROUP)
    await bot.emu.edit_text(OFFICER, GROUP, in_group.message_id, f"/klar {task_id}")
    assert "/mina" in await bot.say(OFFICER, "/hjalp")
    assert bot.emu.messages_to(GROUP) == []
    assert len([t for t in _texts(bot, OFFICER) if t.startswith("Jag läser inte")]) == 1
    with bot.db.sessions() as s:
        assert s.get_one(m.Task, task_id).status == "pending"
    assert _completions(bot) == 0


async def test_a_flooding_person_is_told_once_and_everyone_else_is_answered(
        bot: Harness) -> None:
    await bot.join(OFFICER, "Olle", "polis lag-1")
    await bot.join(OTHER_OFFICER, "Lina", "polis lag-2")
    flood = [bot.emu.send_text(OFFICER, f"hej {n}") for n in range(60)]
    await asyncio.gather(*flood)
    await bot.emu.send_text(OTHER_OFFICER, "/mina")
    mine = await bot.emu.wait_for_message(OTHER_OFFICER, timeout=3.0)
    assert "uppgifter" in (mine.text or "")
    await bot.emu.wait_until(lambda: not bot.emu.pending_updates(), timeout=5.0)
    await asyncio.sleep(0.5)  # anything still being answered to the flooder arrives
    answers = _texts(bot, OFFICER)[1:]  # after the welcome
    notices = [t for t in answers if "för många meddelanden" in t]
    assert len(notices) == 1, notices
    assert len(answers) <= 21
