"""Use cases: which reminders a task gets, and claiming due ones so each is sent once.

Reminders are rows. A tick first makes sure every upcoming task has its rows (new
members and moved tasks included), then claims due rows atomically, sends them and
marks them sent. A claim that was never marked (the process died between claim and
send) is taken again after a lease: at most the in-flight ones are sent twice.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import Connection, and_, bindparam, or_, select, update
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.orm import Session

from medlofte_bot.domain.policy import (
    Viewer,
    audience_role,
    can_read_summary,
    gets_partner_summary,
    receives_reminder,
)
from medlofte_bot.domain.promise_set import ReminderRule
from medlofte_bot.domain.states import MessageKind, ReminderState, Role, TaskStatus
from medlofte_bot.services.disclosure import facts
from medlofte_bot.services.members import viewer
from medlofte_bot.storage import models as m
from medlofte_bot.storage.database import insert_ignoring_duplicates
from medlofte_bot.storage.driver import DriverStatement
from medlofte_bot.storage.models import recipient_key, task_subject

__all__ = ["recipient_key", "task_subject"]

LEASE = timedelta(minutes=2)
HORIZON = timedelta(days=15)
LATE_AFTER = timedelta(minutes=5)
STALE_AFTER = timedelta(hours=12)


@dataclass(frozen=True)
class Rule:
    """Send ``kind`` to ``audience`` at ``offset`` from the task's start (or end)."""

    kind: str
    audience: str  # team | assignees | partners | coordinators
    offset: timedelta
    anchor: str = "start"


def rules_for(kind: str, joint: bool, spec: dict[str, Any] | None = None) -> list[Rule]:
    """The default policy, or the promise's ``reminders`` from the config in its place.

    The "was it done?" question and the coordinator's no-partner alert always apply.
    """
    ask = Rule("was_it_done", "assignees", timedelta(hours=12), "end")
    custom = (spec or {}).get("reminders")
    if custom:
        rules = [Rule(r["kind"], r["audience"], -timedelta(minutes=ReminderRule(**r).minutes))
                 for r in custom]
        if joint:
            rules.append(Rule("no_partner_3d", "coordinators", -timedelta(days=3)))
        return [*rules, ask]
    if kind == "risk_night":
        return [Rule("team_7d", "team", -timedelta(days=7)),
                Rule("partners_7d", "partners", -timedelta(days=7)),
                Rule("team_1d", "team", -timedelta(days=1)),
                Rule("partners_1d", "partners", -timedelta(days=1)), ask]
    rules = [Rule("team_7d", "team", -timedelta(days=7)),
             Rule("assignee_1d", "assignees", -timedelta(days=1)),
             Rule("assignee_2h", "assignees", -timedelta(hours=2)), ask]
    if joint:
        rules += [Rule("partner_invite", "partners", -timedelta(days=14)),
                  Rule("partner_2d", "partners", -timedelta(days=2)),
                  Rule("partner_3h", "partners", -timedelta(hours=3)),
                  Rule("no_partner_3d", "coordinators", -timedelta(days=3))]
    return rules


def new_row(subject: str, kind: str, due_at: datetime, *, member_id: int | None = None,
            chat_id: int | None = None, task_id: int | None = None,
            detail: dict[str, Any] | None = None) -> dict[str, Any]:
    """A pending reminder row for ``insert_ignoring_duplicates`` (every row the same keys)."""
    return {"subject": subject, "kind": kind, "recipient": recipient_key(member_id, chat_id),
            "task_id": task_id, "member_id": member_id, "chat_id": chat_id, "due_at": due_at,
            "state": ReminderState.PENDING, "attempts": 0, "late": False, "error": "",
            "detail": detail}


def recipients(session: Session, task: m.Task, audience: str) -> list[tuple[int | None,
                                                                                int | None]]:
    """(member_id, chat_id) pairs: a team's group chat, or the private chats of the members
    the policy says receive this audience's reminder about this task."""
    if audience == "team" and task.team and task.team.group_chat_id:
        return [(None, task.team.group_chat_id)]
    role = audience_role(audience)
    query = select(m.Member).where(m.Member.active.is_(True), m.Member.role == role)
    if role == Role.OFFICER:  # narrowed in SQL; the policy below still decides
        query = query.where(m.Member.team_id == task.team_id)
    about = facts(task)
    return [(member.id, None) for member in session.scalars(query)
            if receives_reminder(viewer(session, member), about, audience)]


def ensure_reminders(session: Session, now: datetime, horizon: timedelta = HORIZON) -> int:
    """Create the missing reminder rows for pending tasks near ``now``; returns how many.

    Rows already there are skipped in memory, and the insert itself ignores a row that
    another process made in the meantime (the unique index on subject, kind, recipient).
    """
    tasks = session.scalars(select(m.Task).where(
        m.Task.status == TaskStatus.PENDING, m.Task.start_at <= now + horizon,
        m.Task.end_at >= now - STALE_AFTER - timedelta(days=1)))
    existing: set[tuple[str, str, str]] = {
        (subject, kind, recipient) for subject, kind, recipient in session.execute(
            select(m.Reminder.subject, m.Reminder.kind, m.Reminder.recipient).join(m.Task).where(
                m.Task.status == TaskStatus.PENDING, m.Task.start_at <= now + horizon))}
    rows: list[dict[str, Any]] = []
    cache: dict[tuple[object, ...], list[tuple[int | None, int | None]]] = {}
    for task in tasks:
        for rule in rules_for(task.kind, task.joint, task.promise.spec):
            base = task.start_at if rule.anchor == "start" else task.end_at
            due = base + rule.offset
            if rule.anchor == "start" and (base <= now or due < task.updated_at - LATE_AFTER):
                continue  # the task has begun, or was planned or moved after this time
            if due < now - STALE_AFTER:
                continue  # stale: the weekly summary lists what is overdue instead
            # recipients depend on the audience and the task's team/municipality/roles only
            key_ = (rule.audience, task.team_id, task.promise.municipality_id,
                    tuple(task.invited or ()))
            if key_ not in cache:
                cache[key_] = recipients(session, task, rule.audience)
            for member_id, chat_id in cache[key_]:
                key = (task_subject(task.id), rule.kind, recipient_key(member_id, chat_id))
                if key in existing:
                    continue
                existing.add(key)
                rows.append(new_row(key[0], rule.kind, due, member_id=member_id,
                                    chat_id=chat_id, task_id=task.id))
    return insert_ignoring_duplicates(session, m.Reminder, rows)


def claim_due(session: Session, now: datetime, worker: str, limit: int = 500,
              stale: bool = False) -> list[int]:
    """Atomically claim up to ``limit`` due reminders for ``worker``; returns their ids.

    ``stale`` picks the task reminders more than STALE_AFTER overdue (for a digest)
    instead of the others. PostgreSQL: ``FOR UPDATE SKIP LOCKED`` so two processes
    never take the same row. SQLite: one ``UPDATE … RETURNING`` under its writer lock.
    """
    cutoff = now - STALE_AFTER
    due = and_(m.Reminder.due_at <= now, or_(
        m.Reminder.state == ReminderState.PENDING,
        and_(m.Reminder.state == ReminderState.CLAIMED, m.Reminder.claimed_at < now - LEASE)))
    if stale:
        due = and_(due, m.Reminder.task_id.is_not(None), m.Reminder.due_at < cutoff)
    else:
        due = and_(due, or_(m.Reminder.task_id.is_(None), m.Reminder.due_at >= cutoff))
    order = (m.Reminder.due_at, m.Reminder.id)
    claim = {"state": ReminderState.CLAIMED, "claimed_by": worker, "claimed_at": now,
             "attempts": m.Reminder.attempts + 1}
    if session.get_bind().dialect.name == "postgresql":
        ids = list(session.scalars(select(m.Reminder.id).where(due).order_by(*order)
                                   .limit(limit).with_for_update(skip_locked=True)))
        if ids:
            session.execute(update(m.Reminder).where(m.Reminder.id.in_(ids)).values(**claim))
        return ids
    inner = select(m.Reminder.id).where(due).order_by(*order).limit(limit).scalar_subquery()
    claimed = set(session.execute(update(m.Reminder).where(m.Reminder.id.in_(inner))
                                  .values(**claim).returning(m.Reminder.id)).scalars())
    # RETURNING gives no order: hand them back in due order, as on PostgreSQL
    return [r for r in session.scalars(select(m.Reminder.id).where(
        m.Reminder.id.in_(claimed)).order_by(*order))]


def mark_sent(session: Session, reminder_id: int, message_id: int | None, now: datetime) -> None:
    """Record a sent reminder with its message id; late if it went out after its time."""
    row = session.get(m.Reminder, reminder_id)
    if row is None:
        return
    row.state, row.sent_at, row.message_id = ReminderState.SENT, now, message_id
    row.late = now - row.due_at > LATE_AFTER


def mark_skipped(session: Session, reminder_ids: Iterable[int], why: str) -> None:
    """Close reminders that need no message (task done, partner already joined, stale)."""
    for rid in reminder_ids:
        row = session.get(m.Reminder, rid)
        if row is not None:
            row.state, row.error = ReminderState.SKIPPED, why


def mark_failed(session: Session, reminder_id: int, error: str, retry: bool) -> None:
    """A failed send: back to pending for the next tick, or failed for good."""
    row = session.get(m.Reminder, reminder_id)
    if row is None:
        return
    row.error = error[:500]
    if retry:
        row.state, row.claimed_at, row.claimed_by = ReminderState.PENDING, None, None
    else:
        row.state = ReminderState.FAILED


# built once per dialect with bind parameters: a multi-row VALUES statement is compiled anew
# each time, and the log is written after nearly every message the bot sends about a task
_LOG_SENT = {name: DriverStatement(
    dialect.insert(m.table_of(m.SentMessage)).on_conflict_do_nothing(),
    keys=("chat_id", "message_id", "kind", "task_id", "member_id", "sent_at"))
    for name, dialect in (("sqlite", sqlite), ("postgresql", postgresql))}


def log_sent(session: Session, chat_id: int, message_id: int, kind: MessageKind,
             task_id: int | None, member_id: int | None, now: datetime) -> None:
    """Remember a message the bot sent (a card, a prompt, a reminder) so replies can find it."""
    log_sent_many(session.connection(), [(chat_id, message_id, kind, task_id, member_id)], now)


def log_sent_many(connection: Connection,
                  messages: Sequence[tuple[int, int, MessageKind, int | None, int | None]],
                  now: datetime) -> None:
    """``log_sent`` for several (chat, message id, kind, task, member) in one executemany;
    a message already logged is left as it is."""
    _LOG_SENT[connection.dialect.name].run_many(connection, [
        {"chat_id": chat_id, "message_id": message_id, "kind": kind, "task_id": task_id,
         "member_id": member_id, "sent_at": now}
        for chat_id, message_id, kind, task_id, member_id in messages])


_REPLIED = select(m.SentMessage.task_id, m.SentMessage.kind).where(  # built once: every reply
    m.SentMessage.chat_id == bindparam("chat_id"),
    m.SentMessage.message_id == bindparam("message_id"))


def replied_task(session: Session, chat_id: int, message_id: int
                 ) -> tuple[int, MessageKind] | None:
    """(task id, message kind) of the bot's message with this id in this chat, if any.

    Message ids repeat across chats: the pair is the key (and the unique index).
    """
    row = session.execute(_REPLIED, {"chat_id": chat_id, "message_id": message_id}).first()
    return (row[0], row[1]) if row and row[0] is not None else None


_MEMBER_AND_REPLIED = select(m.Member, m.SentMessage.task_id, m.SentMessage.kind).outerjoin(
    m.SentMessage, and_(m.SentMessage.chat_id == bindparam("chat_id"),
                        m.SentMessage.message_id == bindparam("message_id"))).where(
    m.Member.telegram_id == bindparam("telegram_id"), m.Member.active.is_(True))


def member_and_replied(session: Session, telegram_id: int, chat_id: int, message_id: int
                       ) -> tuple[m.Member, tuple[int, MessageKind] | None] | None:
    """The active member with this Telegram id and what ``replied_task`` finds for their
    reply, in one statement (a reply needs both); None if there is no such member."""
    row = session.execute(_MEMBER_AND_REPLIED, {
        "telegram_id": telegram_id, "chat_id": chat_id, "message_id": message_id}).first()
    if row is None:
        return None
    member: m.Member = row[0]
    return member, ((row[1], row[2]) if row[1] is not None else None)


SUMMARY_KIND = "weekly_summary"


def ensure_summaries(session: Session, now: datetime, tz: ZoneInfo,
                     partner_summaries: frozenset[str] = frozenset()) -> int:
    """One summary row per chief and coordinator, and per partner in a municipality whose
    promise set has ``partner_summary`` (slugs in ``partner_summaries``), for the latest
    Monday. A summary that fell due while the bot was down is created once and goes out late.
    """
    from medlofte_bot.services.summary import last_monday_morning

    due = last_monday_morning(now, tz)
    subject = f"week:{due.date().isoformat()}"
    have = set(session.scalars(select(m.Reminder.member_id).where(
        m.Reminder.subject == subject, m.Reminder.kind == SUMMARY_KIND)))
    on = set(session.scalars(select(m.Municipality.id).where(
        m.Municipality.slug.in_(partner_summaries)))) if partner_summaries else set()
    rows = []
    # only roles the policy could give a summary are read: this runs on every tick
    roles = [r for r in Role if can_read_summary(Viewer(r))
             or (on and gets_partner_summary(Viewer(r), True))]
    for member in session.scalars(select(m.Member).where(m.Member.active.is_(True),
                                                         m.Member.role.in_(roles))):
        if member.id in have or member.created_at > due:
            continue
        who = viewer(session, member)
        if can_read_summary(who) or gets_partner_summary(who, member.municipality_id in on):
            rows.append(new_row(subject, SUMMARY_KIND, due, member_id=member.id))
    return insert_ignoring_duplicates(session, m.Reminder, rows)


def group_by_recipient(session: Session, reminder_ids: Iterable[int]
                       ) -> dict[str, list[m.Reminder]]:
    """Claimed reminders grouped per recipient key, in due order."""
    groups: dict[str, list[m.Reminder]] = {}
    for rid in reminder_ids:
        row = session.get(m.Reminder, rid)
        if row is not None:
            groups.setdefault(row.recipient, []).append(row)
    return groups


def mark_folded(rows: Iterable[m.Reminder], now: datetime) -> None:
    """Reminders that went out inside a digest."""
    for row in rows:
        row.state, row.sent_at, row.late, row.error = ReminderState.FOLDED, now, True, "stale"


def round_robin_by_chat(session: Session, reminder_ids: list[int]) -> list[tuple[int, str]]:
    """(id, recipient) one chat at a time in turn, so one chat's pacing never holds up the
    rest; each chat's rows keep their due order. The recipient key names the chat."""
    if not reminder_ids:
        return []
    chat_of = {rid: key for rid, key in session.execute(
        select(m.Reminder.id, m.Reminder.recipient).where(m.Reminder.id.in_(reminder_ids)))}
    queues: dict[str, list[int]] = {}
    for rid in reminder_ids:  # keep due order within each chat
        queues.setdefault(chat_of[rid], []).append(rid)
    out: list[tuple[int, str]] = []
    while queues:
        for chat in list(queues):
            out.append((queues[chat].pop(0), chat))
            if not queues[chat]:
                del queues[chat]
    return out
