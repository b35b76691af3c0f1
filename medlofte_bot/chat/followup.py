"""The short, skippable follow-up after a task is done: counts, places, vehicle, a note."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy.orm import Session
from telegram import Update

from medlofte_bot import texts
from medlofte_bot.chat import render
from medlofte_bot.chat.common import reply
from medlofte_bot.chat.context import Deps
from medlofte_bot.chat.parsing import first_number, parse_counters, vehicle_word
from medlofte_bot.services import tasks
from medlofte_bot.services.tasks import TaskView
from medlofte_bot.storage import models as m


def apply_follow_up(session: Session, member: m.Member, task: TaskView, text: str,
                    now: datetime) -> bool:
    """Store what the text says for this kind of task; False if it could not be read."""
    key = render.follow_up_key(task)
    if key == "follow_up.counters":
        counts = parse_counters(text, list(task.counters))
        if counts is None:
            return False
        tasks.record_follow_up(session, member, task.id, now, counters=counts)
    elif key == "follow_up.bar_inspection":
        places = first_number(text)
        fields: dict[str, object] = {"places_visited": places} if places is not None else {}
        tasks.record_follow_up(session, member, task.id, now, fields=fields, note=text)
    elif key == "follow_up.school":
        vehicle, checked = vehicle_word(text), first_number(text)
        if vehicle is None and checked is None:
            return False
        seen = {k: v for k, v in (("vehicle", vehicle), ("vehicles_checked", checked))
                if v is not None}
        tasks.record_follow_up(session, member, task.id, now, fields=seen)
    else:
        tasks.record_follow_up(session, member, task.id, now, note=text)
    return True


async def on_follow_up_reply(update: Update, session: Session, member: m.Member, d: Deps,
                             task_id: int, text: str) -> None:
    """A reply to the follow-up question."""
    task = tasks.view(session, tasks.get_visible(session, member, task_id))
    lang = member.language
    if apply_follow_up(session, member, task, text, d.clock.now()):
        session.commit()
        await reply(update, texts.t("follow_up.saved", lang))
    else:
        hint = texts.t(render.follow_up_key(task), lang)
        await reply(update, texts.t("follow_up.unreadable", lang, hint=hint))
