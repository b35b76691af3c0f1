"""Partners in the loop through the real bot (issue 9, point 4): told of a move and thanked
with the result, by day; the coordinator's no-partner alert with who declined and its three
buttons; risk-night invitees answering "Jag kommer"; a missed task told to the officer with
what the re-plan did."""

from __future__ import annotations

from datetime import datetime, time, timedelta
from zoneinfo import ZoneInfo

from sqlalchemy import ColumnElement, select

from medlofte_bot import texts
from medlofte_bot.storage import models as m

from .conftest import Harness

OFFICER, PIA, FIA = 2001, 3001, 3003
TZ = ZoneInfo("Europe/Stockholm")


async def _onboard(bot: Harness) -> None:
    for user, name, invite in ((OFFICER, "Olle", "polis lag-1"),
                               (PIA, "Pia", "partner alkoholhandlaggare"),
                               (FIA, "Fia", "partner faltarbetare")):
        await bot.join(user, name, invite)


def _task(bot: Harness, where: tuple[ColumnElement[bool], ...]) -> m.Task:
    with bot.db.sessions() as s:
        task = s.scalars(select(m.Task).join(m.Team).where(m.Team.key == "lag-1", *where)
                         .order_by(m.Task.start_at)).first()
        assert task is not None
        return task


def _at(day: datetime, hour: int) -> datetime:
    return datetime.combine(day.astimezone(TZ).date(), time(hour, 1), tzinfo=TZ)


async def _text(bot: Harness, user: int, words: str) -> str:
    found = await bot.emu.wait_for_message(user, lambda x: words in (x.text or ""))
    return found.text or ""


async def _done_then_status(bot: Harness, task: m.Task) -> str:
    """The officer confirms ``task`` an hour after its end; the coordinator's /status."""
    bot.clock.current = task.end_at + timedelta(hours=1)
    await bot.emu.send_text(OFFICER, f"/klar {task.id}")
    await _text(bot, OFFICER, "genomförd")
    await bot.emu.send_text(1, "/status")
    status = await bot.emu.wait_for_message(
        1, lambda x: (x.text or "").startswith("Medborgarlöften 2015, läget nu"))
    return status.text or ""


async def _pia_answers(bot: Harness, joins: bool) -> m.Task:
    """Pia is invited to lag-1's first joint bar inspection 13 days ahead and answers."""
    await _onboard(bot)
    task = _task(bot, (m.Task.kind == "bar_inspection", m.Task.joint.is_(True)))
    bot.clock.current = _at(task.start_at - timedelta(days=13), 9)
    await bot.tick()
    invite = await bot.emu.wait_for_message(PIA, lambda x: "Inbjudan" in (x.text or ""))
    await bot.emu.press_button(PIA, PIA, invite.message_id, f"j:{task.id}:{int(joins)}")
    await _text(bot, PIA, "anmäld" if joins else "deltar inte")
    return task


async def test_a_partner_who_joined_is_told_of_a_move_by_day_and_thanked_with_the_result(
        bot: Harness) -> None:
    task = await _pia_answers(bot, joins=True)
    later = (task.start_at + timedelta(days=7)).astimezone(TZ)
    assert "flyttad" in await bot.say(OFFICER, f"/flytta {task.id} {later:%d/%m %H:%M}")
    await bot.tick()
    moved = await bot.emu.wait_for_message(PIA, lambda x: "Ny tid" in (x.text or ""))
    assert f"#{task.id} " in (moved.text or "") and f"j:{task.id}:0" in moved.button_data()
    before = texts.when(task.start_at.astimezone(TZ), "sv")  # "fredag 13 mars kl. 22.00"
    assert f"Tidigare: {before}." in (moved.text or "")

    end = later + (task.end_at - task.start_at)
    bot.clock.current = end + timedelta(minutes=5)  # 02:05: she is asleep
    await bot.emu.send_text(OFFICER, f"/klar {task.id} 4 ställen, en anmärkning om Storgatan 5")
    await _text(bot, OFFICER, "genomförd")
    bot.clock.current = end + timedelta(hours=1)
    await bot.tick()
    assert not [x for x in bot.emu.messages_to(PIA) if "Tack för att du deltog" in (x.text or "")]
    bot.clock.current = _at(end, 7)
    await bot.tick()
    thanks = await _text(bot, PIA, "Tack för att du deltog")
    assert "besökta ställen 4" in thanks and "Storgatan" not in thanks


async def test_the_coordinators_alert_says_who_declined_and_its_buttons_work(
        bot: Harness) -> None:
    task = await _pia_answers(bot, joins=False)
    bot.clock.current = _at(task.start_at - timedelta(days=2), 7)
    await bot.tick()
    alert = await bot.emu.wait_for_message(1, lambda x: "Ingen partner" in (x.text or ""))
    assert "Tackat nej: Pia." in (alert.text or "")
    assert {f"pa:{task.id}", f"m:{task.id}", f"po:{task.id}"} <= set(alert.button_data())

    await bot.emu.press_button(1, 1, alert.message_id, f"pa:{task.id}")
    assert "en partner" in await _text(bot, 1, "skickats igen")
    await bot.tick()
    again = await bot.emu.wait_for_message(PIA, lambda x: "frågar igen" in (x.text or ""))
    assert f"j:{task.id}:1" in again.button_data()

    await bot.emu.press_button(1, 1, alert.message_id, f"po:{task.id}")
    assert "polisen ensam" in await _text(bot, 1, "polisen ensam")
    status = await _done_then_status(bot, task)
    assert "Krogtillsyner: 1/6 – " in status
    assert "\n   varav gemensamma med partner: 0/2 – " in status
    with bot.db.sessions() as s:
        assert s.get_one(m.Task, task.id).joint is False

    mine = bot.emu.last_message(OFFICER)  # an officer forging the button is refused
    assert mine is not None
    await bot.emu.press_button(OFFICER, OFFICER, mine.message_id, f"po:{task.id}", check=False)
    refused = await bot.emu.wait_for_message(OFFICER)
    assert "samordnarna" in (refused.text or "")


async def test_a_risk_night_invitee_says_she_comes_and_is_counted(bot: Harness) -> None:
    await _onboard(bot)
    night = _task(bot, (m.Task.kind == "risk_night",))
    bot.clock.current = night.start_at - timedelta(days=7) + timedelta(minutes=1)
    await bot.tick()
    asked = await bot.emu.wait_for_message(FIA, lambda x: "Kommer du?" in (x.text or ""))
    assert f"j:{night.id}:1" in asked.button_data()
    await bot.emu.press_button(FIA, FIA, asked.message_id, f"j:{night.id}:1")
    assert "Vi räknar med dig" in await _text(bot, FIA, "Vi räknar med dig")
    status = await _done_then_status(bot, night)
    assert "partner deltog en gång" in status


async def test_a_missed_task_is_told_to_the_officer_with_what_the_re_plan_did(
        bot: Harness) -> None:
    await _onboard(bot)
    task = _task(bot, (m.Task.kind == "school_traffic_control",
                       m.Task.start_at > bot.clock.now()))
    # school controls end by 16:00: a week later it is still day, so nothing waits
    bot.clock.current = task.end_at + timedelta(days=7, minutes=1)
    await bot.tick()
    told = await bot.emu.wait_for_message(
        OFFICER, lambda x: f"#{task.id} " in (x.text or "") and "missad" in (x.text or ""))
    assert "Ersatt av #" in (told.text or "") or "Ingen ny tid" in (told.text or "")
    assert not [x for x in bot.emu.messages_to(PIA) if "missad" in (x.text or "")]
