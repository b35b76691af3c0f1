"""What must hold after every hostile step, judged by rules of its own (not the bot's code).

- Every change to tasks, completions, participation, members, invites and team groups has an
  audit row in the same step whose actor is a person who sent something in that step and who
  may make that change (README: police act on tasks they may see, officers on their team's;
  partners answer invitations for their role; coordinators invite and register groups; a new
  member only by redeeming an unused invite; "system" only in a tick). A language change is
  the member's own (no audit row).
- Nothing police-only (a police-only promise's title, a police-only kind's name, "#id" or the
  start time of a police-only task, a button carrying its id) reaches a partner's or
  stranger's private chat, a group not registered to a team, or a channel; an officer or a
  team's group gets no other team's police-only task. What the sender typed themselves in the
  step is not a leak when echoed.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from datetime import datetime
from zoneinfo import ZoneInfo

from sqlalchemy import select
from sqlalchemy.orm import Session

from medlofte_bot import texts
from medlofte_bot.storage import models as m

TZ = ZoneInfo("Europe/Stockholm")
POLICE = frozenset({"officer", "chief", "coordinator"})
LEADERS = frozenset({"chief", "coordinator"})
TASK_ACTIONS = frozenset({"done", "follow_up", "moved", "cancelled"})
GENERIC_ERRORS = tuple(texts.t("error_generic", lang) for lang in ("sv", "en"))
_HASH_ID = re.compile(r"#(\d+)")
_DATA_ID = re.compile(r"^[^:]*:(\d+)")


@dataclass(frozen=True)
class TaskRow:
    """A task as the oracle needs it."""

    id: int
    promise_title: str
    promise_police: bool
    kind: str
    visibility: str
    team: str | None
    joint: bool
    invited: tuple[str, ...]
    status: str
    start_at: datetime
    end_at: datetime
    moved: bool
    reason: str

    def state(self) -> tuple[object, ...]:
        """What a change to the task is."""
        return (self.status, self.start_at, self.end_at, self.moved, self.reason, self.team,
                self.visibility, self.invited, self.joint)


@dataclass(frozen=True)
class MemberRow:
    """A member as the oracle needs it."""

    id: int
    telegram_id: int
    role: str
    team: str | None
    partner_role: str | None
    active: bool
    language: str


@dataclass(frozen=True)
class AuditRow:
    """One audit entry written in the step."""

    id: int
    actor: str
    action: str
    entity: str
    entity_id: str


@dataclass
class Snapshot:
    """The rows a hostile step must not change without an allowed, audited actor."""

    tasks: dict[int, TaskRow] = field(default_factory=dict)
    completions: dict[int, tuple[object, ...]] = field(default_factory=dict)
    participations: dict[tuple[int, int], bool] = field(default_factory=dict)
    members: dict[int, MemberRow] = field(default_factory=dict)
    invites: dict[int, tuple[str, datetime | None, int | None]] = field(default_factory=dict)
    groups: dict[int, tuple[str, int | None]] = field(default_factory=dict)
    audit_max: int = 0

    def member_by_telegram(self, telegram_id: int) -> MemberRow | None:
        """The active member with this Telegram id, if any."""
        return next((x for x in self.members.values()
                     if x.telegram_id == telegram_id and x.active), None)

    def group_teams(self, chat_id: int) -> set[str]:
        """The teams whose group chat this is."""
        return {key for key, chat in self.groups.values() if chat == chat_id}


def take_snapshot(session: Session, audit_after: int) -> tuple[Snapshot, list[AuditRow]]:
    """The rows now, and the audit entries written after ``audit_after``."""
    snap = Snapshot()
    teams = {t.id: t for t in session.scalars(select(m.Team))}
    snap.groups = {t.id: (t.key, t.group_chat_id) for t in teams.values()}
    promises = {p.id: p for p in session.scalars(select(m.Promise))}
    for t in session.execute(select(m.Task.__table__)).mappings():
        promise = promises[t["promise_id"]]
        snap.tasks[t["id"]] = TaskRow(
            t["id"], promise.title, promise.visibility == "police", t["kind"],
            str(t["visibility"]), teams[t["team_id"]].key if t["team_id"] else None,
            bool(t["joint"]), tuple(t["invited"] or ()), str(t["status"]),
            _utc(t["start_at"]), _utc(t["end_at"]), bool(t["moved"]), t["reason"] or "")
    for c in session.execute(select(m.Completion.__table__)).mappings():
        snap.completions[c["task_id"]] = (c["member_id"], c["note"], repr(c["counters"]),
                                          repr(c["fields"]))
    for p in session.execute(select(m.Participation.__table__)).mappings():
        snap.participations[(p["task_id"], p["member_id"])] = bool(p["joins"])
    for x in session.execute(select(m.Member.__table__)).mappings():
        snap.members[x["id"]] = MemberRow(
            x["id"], int(x["telegram_id"]), str(x["role"]),
            teams[x["team_id"]].key if x["team_id"] else None, x["partner_role"],
            bool(x["active"]), x["language"])
    for i in session.execute(select(m.Invite.__table__)).mappings():
        snap.invites[i["id"]] = (i["code"], i["used_at"], i["used_by"])
    audits = [AuditRow(a.id, a.actor, a.action, a.entity, a.entity_id) for a in session.execute(
        select(m.AuditEntry.id, m.AuditEntry.actor, m.AuditEntry.action, m.AuditEntry.entity,
               m.AuditEntry.entity_id).where(m.AuditEntry.id > audit_after)
        .order_by(m.AuditEntry.id))]
    snap.audit_max = audits[-1].id if audits else audit_after
    return snap, audits


def _utc(value: datetime) -> datetime:
    return value if value.tzinfo is not None else value.replace(tzinfo=ZoneInfo("UTC"))


# ----- changes ----------------------------------------------------------------------------


def changes(before: Snapshot, after: Snapshot) -> list[tuple[str, str, str]]:
    """Every change between two snapshots: (entity, id, what) for the audit to explain."""
    found: list[tuple[str, str, str]] = []
    for tid in before.tasks.keys() | after.tasks.keys():
        old, new = before.tasks.get(tid), after.tasks.get(tid)
        if old is None or new is None or old.state() != new.state():
            found.append(("task", str(tid), _task_change(old, new)))
    for tid in before.completions.keys() | after.completions.keys():
        if before.completions.get(tid) != after.completions.get(tid):
            found.append(("task", str(tid), f"completion of task {tid}"))
    for pair in before.participations.keys() | after.participations.keys():
        if before.participations.get(pair) != after.participations.get(pair):
            found.append(("task", str(pair[0]), f"participation of member {pair[1]} in task "
                          f"{pair[0]}: {before.participations.get(pair)} -> "
                          f"{after.participations.get(pair)}"))
    for mid in before.members.keys() | after.members.keys():
        old_m, new_m = before.members.get(mid), after.members.get(mid)
        if old_m is not None and new_m is not None and old_m != new_m and \
                (old_m.role, old_m.team, old_m.partner_role, old_m.active) == \
                (new_m.role, new_m.team, new_m.partner_role, new_m.active):
            found.append(("language", str(mid), f"language of member {mid}"))
        elif old_m != new_m:
            found.append(("member", str(mid), f"member {mid}: {old_m} -> {new_m}"))
    for iid in before.invites.keys() | after.invites.keys():
        old_i, new_i = before.invites.get(iid), after.invites.get(iid)
        if old_i is None:
            found.append(("invite", str(iid), f"new invite {iid}"))
        elif new_i is not None and old_i != new_i:
            found.append(("invite_used", str(iid), f"invite {iid} used by member {new_i[2]}"))
    for team_id, (key, chat) in after.groups.items():
        if before.groups.get(team_id, (key, None))[1] != chat:
            found.append(("team", str(team_id), f"group of {key} set to {chat}"))
    return found


def _task_change(old: TaskRow | None, new: TaskRow | None) -> str:
    if old is None and new is not None:
        return f"new task {new.id} ({new.kind}, {new.team})"
    if new is None and old is not None:
        return f"task {old.id} deleted"
    assert old is not None and new is not None
    diffs = [f"{name} {a!r} -> {b!r}" for name, a, b in
             zip(("status", "start", "end", "moved", "reason", "team", "visibility", "invited",
                  "joint"), old.state(), new.state(), strict=True) if a != b]
    return f"task {old.id} ({old.kind}, {old.team}, {old.visibility}): " + "; ".join(
        d if len(d) < 120 else d[:117] + "…" for d in diffs)


def check_changes(before: Snapshot, after: Snapshot, audits: list[AuditRow],
                  senders: set[int], tick: bool) -> list[str]:
    """Problems with this step's changes: unaudited, or by someone not allowed to."""
    problems: list[str] = []
    allowed_actors = {a.actor for a in audits if a.action in TASK_ACTIONS
                      and _allowed(a, before, after, senders, tick, set()) is None}
    for a in audits:
        why = _allowed(a, before, after, senders, tick, allowed_actors)
        if why is not None:
            problems.append(f"audit {a.action} {a.entity} {a.entity_id} by {a.actor}: {why}")
    problems += rule_breaks(before, after)
    explained = {(a.entity, a.entity_id) for a in audits}
    used_by = {a.entity_id for a in audits if a.action == "member_added"}
    for entity, ident, what in changes(before, after):
        if entity == "language":
            member = after.members[int(ident)]
            if member.telegram_id not in senders:
                problems.append(f"{what} changed, but they sent nothing in this step")
        elif entity == "invite_used":
            user = after.invites[int(ident)][2]
            if str(user) not in used_by:
                problems.append(f"{what} without a member_added audit for them")
        elif (entity, ident) not in explained:
            problems.append(f"unaudited change: {what}")
    return problems


def rule_breaks(before: Snapshot, after: Snapshot) -> list[str]:
    """Moves no one may make (issue 8): out of the plan's year, or a risk night at all."""
    problems = []
    for tid, new in after.tasks.items():
        old = before.tasks.get(tid)
        if old is None or old.start_at == new.start_at:
            continue
        if new.kind == "risk_night":
            problems.append(f"risk night {tid} moved from {old.start_at.astimezone(TZ)} to "
                            f"{new.start_at.astimezone(TZ)}")
        elif new.start_at.astimezone(TZ).year != old.start_at.astimezone(TZ).year:
            problems.append(f"task {tid} moved out of its year: {old.start_at.astimezone(TZ)} -> "
                            f"{new.start_at.astimezone(TZ)}")
    return problems


def _allowed(a: AuditRow, before: Snapshot, after: Snapshot, senders: set[int], tick: bool,
             replanners: set[str]) -> str | None:
    """None if the audited change is allowed, else why not."""
    if a.actor == "system":
        return None if tick else "a 'system' change outside a tick"
    if not a.actor.startswith("member:") or not a.actor[7:].isdigit():
        return "an actor that is no member"
    member = after.members.get(int(a.actor[7:])) or before.members.get(int(a.actor[7:]))
    if member is None:
        return "no such member"
    if member.telegram_id not in senders:
        return f"member {member.id} (Telegram {member.telegram_id}) sent nothing in this step"
    who = f"{member.role} {member.id}" + (f" of {member.team}" if member.team else "")
    task = before.tasks.get(int(a.entity_id)) if a.entity == "task" and a.entity_id.isdigit() \
        else None
    if a.action in TASK_ACTIONS:
        if task is None:
            return f"{who} acted on a task that did not exist before"
        if member.role not in POLICE:
            return f"{who} may not {a.action} tasks (police only)"
        if member.role == "officer" and member.team != task.team:
            return f"{who} may not {a.action} task {task.id} of {task.team}"
        return None
    if a.action in ("planned", "replanned"):
        return None if a.actor in replanners else f"{who} re-planned without an allowed move " \
                                                  "or cancel"
    if a.action in ("joined", "declined"):
        if task is None:
            return f"{who} answered for a task that did not exist before"
        if member.role != "partner" or task.visibility == "police" or task.status != "pending":
            return f"{who} may not answer for task {task.id} ({task.visibility}, {task.status})"
        if task.visibility != "public" and member.partner_role not in task.invited:
            return f"{who} ({member.partner_role}) is not invited to task {task.id}"
        return None
    if a.action in ("police_only", "asked_again"):
        return None if member.role in ("chief", "coordinator") else f"{who} may not {a.action}"
    if a.action in ("invite_created", "team_group_set"):
        return None if member.role == "coordinator" else f"{who} may not {a.action}"
    if a.action == "member_added":
        if a.entity_id != str(member.id):
            return f"{who} added another member"
        for iid, (_code, _used_at, used_by) in after.invites.items():
            old = before.invites.get(iid)
            if used_by == member.id and (old is None or old[1] is None):  # new: made this step
                return None
        return f"{who} was added without redeeming an unused invite"
    return f"unexpected action {a.action}"


# ----- leaks ------------------------------------------------------------------------------


@dataclass
class Secrets:
    """Police-only facts: task ids per team, how their times read, titles and kind names."""

    ids_by_team: dict[str | None, set[int]]
    times: dict[int, tuple[str, ...]]
    words: tuple[str, ...]
    all_times: dict[int, tuple[str, ...]]  # every task's, police-only or not

    def times_shown(self, forbidden: frozenset[int]) -> set[str]:
        """How the times of the tasks outside ``forbidden`` read: a time two tasks share is
        no leak in a message about the one the reader may see."""
        return {w for tid, ws in self.all_times.items() if tid not in forbidden for w in ws}

    def ids_except(self, teams: set[str]) -> set[int]:
        """Police-only task ids of teams other than these."""
        return {i for team, ids in self.ids_by_team.items() if team not in teams for i in ids}


_WHEN_CACHE: dict[tuple[datetime, str], str] = {}


def _when(start: datetime, lang: str) -> str:
    key = (start, lang)
    if key not in _WHEN_CACHE:
        _WHEN_CACHE[key] = texts.when(start.astimezone(TZ), lang)
    return _WHEN_CACHE[key]


def secrets_of(*snapshots: Snapshot) -> Secrets:
    """The police-only facts in any of the snapshots (a moved task's old time stays secret)."""
    ids: dict[str | None, set[int]] = {}
    times: dict[int, set[str]] = {}
    every: dict[int, set[str]] = {}
    words: set[str] = set()
    shared_kinds = {t.kind for s in snapshots for t in s.tasks.values()
                    if t.visibility != "police"}
    for snap in snapshots:
        for t in snap.tasks.values():
            every.setdefault(t.id, set()).update(_when(t.start_at, lang) for lang in ("sv", "en"))
            if t.promise_police:
                words.add(t.promise_title)
            if t.visibility != "police":
                continue
            ids.setdefault(t.team, set()).add(t.id)
            times.setdefault(t.id, set()).update(_when(t.start_at, lang) for lang in ("sv", "en"))
            if t.kind not in shared_kinds:
                words.update(texts.kind(t.kind, lang) for lang in ("sv", "en"))
    return Secrets(ids, {k: tuple(v) for k, v in times.items()}, tuple(sorted(words)),
                   {k: tuple(v) for k, v in every.items()})


@dataclass(frozen=True)
class Audience:
    """Who reads a chat, as far as need-to-know goes."""

    name: str
    forbidden_ids: frozenset[int]
    words: bool  # police-only titles and kind names forbidden too
    charts: bool  # a chart (every promise) forbidden too


def audience(chat_id: int, before: Snapshot, after: Snapshot, secrets: Secrets) -> Audience:
    """What may not reach this chat."""
    every = frozenset(i for ids in secrets.ids_by_team.values() for i in ids)
    if chat_id > 0:
        member = after.member_by_telegram(chat_id) or before.member_by_telegram(chat_id)
        if member is not None and member.role in LEADERS:
            return Audience(f"{member.role} {chat_id}", frozenset(), False, False)
        if member is not None and member.role == "officer":
            own = {member.team} if member.team else set()
            return Audience(f"officer {chat_id} of {member.team}",
                            frozenset(secrets.ids_except(own)), False, False)
        name = f"partner {chat_id}" if member is not None else f"stranger {chat_id}"
        return Audience(name, every, True, True)
    teams = before.group_teams(chat_id) | after.group_teams(chat_id)
    if teams:
        return Audience(f"group {chat_id} of {'/'.join(sorted(teams))}",
                        frozenset(secrets.ids_except(teams)), False, False)
    return Audience(f"chat {chat_id} (no team's group)", every, True, True)


def leaks(content: str, buttons: list[str], photo: bool, who: Audience, secrets: Secrets,
          typed: str) -> list[str]:
    """What in one message is police-only for its audience (and was not typed by the sender)."""
    found: list[str] = []
    if photo and who.charts:
        found.append("a chart (every promise, police-only ones included)")
    if who.words:
        found += [f"police-only word {w!r}" for w in secrets.words
                  if w in content and w not in typed]
    for match in _HASH_ID.finditer(content):
        if int(match[1]) in who.forbidden_ids and match[0] not in typed:
            found.append(f"police-only task {match[0]}")
    for data in buttons:
        hit = _DATA_ID.match(data)
        if hit and int(hit[1]) in who.forbidden_ids:
            found.append(f"a button for police-only task {hit[1]} ({data!r})")
    shown: set[str] | None = None
    for tid in who.forbidden_ids:
        for when in secrets.times.get(tid, ()):
            if when in content and when not in typed:
                shown = secrets.times_shown(who.forbidden_ids) if shown is None else shown
                if when not in shown:
                    found.append(f"the time of police-only task {tid} ({when!r})")
    return found
