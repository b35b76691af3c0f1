"""Notices: what people are told when a task changes, made as outbox rows in the same
transaction as the change (so a rolled-back move tells nobody).

- A partner who joined a task (a joint inspection, or a risk night she said she would come
  to) is told when it is moved or cancelled, and thanked with the result when it is done.
- A task that becomes missed is told to its team (its group, or its officers) and to the
  coordinators of its area, with what the re-plan did.
- A coordinator may ask the partner role again when nobody has joined.

The rows only say what and to whom; the outbox decides at sending time what may still be
said (the policy is asked again) and the chat layer picks the words.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from medlofte_bot.storage import models as m
from medlofte_bot.storage.database import insert_ignoring_duplicates

MOVED, CANCELLED, THANKS, MISSED = "task_moved", "task_cancelled", "partner_thanks", "task_missed"
ASK_AGAIN, NO_PARTNER = "partner_again", "no_partner_3d"
TO_PARTNERS = frozenset({MOVED, CANCELLED, THANKS})
# notices that can wait for the morning whoever gets them (reminders follow the role's
# quiet hours only: an officer's reminder at 22:00 is work)
CAN_WAIT = frozenset({MOVED, CANCELLED, THANKS, MISSED, NO_PARTNER})
THANKS_AFTER = timedelta(minutes=30)  # time for the follow-up's counts to be answered
MISSED_AFTER = timedelta(days=7)  # unconfirmed a week after its end, a task is missed


def _subject(task_id: int, now: datetime) -> str:
    """One notice per change: a task moved twice is told twice."""
    return f"task:{task_id}@{now:%Y%m%dT%H%M%S}"


def joined(session: Session, task_id: int) -> list[m.Member]:
    """The active partners who said they join (or come to) the task, in answer order."""
    return list(session.scalars(select(m.Member).join(
        m.Participation, m.Participation.member_id == m.Member.id).where(
        m.Participation.task_id == task_id, m.Participation.joins.is_(True),
        m.Member.active.is_(True)).order_by(m.Participation.at, m.Participation.id)))


def declined(session: Session, task_id: int) -> list[str]:
    """The names of the active partners who said they cannot, in answer order."""
    return list(session.scalars(select(m.Member.display_name).join(
        m.Participation, m.Participation.member_id == m.Member.id).where(
        m.Participation.task_id == task_id, m.Participation.joins.is_(False),
        m.Member.active.is_(True)).order_by(m.Participation.at, m.Participation.id)))


def tell_joined(session: Session, task: m.Task, kind: str, now: datetime,
                detail: dict[str, Any] | None = None, due: datetime | None = None) -> int:
    """A notice of ``kind`` to every partner who joined ``task``; returns how many."""
    from medlofte_bot.services.reminders import new_row  # reminders imports tasks

    rows = [new_row(_subject(task.id, now), kind, due or now, member_id=p.id, task_id=task.id,
                    detail=detail) for p in joined(session, task.id)]
    return insert_ignoring_duplicates(session, m.Reminder, rows)


def tell_missed(session: Session, task: m.Task, now: datetime, replaced_by: list[int],
                target_holds: bool, target: int, reachable: int) -> int:
    """The team (its group, or its officers) and the area's coordinators are told that
    ``task`` became missed, and what the re-plan did."""
    from medlofte_bot.services.reminders import new_row, recipients

    detail = {"replaced_by": replaced_by, "holds": target_holds, "target": target,
              "reachable": reachable}
    who = recipients(session, task, "team") + recipients(session, task, "coordinators")
    # news only to those who were members when it turned missed, not to a newcomer
    turned = task.end_at + MISSED_AFTER
    rows = [new_row(_subject(task.id, now), MISSED, now, member_id=member_id, chat_id=chat_id,
                    task_id=task.id, detail=detail) for member_id, chat_id in dict.fromkeys(who)
            if member_id is None or _member_since(session, member_id, turned)]
    return insert_ignoring_duplicates(session, m.Reminder, rows)


def _member_since(session: Session, member_id: int, moment: datetime) -> bool:
    member = session.get(m.Member, member_id)
    return member is not None and member.created_at <= moment


def ask_again(session: Session, task: m.Task, now: datetime) -> int:
    """The invitation once more to every partner of the invited role (those who declined
    too: they may have changed their mind); returns how many."""
    from medlofte_bot.services.reminders import new_row, recipients

    rows = [new_row(_subject(task.id, now), ASK_AGAIN, now, member_id=member_id,
                    task_id=task.id) for member_id, _ in recipients(session, task, "partners")
            if member_id is not None]
    return insert_ignoring_duplicates(session, m.Reminder, rows)
