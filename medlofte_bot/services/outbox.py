"""The outbox: what the bot owes people (reminders, digests, Monday summaries, alerts), decided
here and recorded here; the chat layer only renders and sends what it is handed.

Each step is its own short transaction: ``prepare`` makes the rows that are due, ``claim``
takes some for this worker, ``compose`` turns one into a plain ``Outgoing`` (or closes it
when it is no longer needed), and ``record`` stores what Telegram answered.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from dataclasses import dataclass, replace
from datetime import datetime, timedelta
from typing import Any, Protocol

from sqlalchemy import select
from sqlalchemy.orm import Session

from medlofte_bot.domain.policy import (
    ChatFacts,
    can_see,
    gets_area_alert,
    is_coordinator,
    is_partner,
    may_show_in_chat,
    quiet_hours_for,
)
from medlofte_bot.domain.promise_set import TimeWindow, default_quiet_windows
from medlofte_bot.domain.quiet import NIGHT, held_until
from medlofte_bot.domain.states import MessageKind, ReminderState, Role, SendOutcome, TaskStatus
from medlofte_bot.domain.years import named, new_year_command, outdated
from medlofte_bot.services import notices, records, reminders, tasks
from medlofte_bot.services.context import ServiceContext
from medlofte_bot.services.disclosure import facts
from medlofte_bot.services.members import group_team, viewer
from medlofte_bot.services.summary import Summary, build_summary
from medlofte_bot.services.tasks import TaskView
from medlofte_bot.storage import models as m
from medlofte_bot.storage.database import insert_ignoring_duplicates

UNREACHABLE, UNREACHABLE_GROUP, DIGEST = "unreachable", "unreachable_group", "digest"
RECORDS_EVERY = timedelta(hours=1)
log = logging.getLogger(__name__)
NO_PROMISE_SET = "no_promise_set"  # no promise set covers today: told to coordinators once


@dataclass(frozen=True)
class Notice:
    """What a notice says beyond its task, as plain values."""

    before: datetime | None = None  # moved: from when (local time)
    result: tuple[tuple[str, str, Any], ...] = ()  # done: (group, key, value), counts only
    names: tuple[str, ...] = ()  # no partner yet: who declined
    replaced_by: tuple[TaskView, ...] = ()  # missed: what the re-plan added (that they see)
    replaced_elsewhere: int = 0  # missed: new tasks of another team (not named)
    target_holds: bool | None = None  # missed: None when no re-plan ran
    target: int = 0
    reachable: int = 0


@dataclass(frozen=True)
class Outgoing:
    """One message to send, as plain data: the chat layer picks the words and buttons."""

    reminder_ids: tuple[int, ...]
    chat_id: int
    lang: str
    kind: str  # a reminder kind, "weekly_summary", "digest", "unreachable", …
    buttons: str | None = None  # "task" (done/move/cancel), "join", "start" (a link to the bot)
    task: TaskView | None = None
    tasks: tuple[TaskView, ...] = ()
    summary: Summary | None = None
    late: bool = False
    name: str = ""  # whom an alert is about
    member_id: int | None = None
    year: tuple[str, str, str] | None = None  # no set in force: (year, sets loaded, command)
    notice: Notice | None = None


@dataclass(frozen=True)
class Delivery:
    """What came of one send."""

    outcome: SendOutcome
    message_id: int | None = None
    error: str = ""
    text: str = ""  # a summary's text as sent (kept for the web view); "" for the rest


class Sender(Protocol):
    """Sends an Outgoing and says what came of it (the chat layer implements this)."""

    async def send(self, message: Outgoing) -> Delivery:
        """Render, send, classify Telegram's answer."""
        ...


def _may_receive(session: Session, member: m.Member | None, chat_id: int, task: m.Task
                 ) -> bool:
    """Asked again as each message goes out (the policy): a member who may still see the
    task (or whose area's alert it is), or a group that is still the task's team group.
    Roles, teams, areas and groups change between the row's making and its sending."""
    about = facts(task)
    if member is not None:
        who = viewer(session, member)
        return can_see(who, about) or gets_area_alert(who, about.municipality_id)
    return may_show_in_chat(ChatFacts(False, group_team(session, chat_id)), about)


class Outbox:
    """The outbox's use cases over the service context."""

    def __init__(self, ctx: ServiceContext) -> None:
        self.ctx = ctx
        self._records_checked: datetime | None = None

    def prepare(self, now: datetime) -> None:
        """Mark missed tasks, and make the rows for reminders and Monday summaries."""
        with self.ctx.db.transaction() as session:
            tasks.mark_missed(session, self.ctx.sets, now)
            reminders.ensure_reminders(session, now)
            if self.ctx.sets:
                partners = frozenset(ps.slug for ps in self.ctx.sets.values()
                                     if ps.partner_summary)
                reminders.ensure_summaries(session, now, self.ctx.tz, partners)
            self._year_alerts(session, now)
        if self._records_checked is None or now - self._records_checked >= RECORDS_EVERY:
            self._records_checked = now
            self.clear_records(now)

    def clear_records(self, now: datetime) -> records.Cleared:
        """Clear what the retention rules say is due (notes, names), in its own transaction;
        the tick asks at most once an hour of clock time."""
        with self.ctx.db.transaction() as session:
            cleared = records.clear_due(session, self.ctx.sets, now, self.ctx.names_kept_months)
        if cleared.sets or cleared.names:
            log.info("records cleared: notes of %s (%d notes, %d reasons), %d names",
                     ", ".join(cleared.sets) or "-", cleared.notes, cleared.reasons,
                     cleared.names)
        return cleared

    def _year_alerts(self, session: Session, now: datetime) -> None:
        """When every promise set's year is over, one alert per coordinator and year."""
        if not outdated(self.ctx.sets.values(), now):
            return
        subject = f"year:{now.astimezone(self.ctx.tz).year}"
        rows = [reminders.new_row(subject, NO_PROMISE_SET, now, member_id=c.id)
                for c in session.scalars(select(m.Member).where(
                    m.Member.active.is_(True), m.Member.role == Role.COORDINATOR))
                if is_coordinator(viewer(session, c))]
        insert_ignoring_duplicates(session, m.Reminder, rows)

    def claim(self, now: datetime, batch: int = 500, stale: bool = False) -> list[int]:
        """Claim due rows for this worker, one chat at a time in turn."""
        return [rid for rid, _ in self.claim_by_chat(now, batch, stale)]

    def claim_by_chat(self, now: datetime, batch: int = 500, stale: bool = False
                      ) -> list[tuple[int, str]]:
        """Claim due rows; (id, recipient) one chat at a time in turn, each chat's in order."""
        with self.ctx.db.transaction() as session:
            ids = reminders.claim_due(session, now, self.ctx.worker, batch, stale=stale)
            return reminders.round_robin_by_chat(session, ids)

    def compose(self, reminder_id: int, now: datetime) -> Outgoing | None:
        """The message a claimed row owes, or None (the row is closed) if none is needed."""
        with self.ctx.db.transaction() as session:
            row = session.get(m.Reminder, reminder_id)
            if row is None or row.state != ReminderState.CLAIMED \
                    or row.claimed_by != self.ctx.worker:
                return None  # sent meanwhile, or taken over by another process
            # the lease runs from this send, not from the batch's claim: a batch can take
            # longer to send than a lease, and another process would take up its last rows
            row.claimed_at = now
            until = self._quiet_until(session, row, now)
            if until is not None:  # quiet hours: back in the queue until they end
                row.state, row.due_at, row.claimed_at, row.claimed_by = (
                    ReminderState.PENDING, until, None, None)
                return None
            message = self._compose(session, row, now)
            if message is None:
                reminders.mark_skipped(session, [row.id], "not needed")
            return message

    def _quiet_until(self, session: Session, row: m.Reminder, now: datetime
                     ) -> datetime | None:
        """When a row to a member in quiet hours should go instead (None: now). Reminders
        follow the role's quiet hours; a notice that can wait keeps out of the night too."""
        member = session.get(m.Member, row.member_id) if row.member_id else None
        if member is None or not member.active:
            return None
        window = quiet_hours_for(viewer(session, member), self._windows(session, member, now),
                                 NIGHT if row.kind in notices.CAN_WAIT else None)
        task = session.get(m.Task, row.task_id) if row.task_id else None
        start = task.start_at if task is not None and task.status == TaskStatus.PENDING \
            else None
        return held_until(now, window, self.ctx.tz, start)

    def _windows(self, session: Session, member: m.Member, now: datetime
                 ) -> dict[str, TimeWindow]:
        """The quiet hours of the member's municipality's promise set (this year's, or the
        latest loaded); the defaults for a member of no municipality."""
        muni = session.get(m.Municipality, member.municipality_id) \
            if member.municipality_id else None
        mine = {year: ps for (slug, year), ps in self.ctx.sets.items()
                if muni is not None and slug == muni.slug}
        if not mine:
            return default_quiet_windows()
        this_year = now.astimezone(self.ctx.tz).year
        return mine.get(this_year, mine[max(mine)]).quiet_windows()

    def _compose(self, session: Session, row: m.Reminder, now: datetime) -> Outgoing | None:
        member = session.get(m.Member, row.member_id) if row.member_id else None
        if member is not None and not member.active:
            return None
        chat_id = row.chat_id if row.chat_id is not None else (
            member.telegram_id if member else None)
        if chat_id is None:
            return None
        lang = member.language if member else "sv"
        late = now - row.due_at > reminders.LATE_AFTER
        base = Outgoing((row.id,), chat_id, lang, row.kind, late=late,
                        member_id=member.id if member else None)
        if row.kind == reminders.SUMMARY_KIND:
            if member is None:
                return None
            return replace(base, summary=build_summary(session, self.ctx.sets, member, now,
                                                       self.ctx.disclosure))
        if row.kind == NO_PROMISE_SET:
            if not outdated(self.ctx.sets.values(), now):
                return None  # a set for this year was loaded before it went out
            sets = self.ctx.sets.values()
            return replace(base, year=(str(now.astimezone(self.ctx.tz).year), named(sets),
                                       new_year_command(sets, now)))
        if row.kind in (UNREACHABLE, UNREACHABLE_GROUP):
            about = session.get(m.Member, m.subject_id(row.subject))
            if about is None or not about.unreachable:
                return None  # they came back before the alert went out
            if row.kind == UNREACHABLE_GROUP:
                return replace(base, lang=about.language, name=about.display_name,
                               buttons="start")
            return replace(base, name=about.display_name)
        if row.kind in notices.TO_PARTNERS or row.kind == notices.MISSED:
            return self._notice(session, row, member, base)
        return self._task_reminder(session, row, member, base)

    def _notice(self, session: Session, row: m.Reminder, member: m.Member | None,
                base: Outgoing) -> Outgoing | None:
        """A task moved, cancelled, done (to the partners who joined) or missed (to the team
        and coordinators): said only while it is still true and still theirs to hear."""
        task = session.get(m.Task, row.task_id) if row.task_id else None
        if task is None or not _may_receive(session, member, base.chat_id, task):
            return None
        if row.kind in notices.TO_PARTNERS and (member is None or member.id not in {
                p.id for p in notices.joined(session, task.id)}):
            return None  # she withdrew (or was never in)
        detail = row.detail or {}
        wanted = {notices.MOVED: TaskStatus.PENDING, notices.CANCELLED: TaskStatus.CANCELLED,
                  notices.THANKS: TaskStatus.DONE, notices.MISSED: TaskStatus.MISSED}
        if task.status != wanted[row.kind] and not (
                row.kind == notices.CANCELLED and not task.joint):  # run by police alone
            return None
        disclosure = self.ctx.disclosure
        view = tasks.view(session, task, disclosure)
        notice = Notice()
        if row.kind == notices.MOVED:
            if "before" not in detail:
                return None
            notice = Notice(before=datetime.fromisoformat(detail["before"]).astimezone(
                view.start.tzinfo))
        elif row.kind == notices.THANKS:
            notice = Notice(result=_result(session, task.id))
        elif row.kind == notices.MISSED:
            found = [t for i in detail.get("replaced_by", ())
                     if (t := session.get(m.Task, i)) is not None
                     and t.status != TaskStatus.CANCELLED]
            # a replacement another team took is named only to those who may see it
            shown = [t for t in found if _may_receive(session, member, base.chat_id, t)]
            notice = Notice(
                replaced_by=tuple(tasks.view(session, t, disclosure) for t in shown),
                replaced_elsewhere=len(found) - len(shown),
                target_holds=detail.get("holds"), target=int(detail.get("target", 0)),
                reachable=int(detail.get("reachable", 0)))
        # after a move she may say the new time does not suit her
        buttons = "join" if row.kind == notices.MOVED and task.joint else None
        return replace(base, task=view, notice=notice, buttons=buttons)

    def _task_reminder(self, session: Session, row: m.Reminder, member: m.Member | None,
                       base: Outgoing) -> Outgoing | None:
        task = session.get(m.Task, row.task_id) if row.task_id else None
        if task is None or task.status != TaskStatus.PENDING:
            return None
        if not _may_receive(session, member, base.chat_id, task):
            return None
        view = tasks.view(session, task, self.ctx.disclosure)
        if row.kind == notices.NO_PARTNER:
            if view.partners_joined or not task.joint:
                return None
            return replace(base, task=view, buttons="no_partner",
                           notice=Notice(names=tuple(notices.declined(session, task.id))))
        partner = member is not None and is_partner(viewer(session, member))
        if partner and member is not None:
            answer = session.scalar(select(m.Participation.joins).where(
                m.Participation.task_id == task.id, m.Participation.member_id == member.id))
            if answer is False and row.kind != notices.ASK_AGAIN:
                return None  # she said she cannot: no more reminders unless asked again
            if row.kind == notices.ASK_AGAIN and (answer is True or not task.joint):
                return None
            # a joint task asks "Jag deltar"; a night she is invited to asks "Jag kommer"
            buttons = "join" if task.joint else ("rsvp" if answer is None else None)
            return replace(base, task=view, buttons=buttons)
        return replace(base, task=view, buttons="task")

    def compose_digests(self, reminder_ids: Sequence[int]) -> list[Outgoing]:
        """One message per recipient for rows that went stale while the bot was down."""
        out: list[Outgoing] = []
        disclosure = self.ctx.disclosure
        with self.ctx.db.transaction() as session:
            for _, rows in reminders.group_by_recipient(session, reminder_ids).items():
                first = rows[0]
                member = session.get(m.Member, first.member_id) if first.member_id else None
                target = first.chat_id if first.chat_id is not None else (
                    member.telegram_id if member else None)
                found = [session.get(m.Task, r.task_id) for r in rows if r.task_id is not None]
                views = {v.id: v for v in (tasks.view(session, t, disclosure) for t in found
                                           if t and target is not None
                                           and _may_receive(session, member, target, t))
                         if v.status == TaskStatus.PENDING}
                if target is None or not views or (member is not None and not member.active):
                    reminders.mark_skipped(session, [r.id for r in rows], "not needed")
                    continue
                out.append(Outgoing(tuple(r.id for r in rows), target,
                                    member.language if member else "sv", DIGEST,
                                    tasks=tuple(views.values()), late=True,
                                    member_id=member.id if member else None))
        return out

    def record(self, message: Outgoing, delivery: Delivery, now: datetime) -> None:
        """Store what Telegram answered for ``message``."""
        with self.ctx.db.transaction() as session:
            ids = list(message.reminder_ids)
            if delivery.outcome == SendOutcome.SENT:
                self._sent(session, message, delivery, now)
            elif delivery.outcome == SendOutcome.RETRY:
                for rid in ids:
                    reminders.mark_failed(session, rid, delivery.error, retry=True)
            else:
                for rid in ids:
                    reminders.mark_failed(session, rid, delivery.error or delivery.outcome,
                                          retry=False)
                if delivery.outcome == SendOutcome.BLOCKED and message.member_id is not None:
                    self._unreachable(session, message.member_id, now)

    @staticmethod
    def _sent(session: Session, message: Outgoing, delivery: Delivery, now: datetime) -> None:
        if message.kind == DIGEST:
            reminders.mark_folded([r for rid in message.reminder_ids
                                            if (r := session.get(m.Reminder, rid))], now)
            return
        for rid in message.reminder_ids:
            reminders.mark_sent(session, rid, delivery.message_id, now)
        if message.summary is not None and delivery.text:
            # the summary as it was read, for the web view: the text, and whether it was a
            # police summary (policy.may_reread_summary asks when it is read again)
            for rid in message.reminder_ids:
                row = session.get(m.Reminder, rid)
                if row is not None:
                    row.detail = {"text": delivery.text, "police": message.summary.police}
        told = message.kind in notices.TO_PARTNERS or message.kind == notices.MISSED
        if delivery.message_id is not None and (message.task or message.summary) and not told:
            kind = MessageKind.REMINDER if message.task else MessageKind.SUMMARY
            reminders.log_sent(session, message.chat_id, delivery.message_id, kind,
                               message.task.id if message.task else None, message.member_id,
                               now)

    @staticmethod
    def _unreachable(session: Session, member_id: int, now: datetime) -> None:
        """Flag the member once; owe the coordinators an alert and the team group a button."""
        member = session.get(m.Member, member_id)
        if member is None or member.unreachable:
            return
        member.unreachable = True
        subject = m.member_subject(member.id)
        rows = [reminders.new_row(subject, UNREACHABLE, now, member_id=c.id)
                for c in session.scalars(select(m.Member).where(m.Member.active.is_(True)))
                if gets_area_alert(viewer(session, c), member.municipality_id)]
        team = member.team
        if team is not None and team.group_chat_id:
            rows.append(reminders.new_row(subject, UNREACHABLE_GROUP, now,
                                          chat_id=team.group_chat_id))
        insert_ignoring_duplicates(session, m.Reminder, rows)


def _result(session: Session, task_id: int) -> tuple[tuple[str, str, Any], ...]:
    """A done task's counts for a partner's thanks: the counters and the counted fields,
    never the free-text note (it may say more than a partner should read)."""
    done = session.scalar(select(m.Completion).where(m.Completion.task_id == task_id))
    if done is None:
        return ()
    out: list[tuple[str, str, Any]] = [("counter", k, v) for k, v in (done.counters or {}).items()]
    out += [("field", k, v) for k, v in (done.fields or {}).items()
            if isinstance(v, int) and not isinstance(v, bool)]
    return tuple(out)
