"""Need-to-know through the real bot: each finding of the tester's report, as it was found.

Each test failed before the policy module (domain/policy.py) was the one gate.
"""

from __future__ import annotations

import asyncio
import re
from collections.abc import Callable
from datetime import timedelta
from itertools import pairwise

from sqlalchemy import select

from medlofte_bot.storage import models as m

from .conftest import Harness

OFFICER, OFFICER2, PARTNER, CHIEF, STRANGER = 2001, 2002, 3001, 4001, 9999
GROUP, TEAM_GROUP = -600, -700
PRIVATELY = "Jag svarar dig privat."
SECRET_TITLES = ("Riktade insatser mot narkotika", "Krogtillsyner", "Trafikkontroller",
                 "Sommarnätter")






async def _people(bot: Harness) -> None:
    await bot.join(OFFICER, "Olle", "/bjud polis lag-1")
    await bot.join(OFFICER2, "Stina", "/bjud polis lag-2")
    await bot.join(PARTNER, "Pia", "/bjud partner alkoholhandlaggare")
    await bot.join(CHIEF, "Kim", "/bjud chef")
    await bot.emu.add_user(STRANGER, "Sven")


def _first(bot: Harness, promise: str, team: str = "lag-1", joint: bool | None = None,
           after: timedelta = timedelta(0)) -> m.Task:
    with bot.db.sessions() as s:
        q = select(m.Task).join(m.Promise).join(m.Team).where(
            m.Promise.key == promise, m.Team.key == team,
            m.Task.start_at >= bot.clock.current + after).order_by(m.Task.start_at)
        if joint is not None:
            q = q.where(m.Task.joint.is_(joint))
        task = s.scalars(q).first()
        assert task is not None
        return task


def _more_than(bot: Harness, user: int, count: int) -> Callable[[], bool | None]:
    return lambda: len(bot.emu.messages_to(user)) > count or None


async def _quiet(bot: Harness) -> None:
    """Let the bot finish what it is sending (nothing more arrives for a moment)."""
    count = -1
    while count != len(bot.emu.all_sent()):
        count = len(bot.emu.all_sent())
        await asyncio.sleep(0.3)


async def test_a_partners_status_names_no_police_only_promise_before_or_after_one_is_done(
        bot: Harness) -> None:
    await _people(bot)
    before = await bot.say(PARTNER, "/status")
    assert "Närvaro vid riskkvällar" in before
    assert not [t for t in SECRET_TITLES if t in before], before
    task = _first(bot, "narkotika")
    bot.clock.current = task.end_at + timedelta(minutes=5)
    assert "genomförd" in await bot.say(OFFICER, f"/klar {task.id}")
    after = await bot.say(PARTNER, "/status")
    assert not [t for t in SECRET_TITLES if t in after], after
    police = await bot.say(OFFICER, "/status")
    assert "Riktade insatser mot narkotika" in police


async def test_a_partner_gets_no_move_or_cancel_prompt_on_a_joint_task_she_can_see(
        bot: Harness) -> None:
    await _people(bot)
    joint = _first(bot, "krogtillsyn", joint=True)
    mine = await bot.say(PARTNER, "/plan")
    assert f"#{joint.id} " in mine  # she may see it: the joint inspection she is invited to
    card = bot.emu.last_message(PARTNER)
    assert card is not None
    for data in (f"c:{joint.id}", f"m:{joint.id}"):
        await bot.emu.press_button(PARTNER, PARTNER, card.message_id, data, check=False)
        refused = await bot.emu.wait_for_message(PARTNER)
        assert "bara polisen" in (refused.text or ""), refused.text
    for command in (f"/flytta {joint.id}", f"/stallin {joint.id}"):
        assert "bara polisen" in await bot.say(PARTNER, command)
    with bot.db.sessions() as s:
        prompts = s.scalars(select(m.SentMessage).where(
            m.SentMessage.kind.in_(("prompt_move", "prompt_cancel")))).all()
        assert prompts == []
        assert s.get_one(m.Task, joint.id).status == "pending"


async def test_police_commands_in_an_unregistered_group_are_answered_in_private(
        bot: Harness) -> None:
    await _people(bot)
    await bot.emu.add_group(GROUP, "Krögarträff", members=[1, OFFICER, PARTNER, CHIEF, STRANGER])
    task = _first(bot, "narkotika")
    for user, command in ((OFFICER, "/mina"), (OFFICER, "/plan"), (OFFICER, "/status"),
                          (CHIEF, "/rapport"), (OFFICER, f"/flytta {task.id}"),
                          (PARTNER, "/plan"), (1, "/bjud polis lag-1")):
        before = len(bot.emu.messages_to(user))
        assert await bot.say(user, command, chat=GROUP) == PRIVATELY, command
        await bot.emu.wait_until(_more_than(bot, user, before))
    await bot.emu.send_text(STRANGER, "/mina", chat_id=GROUP)
    await bot.emu.send_text(STRANGER, "/status", chat_id=GROUP)
    await _quiet(bot)
    in_group = [x.text or "" for x in bot.emu.messages_to(GROUP)]
    assert in_group and set(in_group) == {PRIVATELY}, in_group
    assert bot.emu.messages_to(STRANGER) == []


async def test_in_a_team_group_only_that_teams_tasks_are_shown(bot: Harness) -> None:
    await _people(bot)
    await bot.emu.add_group(TEAM_GROUP, "Lag 1", members=[1, OFFICER, OFFICER2])
    assert "Arvidsjaur lag 1" in await bot.say(1, "/grupp lag-1", chat=TEAM_GROUP)
    other = _first(bot, "narkotika", team="lag-2")
    bot.clock.current = other.start_at - timedelta(days=3)
    plan = await bot.say(1, "/plan", chat=TEAM_GROUP)  # the coordinator sees every team
    assert f"#{other.id} " not in plan and "lag 1" in plan.lower(), plan
    assert await bot.say(OFFICER2, "/mina", chat=TEAM_GROUP) == PRIVATELY
    with_other = await bot.emu.wait_for_message(OFFICER2, lambda x: f"#{other.id} " in
                                                (x.text or ""))
    assert with_other.chat_id == OFFICER2


async def test_a_reply_klar_to_the_help_text_confirms_nothing(bot: Harness) -> None:
    await _people(bot)
    task = _first(bot, "narkotika")
    bot.clock.current = task.start_at + timedelta(minutes=30)
    await bot.say(OFFICER, "/hjalp")
    help_message = bot.emu.last_message(OFFICER)
    assert help_message is not None
    answer = await bot.say(OFFICER, "klar", reply_to=help_message.message_id)
    assert "Kommandon" in answer
    with bot.db.sessions() as s:
        assert s.scalars(select(m.Completion)).all() == []


async def test_a_reply_klar_to_a_card_in_the_team_group_confirms_that_task(
        bot: Harness) -> None:
    await _people(bot)
    await bot.emu.add_group(TEAM_GROUP, "Lag 1", members=[1, OFFICER])
    await bot.say(1, "/grupp lag-1", chat=TEAM_GROUP)
    task = _first(bot, "narkotika")
    bot.clock.current = task.start_at + timedelta(minutes=30)
    await bot.emu.send_text(OFFICER, "/mina", chat_id=TEAM_GROUP)
    card = await bot.emu.wait_for_message(TEAM_GROUP, lambda x: f"#{task.id} " in (x.text or ""))
    await _quiet(bot)
    await bot.emu.send_text(OFFICER, "klar", chat_id=TEAM_GROUP, reply_to=card.message_id)
    await bot.emu.wait_for_message(
        TEAM_GROUP, lambda x: f"Uppgift {task.id} är registrerad" in (x.text or ""))
    with bot.db.sessions() as s:
        assert s.get_one(m.Task, task.id).status == "done"


async def test_a_confirmation_weeks_ahead_asks_first_and_records_the_real_time(
        bot: Harness) -> None:
    await _people(bot)
    task = _first(bot, "narkotika", after=timedelta(days=28))
    question = await bot.say(OFFICER, f"/klar {task.id}")
    assert "Är den redan gjord?" in question
    with bot.db.sessions() as s:
        assert s.get_one(m.Task, task.id).status == "pending"
    asked = bot.emu.last_message(OFFICER)
    assert asked is not None and asked.button_data() == [f"d:{task.id}:nu"]
    await bot.emu.press_button(OFFICER, OFFICER, asked.message_id, f"d:{task.id}:nu")
    done = await bot.emu.wait_for_message(OFFICER, lambda x: "genomförd" in (x.text or ""))
    assert f"Uppgift {task.id}" in (done.text or "")
    with bot.db.sessions() as s:
        completion = s.scalars(select(m.Completion).where(m.Completion.task_id == task.id)).one()
        assert completion.done_at == bot.clock.current


async def test_a_risk_night_is_not_moved_and_moves_stay_in_the_plans_year(bot: Harness) -> None:
    await _people(bot)
    risk = _first(bot, "riskkvallar")
    refused = await bot.say(OFFICER, f"/flytta {risk.id} fre 22:00")
    assert "riskkväll" in refused and "kan inte flyttas" in refused, refused
    task = _first(bot, "narkotika")
    for when in ("2016-01-08 22:00", "2030-03-06 22:00", "9999-12-31 22:00"):
        answer = await bot.say(OFFICER, f"/flytta {task.id} {when}")
        assert "utanför planens år (2015)" in answer, (when, answer)
    with bot.db.sessions() as s:
        assert s.get_one(m.Task, task.id).start_at == task.start_at
        assert s.get_one(m.Task, risk.id).start_at == risk.start_at


async def test_each_role_s_help_lists_only_its_own_commands(bot: Harness) -> None:
    await _people(bot)
    partner = await bot.say(PARTNER, "/hjalp")
    assert "/mina" in partner and "Jag deltar" in partner
    assert not [c for c in ("/klar", "/flytta", "/stallin", "/bjud", "/rapport") if c in partner]
    officer = await bot.say(OFFICER, "/hjalp")
    assert "/klar 17" in officer
    assert not [c for c in ("/bjud", "/rapport", "/avsluta") if c in officer]
    chief = await bot.say(CHIEF, "/hjalp")
    assert "/rapport" in chief and "/bjud" not in chief
    coordinator = await bot.say(1, "/hjalp")
    assert "/bjud" in coordinator and "/avsluta" in coordinator


async def test_forged_move_buttons_get_a_clear_answer_and_move_nothing(bot: Harness) -> None:
    await _people(bot)
    task = _first(bot, "narkotika")
    await bot.say(OFFICER, "/mina")
    await _quiet(bot)
    card = bot.emu.last_message(OFFICER)
    assert card is not None
    answers, last = {}, card.message_id
    for when in ("9999-12-31T23:59:00+00:00", "2015-06-01T22:00", "2015-02-30T22:00:00+01:00",
                 "0001-01-01T00:00:00+00:00", "nästa vecka"):
        await bot.emu.press_button(OFFICER, OFFICER, card.message_id, f"mv:{task.id}:{when}",
                                   check=False)
        answer = await bot.emu.wait_for_message(OFFICER, after=last)
        answers[when], last = answer.text or "", answer.message_id
    assert "utanför planens år" in answers["9999-12-31T23:59:00+00:00"]
    assert "utanför planens år" in answers["0001-01-01T00:00:00+00:00"]
    for when in ("2015-06-01T22:00", "2015-02-30T22:00:00+01:00", "nästa vecka"):
        assert "fre 22:00" in answers[when], (when, answers[when])  # how to write a time
    assert not [a for a in answers.values() if "Något gick fel" in a]
    with bot.db.sessions() as s:
        assert s.get_one(m.Task, task.id).start_at == task.start_at


async def test_a_plain_klar_confirms_my_one_task_under_way_or_offers_the_choices(
        bot: Harness) -> None:
    await _people(bot)
    task = _first(bot, "narkotika")
    bot.clock.current = task.start_at + timedelta(minutes=45)
    done = await bot.say(OFFICER, "klar, lugnt")
    assert f"Uppgift {task.id} är registrerad" in done, done
    with bot.db.sessions() as s:
        assert s.get_one(m.Task, task.id).status == "done"
    bot.clock.current = task.start_at + timedelta(days=3, hours=13)
    assert "Jag hittar ingen uppgift som pågår" in await bot.say(OFFICER, "gjort")
    with bot.db.sessions() as s:  # two pending tasks close together, of any team
        rows = s.scalars(select(m.Task).where(m.Task.status == "pending",
                                              m.Task.start_at > bot.clock.current)
                         .order_by(m.Task.start_at)).all()
        first, second = next((a, b) for a, b in pairwise(rows)
                             if b.start_at - a.end_at < timedelta(hours=11))
    bot.clock.current = second.start_at + timedelta(minutes=1)
    which = await bot.say(1, "klar")  # the coordinator could mean either
    assert which == "Vilken uppgift är klar?"
    choice = bot.emu.last_message(1)
    assert choice is not None
    assert {f"d:{first.id}", f"d:{second.id}"} <= set(choice.button_data())
    with bot.db.sessions() as s:
        assert s.scalars(select(m.Completion).where(
            m.Completion.task_id.in_((first.id, second.id)))).all() == []
    await bot.emu.press_button(1, 1, choice.message_id, f"d:{second.id}")
    await bot.emu.wait_for_message(1, lambda x: f"Uppgift {second.id} är registrerad"
                                   in (x.text or ""))
    assert "bara polisen" in await bot.say(PARTNER, "klar")


async def test_a_refused_move_says_the_days_and_hours_in_words_and_month_names_are_read(
        bot: Harness) -> None:
    await _people(bot)
    task = _first(bot, "narkotika")
    refused = await bot.say(OFFICER, f"/flytta {task.id} 2015-03-05 03:00")
    assert "passar inte löftet, som gäller" in refused, refused
    assert not re.search(r"\b(mon|tue|wed|thu|fri|sat|sun)\b", refused), refused
    assert re.search(r"(måndag|tisdag|onsdag|torsdag|fredag|lördag|söndag)", refused)
    answer = await bot.say(OFFICER, f"/flytta {task.id} lördag 21 mars 22:00")
    assert "Jag kan inte läsa tiden" not in answer, answer
