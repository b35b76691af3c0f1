"""Use case: the Monday summary for the chief: plain data, built from the database at ``now``."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime, time, timedelta
from zoneinfo import ZoneInfo

from sqlalchemy import select
from sqlalchemy.orm import Session

from medlofte_bot.domain.policy import is_police
from medlofte_bot.domain.promise_set import PromiseSet
from medlofte_bot.domain.states import Role, TaskStatus
from medlofte_bot.services.disclosure import CHAT, Disclosure
from medlofte_bot.services.members import area_of, viewer
from medlofte_bot.services.status import PromiseStatus, counter_totals, promise_status
from medlofte_bot.services.tasks import TaskView, view, visible_tasks
from medlofte_bot.storage import models as m

SUMMARY_AT = time(7, 0)
UNCONFIRMED_AFTER = timedelta(hours=12)


@dataclass(frozen=True)
class Completed:
    """A task done last week, with its note and who did it."""

    task: TaskView
    by: str
    note: str


@dataclass(frozen=True)
class Unconfirmed:
    """A task that ended without a confirmation, and whom to ask."""

    task: TaskView
    ask: tuple[str, ...]


@dataclass
class Summary:
    """Everything the Monday message says."""

    now: datetime
    tz: ZoneInfo
    police: bool
    promises: list[PromiseStatus]
    completed: list[Completed] = field(default_factory=list)
    upcoming: list[TaskView] = field(default_factory=list)
    unconfirmed: list[Unconfirmed] = field(default_factory=list)
    without_partner: list[TaskView] = field(default_factory=list)
    counters: dict[str, int] = field(default_factory=dict)


def next_monday_morning(now: datetime, tz: ZoneInfo) -> datetime:
    """The first Monday 07:00 local strictly after ``now``."""
    local = now.astimezone(tz)
    day = local.date() + timedelta(days=(7 - local.weekday()) % 7)
    moment = datetime.combine(day, SUMMARY_AT).replace(tzinfo=tz)
    return moment if moment > local else moment + timedelta(days=7)


def last_monday_morning(now: datetime, tz: ZoneInfo) -> datetime:
    """The latest Monday 07:00 local at or before ``now``."""
    return next_monday_morning(now, tz) - timedelta(days=7)


def build_summary(session: Session, sets: dict[tuple[str, int], PromiseSet], member: m.Member,
                  now: datetime, disclosure: Disclosure = CHAT) -> Summary:
    """The summary as ``member`` may see it. A partner's covers each promise set of hers
    whose ``partner_summary`` is on, and nothing police-only: no officer's name or note."""
    police = is_police(viewer(session, member))
    if not police:
        sets = {key: ps for key, ps in sets.items() if ps.partner_summary}
    promises = promise_status(session, sets, member, now)  # what the policy lets them see
    tz = next(iter(sets.values())).tz if sets else ZoneInfo("Europe/Stockholm")
    summary = Summary(now, tz, police, promises)
    week_ago = now - timedelta(days=7)
    recent = visible_tasks(session, member, week_ago - timedelta(days=1), now,
                           disclosure=disclosure)
    for task in recent:
        if task.status == TaskStatus.DONE:
            done = session.scalar(select(m.Completion).where(m.Completion.task_id == task.id))
            if done is not None and done.done_at >= week_ago:
                by = session.get(m.Member, done.member_id) if done.member_id else None
                summary.completed.append(Completed(
                    task, (by.display_name if by else "?") if police else "",
                    done.note if police else ""))
    summary.upcoming = [t for t in visible_tasks(session, member, now, now + timedelta(days=14),
                                                 disclosure=disclosure)
                        if t.status == TaskStatus.PENDING]
    if police:
        summary.unconfirmed = _unconfirmed(session, now, area_of(session, member), disclosure)
    summary.without_partner = [t for t in summary.upcoming if t.joint and not t.partners_joined]
    summary.counters = counter_totals(session, promises)
    return summary


def _unconfirmed(session: Session, now: datetime, area: frozenset[int] | None,
                 disclosure: Disclosure) -> list[Unconfirmed]:
    query = select(m.Task).where(
        m.Task.status.in_((TaskStatus.PENDING, TaskStatus.MISSED)),
        m.Task.end_at <= now - UNCONFIRMED_AFTER,
        m.Task.end_at >= now - timedelta(days=60))
    if area is not None:
        query = query.join(m.Promise).where(m.Promise.municipality_id.in_(area))
    rows = session.scalars(query.order_by(m.Task.start_at))
    out = []
    for row in rows:
        names = tuple(session.scalars(select(m.Member.display_name).where(
            m.Member.team_id == row.team_id, m.Member.role == Role.OFFICER,
            m.Member.active.is_(True)).order_by(m.Member.display_name)))
        out.append(Unconfirmed(view(session, row, disclosure), names))
    return out
