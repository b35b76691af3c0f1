"""Both 2015 daylight-saving days: reminders at 02:30 and 07:00 local go out once, on time."""

from __future__ import annotations

from datetime import date, datetime, time, timedelta
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy import select

from medlofte_bot.planning.calendar import local_instant
from medlofte_bot.storage import models as m

from .conftest import Harness

TZ = ZoneInfo("Europe/Stockholm")
OFFICER, CHIEF = 2001, 4001
STEP = timedelta(minutes=5)




@pytest.mark.parametrize("day", [date(2015, 3, 29), date(2015, 10, 25)])
async def test_reminders_at_0230_and_0700_go_out_once_at_the_right_instant(
        bot: Harness, day: date) -> None:
    await bot.join(OFFICER, "Olle", "polis lag-1")
    await bot.join(CHIEF, "Kim", "chef")
    with bot.db.sessions() as s:
        member = s.scalar(select(m.Member).where(m.Member.telegram_id == OFFICER))
        assert member is not None
        task = s.scalars(select(m.Task).where(m.Task.start_at > datetime.combine(
            day + timedelta(days=3), time(), TZ), m.Task.status == "pending",
            m.Task.team_id == member.team_id)  # his team's: no one else's reminder reaches him
            .order_by(m.Task.start_at)).first()
        assert member is not None and task is not None
        due = {"dst_0230": local_instant(day, time(2, 30), TZ),
               "dst_0700": local_instant(day, time(7, 0), TZ)}
        for kind, at in due.items():
            s.add(m.Reminder(task_id=task.id, kind=kind, member_id=member.id, due_at=at))
        s.commit()
    bot.clock.current = datetime.combine(day, time(0, 0), TZ)
    end = datetime.combine(day + timedelta(days=1), time(9, 0), TZ)
    while bot.clock.current < end:
        await bot.tick()
        bot.clock.current = bot.clock.current + STEP
    with bot.db.sessions() as s:
        for kind, at in due.items():
            row = s.scalar(select(m.Reminder).where(m.Reminder.kind == kind))
            assert row is not None and row.state == "sent" and row.sent_at is not None
            assert timedelta(0) <= row.sent_at - at < STEP, (kind, row.sent_at, at)
            assert not row.late
        monday = local_instant(day + timedelta(days=1), time(7, 0), TZ)
        summary = s.scalar(select(m.Reminder).where(
            m.Reminder.kind == "weekly_summary",
            m.Reminder.subject == f"week:{monday.date().isoformat()}",
            m.Reminder.member_id.is_not(None)))
        assert summary is not None and summary.state == "sent"
        assert summary.sent_at is not None
        assert timedelta(0) <= summary.sent_at - monday < STEP
    generic = [x for x in bot.emu.messages_to(OFFICER) if (x.text or "").startswith("Påminnelse")]
    assert len(generic) == 2
    summaries = [x.text or "" for x in bot.emu.messages_to(CHIEF)
                 if (x.text or "").startswith("Veckorapport")]
    # the Monday before the jump fell due while "down": it went out once, marked late
    assert [t for t in summaries if "(försenad)" not in t] == summaries[-1:]
    assert len(summaries) == 2 and "(försenad)" in summaries[0]
