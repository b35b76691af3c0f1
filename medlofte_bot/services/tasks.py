"""Use cases on tasks: what a member may see, done, move, cancel, join. Plain data out."""

from __future__ import annotations

from dataclasses import dataclass, fields, replace
from datetime import datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import Connection, and_, bindparam, delete, select, update
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.orm import Session
from sqlalchemy.orm.attributes import set_committed_value

from medlofte_bot.domain.errors import NotAllowed, NotFound, UserError, Words
from medlofte_bot.domain.parsing import first_number, parse_counters, vehicle_word
from medlofte_bot.domain.policy import (
    Action,
    ChatFacts,
    TaskFacts,
    Viewer,
    can_act,
    can_see,
    can_steer_joint,
    has_area,
    is_partner,
    may_show_in_chat,
    team_only,
)
from medlofte_bot.domain.promise_set import PromiseSet
from medlofte_bot.domain.states import MessageKind, ReminderState, TaskStatus
from medlofte_bot.planning.windows import allowed_hours, fits
from medlofte_bot.services import notices
from medlofte_bot.services.disclosure import CHAT, Disclosure, facts
from medlofte_bot.services.members import viewer
from medlofte_bot.services.plans import TopUp, top_up
from medlofte_bot.services.views import MemberView, member_value
from medlofte_bot.storage import models as m
from medlofte_bot.storage.driver import DriverStatement
from medlofte_bot.storage.repository import (
    PlanRepository,
    as_planned,
    task_fields,
    write_audit,
)

NOTE_MAX = 500
EARLY_CONFIRM = timedelta(hours=12)  # a confirmation earlier than this before the start asks
Sets = dict[tuple[str, int], PromiseSet]


@dataclass(frozen=True)
class TaskView:
    """A task as a member may see it, in local time."""

    id: int
    key: str
    promise: str
    title: str
    kind: str
    start: datetime
    end: datetime
    team: str
    joint: bool
    vehicle: str | None
    label: str
    status: str
    visibility: str
    partners_joined: int
    follow_up: tuple[str, ...]
    counters: tuple[str, ...]
    team_id: int | None = None
    municipality: str = ""
    sealed: bool = False  # chat may say only its number, that it is due or done, and the link
    page: str | None = None  # its page in the web view (None: no web view is set up)


@dataclass(frozen=True)
class Done:
    """The answer to a confirmation: recorded now, or already by someone else."""

    task: TaskView
    already: bool
    by: str
    at: datetime
    early: bool = False  # not stored: the task starts much later; ask "already done?" first


@dataclass(frozen=True)
class Replanned:
    """The answer to a move or cancel: the task, and whether the promise's target holds."""

    task: TaskView
    target_holds: bool
    target: int
    reachable: int
    added: int
    added_ids: tuple[int, ...] = ()


def task_tz(row: m.Task) -> ZoneInfo:
    """The time zone a task is said in: its municipality's."""
    return ZoneInfo(row.promise.municipality.timezone)


def view(session: Session, row: m.Task, disclosure: Disclosure = CHAT) -> TaskView:
    """A task row as a view; sealed when the policy keeps its details off chat."""
    joined = len(session.scalars(select(m.Participation.id).where(
        m.Participation.task_id == row.id, m.Participation.joins.is_(True))).all()) \
        if row.joint else 0
    promise, muni = row.promise, row.promise.municipality
    return view_of(TaskRow(
        row.id, row.key, row.kind, row.start_at, row.end_at, row.team_id, row.joint,
        row.vehicle, row.label, row.status, row.visibility, row.invited, promise.key,
        promise.title, promise.spec, promise.year, promise.municipality_id, muni.name, muni.slug,
        muni.timezone, row.team.name if row.team else None), joined, disclosure)


@dataclass(frozen=True)
class TaskRow:
    """A task's columns with its promise's, municipality's and team's that a view needs:
    read as plain values, with no ORM row (``QUICK_CONFIRM``), or from a row (``view``)."""

    id: int
    key: str
    kind: str
    start_at: datetime
    end_at: datetime
    team_id: int | None
    joint: bool
    vehicle: str | None
    label: str
    status: str
    visibility: str
    invited: list[str] | None
    promise_key: str
    title: str
    spec: dict[str, Any] | None
    year: int
    municipality_id: int
    municipality: str
    slug: str
    timezone: str
    team: str | None

    def facts(self) -> TaskFacts:
        """The access-rule view of the task (as ``disclosure.facts`` of a row)."""
        return TaskFacts(self.kind, self.visibility, self.team_id, self.municipality_id,
                         tuple(self.invited or ()), self.status)


def view_of(row: TaskRow, joined: int, disclosure: Disclosure = CHAT) -> TaskView:
    """A task's values as a view, in its municipality's time; sealed when the policy keeps
    its details off chat. ``joined``: partners who said they join."""
    tz = ZoneInfo(row.timezone)
    spec = row.spec or {}
    return TaskView(
        row.id, row.key, row.promise_key, row.title, row.kind, row.start_at.astimezone(tz),
        row.end_at.astimezone(tz), row.team or "", row.joint, row.vehicle, row.label,
        row.status, row.visibility, joined, tuple(spec.get("follow_up", ())),
        tuple(spec.get("counters", ())), row.team_id, row.municipality,
        disclosure.sealed_facts(row.facts(), row.slug, row.year), disclosure.page(row.id))


def get_visible(session: Session, member: m.Member, task_id: int) -> m.Task:
    """The task if the member may see it; otherwise NotFound, never a hint that it exists."""
    row = session.get(m.Task, task_id)
    if row is None or not can_see(viewer(session, member), facts(row)):
        raise NotFound("task_unknown", id=task_id)
    return row


def visible_tasks(session: Session, member: m.Member, start: datetime, end: datetime,
                  mine_only: bool = False, chat: ChatFacts | None = None,
                  disclosure: Disclosure = CHAT) -> list[TaskView]:
    """Pending or done tasks starting in [start, end) that the member may see (and, asked in
    a team's group, that may be shown there)."""
    who = viewer(session, member)
    query = select(m.Task).where(
        m.Task.start_at >= start, m.Task.start_at < end, m.Task.status != TaskStatus.CANCELLED)
    if who.area is not None:  # narrow in SQL; can_see below still decides
        query = query.join(m.Promise).where(m.Promise.municipality_id.in_(who.area))
    elif (team := team_only(who)) is not None:
        query = query.where(m.Task.team_id == team)
    rows = session.scalars(query.order_by(m.Task.start_at, m.Task.id))
    out = []
    for row in rows:
        if not can_see(who, facts(row)) or (chat and not may_show_in_chat(chat, facts(row))):
            continue
        if mine_only and is_partner(who) and row.visibility != "public":
            answered = session.scalar(select(m.Participation.joins).where(
                m.Participation.task_id == row.id, m.Participation.member_id == member.id))
            if answered is False:
                continue
        out.append(view(session, row, disclosure))
    return out


def acting(session: Session, member: m.Member, task_id: int) -> m.Task:
    """The task if the member may see it and act on it (police)."""
    row = get_visible(session, member, task_id)
    if not can_act(viewer(session, member), facts(row)):
        raise NotAllowed("not_police")
    return row


# ON CONFLICT (task_id) DO NOTHING: two processes confirming one task at the same moment both
# find it pending; the second insert waits for the first to commit, then inserts nothing
_INSERT_COMPLETION = {
    name: DriverStatement(dialect.insert(m.table_of(m.Completion)).on_conflict_do_nothing(
        index_elements=["task_id"]), keys=(
            "task_id", "member_id", "done_at", "note", "counters", "fields"))
    for name, dialect in (("sqlite", sqlite), ("postgresql", postgresql))}
_MARK_DONE = DriverStatement(update(m.table_of(m.Task)).where(
    m.table_of(m.Task).c.id == bindparam("task")).values(
    status=TaskStatus.DONE, updated_at=bindparam("at")))


def mark_done(session: Session, member: m.Member, task_id: int, now: datetime,
              note: str = "", early_ok: bool = False, disclosure: Disclosure = CHAT) -> Done:
    """Record the task as done by ``member``; a second confirmation counts nothing twice.

    A task that starts more than EARLY_CONFIRM from now is not recorded unless
    ``early_ok`` (the member said "yes, done now"): one stray tap must not count it.
    """
    row = acting(session, member, task_id)
    # only a done task can have a completion: skip the look-up on the common path
    before = _done_before(session, row, disclosure) if row.status == TaskStatus.DONE \
        else None
    if before is not None:
        return before
    if row.status == TaskStatus.CANCELLED:
        raise UserError("task_cancelled", id=row.id)
    if not early_ok and row.start_at - now > EARLY_CONFIRM:
        return Done(view(session, row, disclosure), False, member.display_name, now,
                    early=True)
    if not _record_done(session.connection(), row.id, member.id, now, note):
        # confirmed by someone else a moment ago, in another process
        before = _done_before(session, row, disclosure)
        assert before is not None, "the insert met this task's completion"
        return before
    set_committed_value(row, "status", TaskStatus.DONE)
    set_committed_value(row, "updated_at", now)
    if row.invited:  # partners who joined are thanked, with the result once it is answered
        notices.tell_joined(session, row, notices.THANKS, now, due=now + notices.THANKS_AFTER)
    return Done(view(session, row, disclosure), False, member.display_name, now)


def _record_done(connection: Connection, task_id: int, member_id: int, now: datetime,
                 note: str) -> bool:
    """Store a pending task's completion by ``member_id``: the completion, the task's status
    and the audit entry, in statements built once and run on the driver (storage.driver:
    this runs on every confirmation). False, with nothing written, when another
    confirmation came first."""
    if not _INSERT_COMPLETION[connection.dialect.name].run(connection, {
            "task_id": task_id, "member_id": member_id, "done_at": now,
            "note": note[:NOTE_MAX], "counters": {}, "fields": {}}):
        return False
    _MARK_DONE.run(connection, {"task": task_id, "at": now})
    write_audit(connection, now, f"member:{member_id}", "done", "task", task_id,
                {"status": "pending"}, {"status": "done", "note": note[:80]})
    return True


_TEAM = m.table_of(m.Team).alias("task_team")
# every column a plain "klar" in reply to a task's message needs
QUICK_CONFIRM = DriverStatement(select(
    m.Member.id.label("member_id"), m.Member.display_name, m.Member.role,
    m.Member.team_id.label("member_team_id"),
    m.Member.municipality_id.label("member_municipality_id"), m.Member.partner_role,
    m.Member.language, m.Member.active, m.SentMessage.kind.label("message_kind"),
    m.Task.id, m.Task.key, m.Task.kind, m.Task.start_at, m.Task.end_at, m.Task.team_id,
    m.Task.joint, m.Task.vehicle, m.Task.label, m.Task.status, m.Task.visibility,
    m.Task.invited, m.Promise.key.label("promise_key"), m.Promise.title, m.Promise.spec,
    m.Promise.year, m.Promise.municipality_id, m.Municipality.name.label("municipality"),
    m.Municipality.slug, m.Municipality.timezone, _TEAM.c.name.label("team"),
).select_from(m.Member).join(m.SentMessage, and_(
    m.SentMessage.chat_id == bindparam("chat_id"),
    m.SentMessage.message_id == bindparam("message_id"))).join(
    m.Task, m.Task.id == m.SentMessage.task_id).join(
    m.Promise, m.Promise.id == m.Task.promise_id).join(
    m.Municipality, m.Municipality.id == m.Promise.municipality_id).outerjoin(
    _TEAM, _TEAM.c.id == m.Task.team_id).where(
    m.Member.telegram_id == bindparam("telegram_id"), m.Member.active.is_(True)))
_TASK_ROW_FIELDS = tuple(f.name for f in fields(TaskRow))
_PROMPTS = frozenset({MessageKind.PROMPT_CANCEL, MessageKind.PROMPT_MOVE,
                      MessageKind.PROMPT_FOLLOW_UP})


def quick_confirm(connection: Connection, telegram_id: int, chat_id: int, message_id: int,
                  now: datetime, disclosure: Disclosure = CHAT) -> tuple[MemberView, Done] | None:
    """A plain done-word in reply to one of the bot's messages about a task, on the common
    path, without the ORM or a session: one SELECT (member, message and task), then
    ``_record_done``.

    The common path: an active member who is not a leader (their area needs a query), a
    message that is no prompt, a pending task that is not joint and has no partners to
    thank, not far ahead, which the policy lets the member see and act on. For anything
    else nothing is written and None is returned: ``mark_done`` answers it, errors included.
    """
    found = QUICK_CONFIRM.first(connection, {
        "telegram_id": telegram_id, "chat_id": chat_id, "message_id": message_id})
    if found is None or found["message_kind"] in _PROMPTS or has_area(found["role"]):
        return None
    row = TaskRow(*(found[name] for name in _TASK_ROW_FIELDS))
    who = Viewer(found["role"], found["member_team_id"], found["member_municipality_id"],
                 found["partner_role"], None, found["active"])
    task = row.facts()
    if (row.status != TaskStatus.PENDING or row.joint or row.invited
            or row.start_at - now > EARLY_CONFIRM
            or not (can_see(who, task) and can_act(who, task))):
        return None
    if not _record_done(connection, row.id, found["member_id"], now, ""):
        return None  # confirmed a moment ago in another process: mark_done says by whom
    member = member_value(found["member_id"], telegram_id, found["display_name"],
                          found["role"], found["language"], found["active"])
    done = replace(row, status=TaskStatus.DONE)
    return member, Done(view_of(done, 0, disclosure), False, member.name, now)


def _done_before(session: Session, row: m.Task, disclosure: Disclosure) -> Done | None:
    """A second confirmation: who confirmed the task first, and when (None: no completion)."""
    existing = session.scalar(select(m.Completion).where(m.Completion.task_id == row.id))
    if existing is None:
        return None
    set_committed_value(row, "status", TaskStatus.DONE)
    by = session.get(m.Member, existing.member_id) if existing.member_id else None
    return Done(view(session, row, disclosure), True, by.display_name if by else "?",
                existing.done_at)


def record_follow_up(session: Session, member: m.Member, task_id: int, now: datetime, *,
                     counters: dict[str, int] | None = None,
                     fields: dict[str, Any] | None = None, note: str | None = None) -> None:
    """Add the follow-up's counts, fields or note to a task's completion."""
    row = acting(session, member, task_id)
    completion = session.scalar(select(m.Completion).where(m.Completion.task_id == row.id))
    if completion is None:
        raise UserError("task_not_done", id=row.id)
    before = {"counters": completion.counters, "fields": completion.fields,
              "note": completion.note}
    if counters:
        completion.counters = {**(completion.counters or {}), **counters}
    if fields:
        completion.fields = {**(completion.fields or {}), **fields}
    if note is not None:
        completion.note = note[:NOTE_MAX]
    PlanRepository(session).audit(now, f"member:{member.id}", "follow_up", "task", row.id,
                                  before, {"counters": completion.counters,
                                           "fields": completion.fields, "note": completion.note})
    if fields and fields.get("vehicle"):
        _continue_vehicles(session, row, str(fields["vehicle"]), now, f"member:{member.id}")


def _continue_vehicles(session: Session, row: m.Task, used: str, now: datetime,
                       actor: str) -> None:
    """The cars alternate from the one actually used: the promise's later pending tasks
    take the next car in turn after ``used`` (each change audited)."""
    vehicles = list((row.promise.spec or {}).get("vehicles") or ())
    if used not in vehicles or len(vehicles) < 2:
        return
    later = session.scalars(select(m.Task).where(
        m.Task.promise_id == row.promise_id, m.Task.status == TaskStatus.PENDING,
        m.Task.start_at > max(row.start_at, now)).order_by(m.Task.start_at, m.Task.id))
    repo, previous = PlanRepository(session), used
    for task in later:
        wanted = vehicles[(vehicles.index(previous) + 1) % len(vehicles)]
        if task.vehicle != wanted:
            repo.audit(now, actor, "vehicle_changed", "task", task.id,
                       {"vehicle": task.vehicle}, {"vehicle": wanted, "after_task": row.id})
            task.vehicle, task.updated_at = wanted, now
        previous = wanted


def _top_up(session: Session, sets: Sets, row: m.Task, now: datetime, actor: str) -> TopUp:
    muni = row.promise.municipality
    ps = sets[(muni.slug, row.promise.year)]
    repo = PlanRepository(session)
    teams = repo.teams(muni, ps)
    promises = {p.key: p for p in session.scalars(select(m.Promise).where(
        m.Promise.municipality_id == muni.id, m.Promise.year == ps.year))}
    return top_up(session, ps, muni, promises, teams, now, actor)


def _replanned(session: Session, row: m.Task, result: TopUp, disclosure: Disclosure
               ) -> Replanned:
    """What a re-plan means for ``row``'s promise: the tasks it added, whether the target
    holds."""
    short = next((s for s in result.shortfalls if s.promise == row.promise.key), None)
    target = row.promise.target or 0
    keys = [t.key for t in result.added if t.promise == row.promise.key]
    ids = tuple(session.scalars(select(m.Task.id).where(
        m.Task.promise_id == row.promise_id, m.Task.key.in_(keys)).order_by(
        m.Task.start_at, m.Task.id))) if keys else ()
    reachable = short.reachable if short else target
    return Replanned(view(session, row, disclosure), short is None, target, reachable,
                     len(keys), ids)


def _replan(session: Session, sets: Sets, row: m.Task, now: datetime, actor: str,
            disclosure: Disclosure) -> Replanned:
    return _replanned(session, row, _top_up(session, sets, row, now, actor), disclosure)


def move(session: Session, sets: Sets, member: m.Member, task_id: int, start: datetime,
         now: datetime, disclosure: Disclosure = CHAT) -> Replanned:
    """Move a pending task to ``start`` if it fits the promise's days and hours."""
    row = acting(session, member, task_id)
    if row.status != TaskStatus.PENDING:
        raise UserError("task_not_pending", id=row.id)
    if row.kind == "risk_night":
        raise UserError("move_risk_night", id=row.id, title=row.promise.title)
    muni = row.promise.municipality
    ps = sets[(muni.slug, row.promise.year)]
    tz = ZoneInfo(ps.timezone)
    try:
        local = start.astimezone(tz)
    except OverflowError:  # an instant at the very end of the calendar: year 10000 here
        local = datetime.max.replace(tzinfo=tz)
    if local.year != row.promise.year:
        raise UserError("move_outside_year", when=local.strftime("%Y-%m-%d %H:%M"),
                        year=row.promise.year)
    if start <= now:
        raise UserError("move_in_past")
    promise = ps.promise(row.promise.key)
    minutes = int((row.end_at - row.start_at).total_seconds() // 60)
    problems = fits(ps, promise, local, minutes)
    if problems:
        if disclosure.sealed(row):  # the promise's days and hours would say its kind
            raise UserError("move_outside_window_sealed", id=row.id)
        raise UserError("move_outside_window", problems=",".join(problems),
                        hours=Words("hours", tuple(allowed_hours(ps, promise))),
                        weekdays=Words("weekdays", tuple(promise.weekdays)))
    end = start + timedelta(minutes=minutes)
    if row.team_id is not None and (clash := _team_clash(session, row, start, end)):
        if disclosure.sealed(clash):  # the other task's details stay off chat too
            raise UserError("move_team_busy_sealed", team=row.team.name if row.team else "",
                            id=clash.id)
        raise UserError("move_team_busy", team=row.team.name if row.team else "",
                        title=clash.promise.title, municipality=clash.promise.municipality.name,
                        when=Words("when", (clash.start_at.astimezone(tz).isoformat(),)))
    before = task_fields(as_planned(row, tz))
    was = row.start_at
    row.start_at, row.end_at = start, end
    row.moved, row.updated_at = True, now
    session.execute(delete(m.Reminder).where(
        m.Reminder.task_id == row.id, m.Reminder.state == ReminderState.PENDING))
    notices.tell_joined(session, row, notices.MOVED, now, {"before": was.isoformat()})
    PlanRepository(session).audit(now, f"member:{member.id}", "moved", "task", row.id, before,
                                  task_fields(as_planned(row, tz)))
    session.flush()
    return _replan(session, sets, row, now, f"member:{member.id}", disclosure)


def _team_clash(session: Session, row: m.Task, start: datetime, end: datetime
                ) -> m.Task | None:
    """Another task the same team has between ``start`` and ``end`` (in any municipality
    of the area: a team is the area's), if one."""
    return session.scalars(select(m.Task).where(
        m.Task.team_id == row.team_id, m.Task.id != row.id,
        m.Task.status != TaskStatus.CANCELLED,
        m.Task.start_at < end, m.Task.end_at > start).limit(1)).first()


def cancel(session: Session, sets: Sets, member: m.Member, task_id: int, reason: str,
           now: datetime, disclosure: Disclosure = CHAT) -> Replanned:
    """Cancel a pending task with a reason, then re-plan the rest of the year."""
    row = acting(session, member, task_id)
    if row.status != TaskStatus.PENDING:
        raise UserError("task_not_pending", id=row.id)
    row.status, row.reason, row.updated_at = TaskStatus.CANCELLED, reason[:NOTE_MAX], now
    session.execute(delete(m.Reminder).where(
        m.Reminder.task_id == row.id, m.Reminder.state == ReminderState.PENDING))
    notices.tell_joined(session, row, notices.CANCELLED, now)
    PlanRepository(session).audit(now, f"member:{member.id}", "cancelled", "task", row.id,
                                  {"status": "pending"}, {"status": "cancelled",
                                                          "reason": reason[:NOTE_MAX]})
    session.flush()
    return _replan(session, sets, row, now, f"member:{member.id}", disclosure)


def answer_invitation(session: Session, member: m.Member, task_id: int, joins: bool,
                      now: datetime) -> TaskView:
    """A partner joins ("Jag deltar") or declines ("Kan inte") a joint task."""
    row = get_visible(session, member, task_id)
    if not can_act(viewer(session, member), facts(row), Action.JOIN):
        raise NotAllowed("not_partner")
    answer = session.scalar(select(m.Participation).where(
        m.Participation.task_id == row.id, m.Participation.member_id == member.id))
    before = {"joins": answer.joins} if answer else None
    if answer is None:
        answer = m.Participation(task_id=row.id, member_id=member.id, joins=joins, at=now)
        session.add(answer)
    answer.joins, answer.at = joins, now
    PlanRepository(session).audit(now, f"member:{member.id}", "joined" if joins else "declined",
                                  "task", row.id, before, {"joins": joins})
    session.flush()
    return view(session, row)


MISSED_AFTER = notices.MISSED_AFTER
TOLD_WITHIN = timedelta(hours=12)  # as for reminders: older news is not sent late on its own


def mark_missed(session: Session, sets: Sets, now: datetime) -> int:
    """Tasks unconfirmed a week after their end count as missed; the rest of the year is
    re-planned so the target still holds where it can. Returns how many were marked."""
    rows = list(session.scalars(select(m.Task).where(
        m.Task.status == TaskStatus.PENDING, m.Task.end_at < now - MISSED_AFTER)))
    for row in rows:
        row.status, row.updated_at = TaskStatus.MISSED, now
        PlanRepository(session).audit(now, "system", "missed", "task", row.id,
                                      {"status": "pending"}, {"status": "missed"})
    by_set: dict[tuple[int, int], list[m.Task]] = {}
    for row in rows:
        by_set.setdefault((row.promise.municipality_id, row.promise.year), []).append(row)
    session.flush()
    for missed in by_set.values():
        first = missed[0]
        muni = first.promise.municipality
        result = _top_up(session, sets, first, now, "system") \
            if (muni.slug, first.promise.year) in sets else None
        _tell_missed(session, missed, result, now)
    return len(rows)


def _tell_missed(session: Session, missed: list[m.Task], result: TopUp | None,
                 now: datetime) -> None:
    """Each missed task told to its team and the coordinators, with what the re-plan did:
    the tasks it added for that promise are shared out in time order (the last missed task
    of a promise names any left over)."""
    by_promise: dict[int, list[m.Task]] = {}
    # a task that turned missed long ago (the bot was down, or just started) is not news:
    # the weekly summary lists it; the re-plan still ran
    fresh = [r for r in missed if r.end_at + MISSED_AFTER >= now - TOLD_WITHIN]
    for row in sorted(fresh, key=lambda r: (r.start_at, r.id)):
        by_promise.setdefault(row.promise_id, []).append(row)
    for rows in by_promise.values():
        if result is None:
            for row in rows:
                notices.tell_missed(session, row, now, [], True, row.promise.target or 0,
                                    row.promise.target or 0)
            continue
        plan = _replanned(session, rows[0], result, CHAT)  # only the ids and counts are used
        added = list(plan.added_ids)
        for n, row in enumerate(rows):
            mine = added[n:n + 1] if n < len(rows) - 1 else added[n:]
            notices.tell_missed(session, row, now, mine, plan.target_holds, plan.target,
                                plan.reachable)


def police_only(session: Session, member: m.Member, task_id: int, now: datetime) -> TaskView:
    """A joint task with no partner is run by the police alone: it stays, counts to the
    promise but not to the joint sub-target; the partners' reminders are withdrawn."""
    row = get_visible(session, member, task_id)
    if not can_steer_joint(viewer(session, member), facts(row)):
        raise NotAllowed("not_leader")
    if row.status != TaskStatus.PENDING:
        raise UserError("task_not_pending", id=row.id)
    if not row.joint:
        raise UserError("already_police_only", id=row.id)
    row.joint, row.updated_at = False, now
    partners = [p.id for p in notices.joined(session, row.id)]
    session.execute(delete(m.Reminder).where(
        m.Reminder.task_id == row.id, m.Reminder.state == ReminderState.PENDING,
        m.Reminder.kind.like("partner%")))
    if partners:  # someone joined after all: she is told it is now police work
        notices.tell_joined(session, row, notices.CANCELLED, now)
    PlanRepository(session).audit(now, f"member:{member.id}", "police_only", "task", row.id,
                                  {"joint": True}, {"joint": False})
    session.flush()
    return view(session, row)


def ask_partners_again(session: Session, member: m.Member, task_id: int, now: datetime
                       ) -> tuple[TaskView, int]:
    """The invitation to a joint task once more, to every partner of its role; returns the
    task and how many were asked."""
    row = get_visible(session, member, task_id)
    if not can_steer_joint(viewer(session, member), facts(row)):
        raise NotAllowed("not_leader")
    if row.status != TaskStatus.PENDING or not row.joint:
        raise UserError("task_not_pending", id=row.id)
    asked = notices.ask_again(session, row, now)
    PlanRepository(session).audit(now, f"member:{member.id}", "asked_again", "task", row.id,
                                  None, {"asked": asked})
    return view(session, row), asked


def follow_up_key(task: TaskView) -> str:
    """Which follow-up question fits the task (a text key)."""
    if "counters" in task.follow_up:
        return "follow_up.counters"
    if task.kind == "bar_inspection" or "places_visited" in task.follow_up:
        return "follow_up.bar_inspection"
    if "vehicle" in task.follow_up:
        return "follow_up.school"
    return "follow_up.note"


def apply_follow_up(session: Session, member: m.Member, task: TaskView, text: str,
                    now: datetime) -> bool:
    """Store what the text says for this kind of task; False if it could not be read."""
    key = follow_up_key(task)
    if key == "follow_up.counters":
        extra = ["vehicles_checked"] if "vehicles_checked" in task.follow_up else []
        counts = parse_counters(text, [*task.counters, *extra], required=len(task.counters))
        if counts is None:
            return False
        vehicles = {k: counts[k] for k in extra if k in counts}
        ordered = {k: counts[k] for k in task.counters if k in counts}  # as the file lists them
        record_follow_up(session, member, task.id, now, counters=ordered, fields=vehicles)
    elif key == "follow_up.bar_inspection":
        places = first_number(text)
        fields: dict[str, object] = {"places_visited": places} if places is not None else {}
        record_follow_up(session, member, task.id, now, fields=fields, note=text)
    elif key == "follow_up.school":
        vehicle, checked = vehicle_word(text), first_number(text)
        if vehicle is None and checked is None:
            return False
        seen = {k: v for k, v in (("vehicle", vehicle), ("vehicles_checked", checked))
                if v is not None}
        record_follow_up(session, member, task.id, now, fields=seen)
    else:
        record_follow_up(session, member, task.id, now, note=text)
    return True
