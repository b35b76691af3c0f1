"""The core loop through the real PTB Application and the emulator: join, remind, confirm."""

from __future__ import annotations

from datetime import datetime, time, timedelta
from zoneinfo import ZoneInfo

from sqlalchemy import select

from medlofte_bot.storage import models as m

from .conftest import Harness, invite_code

OFFICER, PARTNER, STRANGER = 2001, 3001, 9999




async def _onboard(bot: Harness) -> None:
    await bot.emu.add_user(OFFICER, "Olle")
    await bot.emu.add_user(PARTNER, "Pia")
    link = await bot.say(1, "/bjud polis lag-1")
    assert "t.me/medlofte_bot?start=" in link
    welcome = await bot.say(OFFICER, f"/start {invite_code(link)}")
    assert "Välkommen, Olle" in welcome and "polis" in welcome
    link = await bot.say(1, "/bjud partner alkoholhandlaggare")
    welcome = await bot.say(PARTNER, f"/start {invite_code(link)}")
    # her role as the promise set words it, and where: never the file's id
    assert "registrerad som partner (Alkoholhandläggare, Arvidsjaur)" in welcome
    assert "alkoholhandlaggare" not in welcome


def _morning_after(at: datetime) -> datetime:
    """07:01 local on the morning after ``at`` (the end of a partner's quiet hours)."""
    tz = ZoneInfo("Europe/Stockholm")
    day = at.astimezone(tz).date() + timedelta(days=1)
    return datetime.combine(day, time(7, 1), tzinfo=tz)


def _task(bot: Harness, promise: str, joint: bool | None = None) -> m.Task:
    with bot.db.sessions() as s:
        q = select(m.Task).join(m.Promise).join(m.Team).where(
            m.Promise.key == promise, m.Team.key == "lag-1").order_by(m.Task.start_at)
        if joint is not None:
            q = q.where(m.Task.joint.is_(joint))
        task = s.scalars(q).first()
        assert task is not None
        return task


async def test_an_invite_registers_once_and_a_stranger_gets_one_polite_sentence(
        bot: Harness) -> None:
    await bot.emu.add_user(OFFICER, "Olle")
    await bot.emu.add_user(STRANGER, "Sven")
    link = await bot.say(1, "/bjud polis lag-1")
    code = invite_code(link)
    assert "Välkommen" in await bot.say(OFFICER, f"/start {code}")
    assert "redan använd" in await bot.say(STRANGER, f"/start {code}")
    answer = await bot.say(STRANGER, "/mina")
    assert "Be samordnaren om en inbjudan" in answer
    assert len(bot.emu.messages_to(STRANGER)) == 2


async def test_a_reminder_answered_with_the_done_button_is_counted(bot: Harness) -> None:
    await _onboard(bot)
    task = _task(bot, "narkotika")
    bot.clock.current = task.start_at - timedelta(hours=2)
    outcomes = await bot.tick()
    assert outcomes.get("sent", 0) >= 1
    reminder = next(x for x in bot.emu.messages_to(OFFICER) if f"#{task.id} " in (x.text or ""))
    assert f"d:{task.id}" in reminder.button_data()
    await bot.emu.press_button(OFFICER, OFFICER, reminder.message_id, f"d:{task.id}")
    done = await bot.emu.wait_for_message(OFFICER, lambda x: "genomförd" in (x.text or ""))
    assert "Olle" in (done.text or "")
    with bot.db.sessions() as s:
        assert s.get_one(m.Task, task.id).status == "done"
        assert s.scalar(select(m.Completion.member_id).where(m.Completion.task_id == task.id))
    await bot.emu.press_button(OFFICER, OFFICER, reminder.message_id, f"d:{task.id}")
    again = await bot.emu.wait_for_message(OFFICER, lambda x: "Redan registrerad" in (x.text or ""))
    assert "Olle" in (again.text or "")
    with bot.db.sessions() as s:
        rows = s.scalars(select(m.Completion).where(m.Completion.task_id == task.id)).all()
        assert len(rows) == 1


async def test_replying_klar_with_a_note_counts_the_task_with_the_note(bot: Harness) -> None:
    await _onboard(bot)
    task = _task(bot, "krogtillsyn", joint=False)
    bot.clock.current = task.start_at - timedelta(hours=2)
    await bot.tick()
    reminder = next(x for x in bot.emu.messages_to(OFFICER) if f"#{task.id} " in (x.text or ""))
    bot.clock.current = task.end_at + timedelta(hours=1)
    await bot.emu.send_text(OFFICER, "Klar, 3 ställen", reply_to=reminder.message_id)
    answer = await bot.emu.wait_for_message(OFFICER, lambda x: "genomförd" in (x.text or ""))
    assert "Olle" in (answer.text or "")
    with bot.db.sessions() as s:
        completion = s.scalar(select(m.Completion).where(m.Completion.task_id == task.id))
        assert completion is not None and completion.note == "3 ställen"
        assert completion.fields.get("places_visited") == 3


async def test_a_joint_inspection_counts_as_joint_only_when_a_partner_joined(bot: Harness) -> None:
    await _onboard(bot)
    task = _task(bot, "krogtillsyn", joint=True)
    bot.clock.current = task.start_at - timedelta(days=14) + timedelta(minutes=1)
    await bot.tick()  # 22:01: the partner's quiet hours (21-07), so the invitation waits
    assert not [x for x in bot.emu.messages_to(PARTNER) if "Inbjudan" in (x.text or "")]
    bot.clock.current = _morning_after(bot.clock.current)
    await bot.tick()
    invite = await bot.emu.wait_for_message(PARTNER, lambda x: "Inbjudan" in (x.text or ""))
    assert f"j:{task.id}:1" in invite.button_data()
    await bot.emu.press_button(PARTNER, PARTNER, invite.message_id, f"j:{task.id}:1")
    assert "anmäld" in ((await bot.emu.wait_for_message(PARTNER)).text or "")
    bot.clock.current = task.end_at + timedelta(hours=1)
    await bot.say(OFFICER, f"/klar {task.id}")
    await bot.emu.send_text(1, "/status")
    status = (await bot.emu.wait_for_message(
        1, lambda x: (x.text or "").startswith("Medborgarlöften 2015, läget nu"))).text or ""
    assert "Krogtillsyner: 1/6 – " in status
    assert "\n   varav gemensamma med partner: 1/2 – " in status


async def test_a_partner_never_reaches_a_narcotics_operation(bot: Harness) -> None:
    await _onboard(bot)
    task = _task(bot, "narkotika")
    bot.clock.current = task.start_at - timedelta(days=3)
    plan = await bot.say(PARTNER, "/plan")
    assert "Narkotika" not in plan and f"#{task.id} " not in plan
    mine = await bot.say(PARTNER, "/mina")
    assert f"#{task.id} " not in mine
    refused = await bot.say(PARTNER, f"/klar {task.id}")
    assert f"ingen uppgift {task.id}" in refused
    menu = await bot.say(PARTNER, "/hjalp")
    assert "/mina" in menu
    last = bot.emu.last_message(PARTNER)
    assert last is not None
    await bot.emu.press_button(PARTNER, PARTNER, last.message_id, f"d:{task.id}", check=False)
    forged = await bot.emu.wait_for_message(PARTNER)
    assert f"ingen uppgift {task.id}" in (forged.text or "")
    await bot.tick()
    for sent in bot.emu.messages_to(PARTNER):
        assert "Narkotika" not in (sent.text or "")
    with bot.db.sessions() as s:
        assert s.get_one(m.Task, task.id).status == "pending"


GROUP = -500


async def test_team_reminders_go_to_the_team_group_once_it_is_registered(bot: Harness) -> None:
    await _onboard(bot)
    await bot.emu.add_group(GROUP, "Lag 1", members=[1, OFFICER])
    answer = await bot.say(1, "/grupp lag-1", chat=GROUP)
    assert "Arvidsjaur lag 1" in answer
    task = _task(bot, "narkotika")
    bot.clock.current = task.start_at - timedelta(days=7) + timedelta(minutes=1)
    await bot.tick()
    in_group = [x for x in bot.emu.messages_to(GROUP) if f"#{task.id} " in (x.text or "")]
    assert len(in_group) == 1 and "Om en vecka" in (in_group[0].text or "")
    private = [x for x in bot.emu.messages_to(OFFICER) if f"#{task.id} " in (x.text or "")]
    assert private == []


async def test_an_officer_cannot_register_a_group(bot: Harness) -> None:
    await _onboard(bot)
    await bot.emu.add_group(GROUP, "Lag 1", members=[1, OFFICER])
    answer = await bot.say(OFFICER, "/grupp lag-1", chat=GROUP)
    assert "samordnare" in answer
    with bot.db.sessions() as s:
        assert s.scalar(select(m.Team.group_chat_id).where(m.Team.key == "lag-1")) is None


async def test_bad_input_gets_a_short_answer_and_changes_nothing(bot: Harness) -> None:
    await _onboard(bot)
    assert "/hjalp" in await bot.say(OFFICER, "/finnsinte")
    assert "/hjalp" in await bot.say(OFFICER, "hej")
    await bot.emu.send_sticker(OFFICER)
    assert "bara text" in ((await bot.emu.wait_for_message(OFFICER)).text or "")
    task = _task(bot, "narkotika")
    unreadable = await bot.say(OFFICER, f"/flytta {task.id} någon gång")
    assert "fre 22:00" in unreadable
    wrong_day = await bot.say(OFFICER, f"/flytta {task.id} 2015-03-05 03:00")
    assert "passar inte" in wrong_day
    long_note = "x" * 2000
    await bot.emu.send_text(OFFICER, f"/stallin {task.id} {long_note}")
    notice = await bot.emu.wait_for_message(OFFICER)
    assert "kortats" in (notice.text or "")
    await bot.emu.wait_for_message(OFFICER, lambda x: "inställd" in (x.text or ""))
    with bot.db.sessions() as s:
        row = s.get_one(m.Task, task.id)
        assert row.status == "cancelled" and len(row.reason) <= 500
    assert all("Traceback" not in (x.text or "") for x in bot.emu.messages_to(OFFICER))


CHIEF = 4001


async def test_the_chief_gets_the_monday_summary_once_with_a_chart(bot: Harness) -> None:
    await _onboard(bot)
    await bot.emu.add_user(CHIEF, "Kim")
    link = await bot.say(1, "/bjud chef")
    assert "Välkommen" in await bot.say(CHIEF, f"/start {invite_code(link)}")
    task = _task(bot, "narkotika")
    bot.clock.current = task.end_at + timedelta(hours=1)
    await bot.say(OFFICER, f"/klar {task.id} lugnt")
    monday = bot.clock.current + timedelta(days=(7 - bot.clock.current.weekday()) % 7 or 7)
    bot.clock.current = monday.replace(hour=6, minute=1)  # 07:01 in Stockholm (UTC+1 or +2)
    await bot.tick()
    await bot.tick()
    texts_ = [x for x in bot.emu.messages_to(CHIEF) if (x.text or "").startswith("Veckorapport")]
    photos = [x for x in bot.emu.messages_to(CHIEF) if x.kind == "photo"]
    assert len(texts_) == 1 and len(photos) == 1
    body = texts_[0].text or ""
    assert body.startswith("Veckorapport för medborgarlöften 2015, måndag ")
    assert "\nMedborgarlöften 2015, läget nu:\n" in body
    assert "Riktade insatser mot narkotika: 1/6" in body
    assert "Olle: lugnt" in body
    assert "Kommande 14 dagar" in body
    assert photos[0].file_size and photos[0].file_size > 1000


async def test_reminders_gone_stale_while_the_bot_was_down_come_as_one_digest(bot: Harness) -> None:
    await _onboard(bot)
    task = _task(bot, "narkotika")
    bot.clock.current = task.start_at - timedelta(days=1) + timedelta(minutes=1)
    await bot.tick()  # "I morgon" goes out; the two-hour reminder waits as a row
    bot.clock.current = task.start_at + timedelta(hours=11)  # down over its due time, > 12 h
    await bot.tick()
    texts_ = [x.text or "" for x in bot.emu.messages_to(OFFICER)]
    digests = [t for t in texts_ if t.startswith("Boten var nere")]
    assert len(digests) == 1 and f"#{task.id} " in digests[0]
    assert not any(t.startswith("Om två timmar") for t in texts_)
    with bot.db.sessions() as s:
        row = s.scalar(select(m.Reminder).where(m.Reminder.task_id == task.id,
                                                m.Reminder.kind == "assignee_2h"))
        assert row is not None and row.state == "folded"
    await bot.tick()
    assert len([x for x in bot.emu.messages_to(OFFICER)
                if (x.text or "").startswith("Boten var nere")]) == 1


async def test_a_partner_summary_has_no_police_only_details(bot: Harness) -> None:
    await _onboard(bot)
    key = next(iter(bot.ctx.sets))
    bot.ctx.sets[key] = bot.ctx.sets[key].model_copy(update={"partner_summary": True})
    task = _task(bot, "narkotika")
    bot.clock.current = task.end_at + timedelta(hours=1)
    await bot.say(OFFICER, f"/klar {task.id} lugnt")
    monday = bot.clock.current + timedelta(days=(7 - bot.clock.current.weekday()) % 7 or 7)
    bot.clock.current = monday.replace(hour=6, minute=1)
    await bot.tick()
    summaries = [x.text or "" for x in bot.emu.messages_to(PARTNER)
                 if (x.text or "").startswith("Veckorapport")]
    assert len(summaries) == 1
    assert "Krogtillsyner" not in summaries[0] and "Narkotika" not in summaries[0]
    assert "narkotika" not in summaries[0].lower() and "Obekräftat" not in summaries[0]
    assert "Närvaro vid riskkvällar" in summaries[0]


async def test_commands_are_published_in_swedish_and_english(bot: Harness) -> None:
    swedish = {c["command"] for c in bot.emu.commands_for("")}
    english = {c["command"] for c in bot.emu.commands_for("en")}
    assert {"hjalp", "mina", "klar", "flytta", "stallin", "sprak", "bjud", "rapport"} <= swedish
    assert {"help", "mine", "done", "move", "cancel", "lang", "invite", "report"} <= english


async def test_english_aliases_and_language_switch(bot: Harness) -> None:
    await _onboard(bot)
    assert "English" in await bot.say(OFFICER, "/lang en")
    answer = await bot.say(OFFICER, "/help")
    assert "/mine" in answer and "/done 17" in answer


async def test_moving_by_button_checks_the_window_replans_and_is_audited(bot: Harness) -> None:
    await _onboard(bot)
    task = _task(bot, "narkotika")
    bot.clock.current = task.start_at - timedelta(days=2)
    await bot.say(OFFICER, "/mina")
    card = await bot.emu.wait_for_message(OFFICER, lambda x: f"m:{task.id}" in x.button_data())
    await bot.emu.press_button(OFFICER, OFFICER, card.message_id, f"m:{task.id}")
    prompt = await bot.emu.wait_for_message(OFFICER, lambda x: "När ska uppgift" in (x.text or ""))
    choice = next(b for b in prompt.button_data() if b.startswith(f"mv:{task.id}:"))
    await bot.emu.press_button(OFFICER, OFFICER, prompt.message_id, choice)
    await bot.emu.wait_for_message(OFFICER, lambda x: "flyttad" in (x.text or ""))
    verdict = await bot.emu.wait_for_message(OFFICER, lambda x: "Målet" in (x.text or ""))
    assert "håller" in (verdict.text or "")
    with bot.db.sessions() as s:
        row = s.get_one(m.Task, task.id)
        assert row.moved and row.start_at == task.start_at + timedelta(days=1)
        audit = s.scalars(select(m.AuditEntry).where(m.AuditEntry.action == "moved")).one()
        assert audit.before is not None and audit.after is not None
        assert audit.before["start"] != audit.after["start"]
        assert {"member_added", "invite_created", "planned"} <= set(
            s.scalars(select(m.AuditEntry.action)))


async def test_the_coordinator_is_told_when_no_partner_joined_three_days_before(
        bot: Harness) -> None:
    await _onboard(bot)
    task = _task(bot, "krogtillsyn", joint=True)
    bot.clock.current = task.start_at - timedelta(days=3) + timedelta(minutes=1)
    await bot.tick()  # 22:01: it can wait for the morning
    assert not [x for x in bot.emu.messages_to(1) if "Ingen partner" in (x.text or "")]
    bot.clock.current = _morning_after(bot.clock.current)
    await bot.tick()
    alert = [x for x in bot.emu.messages_to(1) if "Ingen partner" in (x.text or "")]
    assert len(alert) == 1 and f"#{task.id} " in (alert[0].text or "")


async def test_a_follow_up_answer_starting_with_a_done_word_is_kept_as_the_note(
        bot: Harness) -> None:
    await _onboard(bot)
    task = _task(bot, "narkotika")
    bot.clock.current = task.end_at + timedelta(hours=1)
    await bot.emu.send_text(OFFICER, f"/klar {task.id}")
    prompt = await bot.emu.wait_for_message(OFFICER, lambda x: "anteckning" in (x.text or ""))
    await bot.emu.send_text(OFFICER, "Genomfört enligt plan, lugnt.", reply_to=prompt.message_id)
    saved = await bot.emu.wait_for_message(OFFICER)
    assert saved.text == "Tack, sparat."
    with bot.db.sessions() as s:
        note = s.scalar(select(m.Completion.note).where(m.Completion.task_id == task.id))
    assert note == "Genomfört enligt plan, lugnt."
