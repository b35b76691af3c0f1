"""Use cases of the web view's pages: what each page shows the signed-in member, as plain
values. Every page is one read transaction through ``WebAccess.run`` (the session resolved
first), and every decision of who sees what is the policy's, as in chat.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from datetime import date, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import select
from sqlalchemy.orm import Session

from medlofte_bot.domain.errors import NotFound
from medlofte_bot.domain.plan import PlannedTask
from medlofte_bot.domain.policy import (
    can_see,
    may_reread_summary,
    report_shows_police_counts,
    sees_municipality,
    sees_task_details,
    web_report_version,
)
from medlofte_bot.domain.promise_set import PromiseSet
from medlofte_bot.domain.states import ReminderState
from medlofte_bot.services import tasks
from medlofte_bot.services.context import ServiceContext
from medlofte_bot.services.disclosure import facts
from medlofte_bot.services.members import viewer
from medlofte_bot.services.reminders import SUMMARY_KIND
from medlofte_bot.services.report import YearReport, _default_year, audited_time, year_report
from medlofte_bot.services.status import PromiseStatus, add_counts, promise_status, year_over
from medlofte_bot.services.tasks import TaskView
from medlofte_bot.services.web import WebAccess, WebMember, web_member
from medlofte_bot.storage import models as m
from medlofte_bot.storage.repository import as_planned


@dataclass(frozen=True)
class AreaPage:
    """Every promise the member may see, with its standing (the numbers of /status)."""

    member: WebMember
    now: datetime
    tz: ZoneInfo
    rows: tuple[PromiseStatus, ...]
    feed_made_at: datetime | None


@dataclass(frozen=True)
class MonthPage:
    """The tasks the member may see in one month (local time)."""

    member: WebMember
    first: date
    tz: ZoneInfo
    tasks: tuple[TaskView, ...]


@dataclass(frozen=True)
class HistoryEntry:
    """One thing that happened to a task: an audit entry, a reminder sent, an answer."""

    at: datetime
    action: str  # an audit action (done, moved, ...) or "reminder"
    who: str = ""  # the member who did it ("" when not shown or the system)
    before: datetime | None = None  # moved: from
    after: datetime | None = None  # moved: to
    text: str = ""  # a note or reason (police only)
    kind: str = ""  # reminder: its kind
    counters: tuple[tuple[str, int], ...] = ()


@dataclass(frozen=True)
class TaskPage:
    """One task with its history, as much of it as the member may read."""

    member: WebMember
    task: TaskView
    details: bool
    history: tuple[HistoryEntry, ...]
    done_by: str = ""
    done_at: datetime | None = None
    note: str = ""
    counters: tuple[tuple[str, int], ...] = ()
    joined: tuple[str, ...] = ()
    declined: tuple[str, ...] = ()


@dataclass(frozen=True)
class SentSummary:
    """A Monday summary as it was sent to this member."""

    sent_at: datetime
    text: str
    late: bool


@dataclass(frozen=True)
class SummariesPage:
    """The Monday summaries sent to the member, newest first."""

    member: WebMember
    tz: ZoneInfo
    summaries: tuple[SentSummary, ...]
    not_kept: int  # sent before their text was kept


@dataclass(frozen=True)
class ReportPage:
    """The year report in the version the policy gives the member."""

    member: WebMember
    year: int | None
    public: bool
    reports: tuple[YearReport, ...]
    police_counts_left_out: bool


@dataclass(frozen=True)
class Feed:
    """A member's calendar feed: the tasks they may see, with when each last changed."""

    title_year: int
    events: tuple[tuple[PromiseSet, PlannedTask, datetime | None], ...]
    lang: str


def _counts(values: dict[str, Any] | None) -> tuple[tuple[str, int], ...]:
    totals: dict[str, int] = {}
    add_counts(totals, values)
    return tuple(totals.items())


class WebPages:
    """The pages' use cases over the service context."""

    def __init__(self, ctx: ServiceContext, access: WebAccess) -> None:
        self.ctx = ctx
        self.access = access

    def area(self, token: str | None) -> AreaPage:
        """/webb/: each promise the member may see, as /status counts it."""
        def body(session: Session, member: m.Member) -> AreaPage:
            now = self.ctx.clock.now()
            rows = promise_status(session, self.ctx.sets, member, now)
            return AreaPage(web_member(session, member)[0], now, self.ctx.tz, tuple(rows),
                            self.access.feed_made_at(session, member))
        return self.access.run(token, body)

    def month(self, token: str | None, year: int, month: int) -> MonthPage:
        """/webb/kalender/Y/M: the month's tasks the member may see."""
        tz = self.ctx.tz
        try:
            first = date(year, month, 1)
            after = (first + timedelta(days=32)).replace(day=1)
        except (ValueError, OverflowError) as exc:  # month 13, year 0 or 9999's December
            raise NotFound("web.no_such_month") from exc

        def body(session: Session, member: m.Member) -> MonthPage:
            start = datetime(first.year, first.month, 1, tzinfo=tz)
            end = datetime(after.year, after.month, 1, tzinfo=tz)
            found = tasks.visible_tasks(session, member, start, end)
            return MonthPage(web_member(session, member)[0], first, tz, tuple(found))
        return self.access.run(token, body)

    def task(self, token: str | None, task_id: int) -> TaskPage:
        """/webb/uppdrag/N: one task the member may see (NotFound otherwise, the same as
        for a task that does not exist), with its history."""
        def body(session: Session, member: m.Member) -> TaskPage:
            row = tasks.get_visible(session, member, task_id)
            who = viewer(session, member)
            return _task_page(session, row, member, web_member(session, member)[0],
                              sees_task_details(who))
        return self.access.run(token, body)

    def summaries(self, token: str | None) -> SummariesPage:
        """/webb/sammanfattningar: the Monday summaries sent to the member, as sent."""
        def body(session: Session, member: m.Member) -> SummariesPage:
            who = viewer(session, member)
            rows = session.scalars(select(m.Reminder).where(
                m.Reminder.kind == SUMMARY_KIND, m.Reminder.member_id == member.id,
                m.Reminder.state == ReminderState.SENT).order_by(m.Reminder.sent_at.desc()))
            kept, not_kept = [], 0
            for row in rows:
                detail = row.detail or {}
                text = detail.get("text")
                if not isinstance(text, str):
                    not_kept += 1
                elif may_reread_summary(who, bool(detail.get("police", True))):
                    kept.append(SentSummary(row.sent_at or row.due_at, text, row.late))
            return SummariesPage(web_member(session, member)[0], self.ctx.tz, tuple(kept),
                                 not_kept)
        return self.access.run(token, body)

    def report(self, token: str | None, year: int | None = None) -> ReportPage:
        """/webb/arsrapport: the year report of the member's municipalities (leaders: their
        area), internal for chiefs and coordinators, public for everyone else; before the
        year is over the public version leaves police-only work out for non-police."""
        def body(session: Session, member: m.Member) -> ReportPage:
            who = viewer(session, member)
            now = self.ctx.clock.now()
            munis = {mu.slug: mu for mu in session.scalars(select(m.Municipality))}
            mine = {key: ps for key, ps in self.ctx.sets.items()
                    if key[0] in munis and sees_municipality(who, munis[key[0]].id)}
            chosen = year if year is not None else _default_year(
                (y for _, y in mine), now, self.ctx.tz)
            public = web_report_version(who) == "public"
            reports, left_out = [], False
            for (_, y), ps in sorted(mine.items()):
                found = year_report(session, ps, now) if y == chosen else None
                if found is None:
                    continue
                if public and not report_shows_police_counts(
                        who, year_over(ps.year, ps.tz, now)):
                    left_out = left_out or any(p.police_only for p in found.promises)
                    found = _without_police_only(found)
                reports.append(found)
            return ReportPage(web_member(session, member)[0], chosen, public, tuple(reports),
                              left_out)
        return self.access.run(token, body)

    def feed(self, feed_token: str) -> Feed | None:
        """The calendar feed behind a feed secret (None: revoked, unknown, or its member
        is no longer active): every task of the loaded years the member may see, cancelled
        ones marked so calendars drop them."""
        def work(session: Session) -> Feed | None:
            member = self.access.feed_member(session, feed_token)
            if member is None:
                return None
            who = viewer(session, member)
            by_slug = {(slug, year): ps for (slug, year), ps in self.ctx.sets.items()}
            rows = session.scalars(select(m.Task).join(m.Promise).where(
                m.Promise.year.in_({y for _, y in by_slug})).order_by(m.Task.start_at, m.Task.id))
            events = []
            for row in rows:
                ps = by_slug.get((row.promise.municipality.slug, row.promise.year))
                if ps is None or not can_see(who, facts(row)):
                    continue
                events.append((ps, as_planned(row, ps.tz), row.updated_at))
            year = self.ctx.clock.now().astimezone(self.ctx.tz).year
            return Feed(year, tuple(events), member.language)
        return self.ctx.db.run(work, write=False)


def _without_police_only(report: YearReport) -> YearReport:
    """The report without police-only promises, the counters summed again without them."""
    kept = tuple(p for p in report.promises if not p.police_only)
    totals: dict[str, int] = {}
    for p in kept:
        for t in p.tasks:
            add_counts(totals, t.counters)
    return replace(report, promises=kept, counters=totals)


def _names(session: Session, ids: set[int]) -> dict[int, str]:
    if not ids:
        return {}
    rows = session.execute(select(m.Member.id, m.Member.display_name).where(
        m.Member.id.in_(ids)))
    return {member_id: name for member_id, name in rows}


PARTNER_SEES = frozenset({"moved", "cancelled", "done", "missed", "police_only"})


def _task_page(session: Session, row: m.Task, member: m.Member, shown: WebMember,
               details: bool) -> TaskPage:
    """The task and its history: audit entries, reminders sent and partners' answers.
    Without ``details`` (a partner): the times and the state, and her own answers; no
    names of others, no notes or reasons, no reminders to others."""
    tz = tasks.task_tz(row)
    audits = list(session.scalars(select(m.AuditEntry).where(
        m.AuditEntry.entity == "task", m.AuditEntry.entity_id == str(row.id))
        .order_by(m.AuditEntry.at, m.AuditEntry.id)))
    sent = list(session.scalars(select(m.Reminder).where(
        m.Reminder.task_id == row.id, m.Reminder.state.in_(
            (ReminderState.SENT, ReminderState.FOLDED))).order_by(m.Reminder.sent_at)))
    answers = list(session.scalars(select(m.Participation).where(
        m.Participation.task_id == row.id).order_by(m.Participation.at, m.Participation.id)))
    done = session.scalar(select(m.Completion).where(m.Completion.task_id == row.id))
    ids = {int(a.actor.split(":")[1]) for a in audits
           if a.actor.startswith("member:") and a.actor.split(":")[1].isdigit()}
    ids |= {r.member_id for r in sent if r.member_id} | {p.member_id for p in answers}
    if done is not None and done.member_id:
        ids.add(done.member_id)
    names = _names(session, ids)
    own = f"member:{member.id}"
    history: list[HistoryEntry] = []
    for a in audits:
        mine = a.actor == own
        if not details and a.action not in PARTNER_SEES and not mine:
            continue
        before, after = a.before or {}, a.after or {}
        actor_id = a.actor.split(":")[1] if a.actor.startswith("member:") else ""
        who = names.get(int(actor_id), "") if actor_id.isdigit() and (details or mine) else ""
        text = ""
        if details:
            text = str(after.get("note") or after.get("reason") or "")
        history.append(HistoryEntry(
            a.at.astimezone(tz), a.action, who, audited_time(before.get("start"), tz),
            audited_time(after.get("start"), tz), text,
            counters=_counts(after.get("counters")) if details and a.action == "follow_up"
            else ()))
    for r in sent:
        if details or r.member_id == member.id:
            history.append(HistoryEntry((r.sent_at or r.due_at).astimezone(tz), "reminder",
                                        names.get(r.member_id or 0, "") if r.member_id
                                        else "", kind=r.kind))
    history.sort(key=lambda e: e.at)
    visible = [p for p in answers if details or p.member_id == member.id]
    page = TaskPage(shown, tasks.view(session, row), details, tuple(history),
                    joined=tuple(names.get(p.member_id, "?") for p in visible if p.joins),
                    declined=tuple(names.get(p.member_id, "?") for p in visible
                                   if not p.joins))
    if done is not None:
        page = replace(page, done_at=done.done_at.astimezone(tz),
                       done_by=names.get(done.member_id or 0, "") if details else "",
                       note=done.note if details else "", counters=_counts(done.counters))
    return page
