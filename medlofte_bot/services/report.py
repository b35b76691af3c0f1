"""Use case: the year report for the council's written follow-up. Plain data, no formatting.

The data is the internal whole: police-only tasks, the names of the members who did or
joined the work (never of people met), the counts, notes, moves and cancellations, all
read from the stored year, with each promise's standing from the one rule /status uses
(services.status.set_status). What the public version leaves out is the view's choice
(views/report_document.py), made from these same values.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import select
from sqlalchemy.orm import Session

from medlofte_bot.domain.errors import NotAllowed, NotFound
from medlofte_bot.domain.policy import Viewer, chat_report_version, in_area, year_report_version
from medlofte_bot.domain.promise_set import PromiseSet
from medlofte_bot.domain.standing import Standing
from medlofte_bot.domain.states import TaskStatus
from medlofte_bot.services.disclosure import CHAT, Disclosure
from medlofte_bot.services.records import notes_cleared_at
from medlofte_bot.services.status import PromiseStatus, add_counts, set_status
from medlofte_bot.storage import models as m


@dataclass(frozen=True)
class Move:
    """A task moved by someone in chat: from when, to when, by whom and when it was done."""

    before: datetime | None
    after: datetime | None
    by: str
    at: datetime


@dataclass(frozen=True)
class TaskReport:
    """One stored task with what was done about it (times local)."""

    id: int
    key: str
    kind: str
    label: str
    start: datetime
    end: datetime
    status: str
    team: str
    joint: bool
    partner_role: str | None
    vehicle: str | None
    visibility: str
    partners_joined: tuple[str, ...] = ()
    partner_roles_joined: tuple[str, ...] = ()  # each joiner's partner role, in the same order
    done_by: str = ""
    done_at: datetime | None = None
    note: str = ""
    counters: dict[str, int] = field(default_factory=dict)
    fields: dict[str, Any] = field(default_factory=dict)
    moves: tuple[Move, ...] = ()
    cancel_reason: str = ""
    reason: str = ""  # why it was cancelled or missed, as stored ("" for a missed one: none given)


@dataclass(frozen=True)
class PromiseReport:
    """One promise: promised against done, with its tasks and counter totals."""

    key: str
    title: str
    kind: str
    target: int | None
    joint_target: int
    done: int
    joint_done: int
    police_only: bool
    applies_to: tuple[str, ...]
    counters: dict[str, int]
    tasks: tuple[TaskReport, ...]
    status: PromiseStatus | None = None  # the standing, as /status and the summary say it
    wording: str = ""  # the promise as the file words it (its ``note``)
    comment: str = ""  # the coordinator's comment: written in chat, else the file's
    comment_by: str = ""
    comment_at: datetime | None = None

    @property
    def state(self) -> Standing:
        """The promise's standing word (domain.standing through services.status)."""
        return self.status.state if self.status else Standing.ON_TRACK

    @property
    def met(self) -> bool | None:
        """Whether the target (and the joint target) is met; None when there is no target."""
        if self.target is None:
            return None
        return self.state in (Standing.MET, Standing.FULFILLED)


@dataclass(frozen=True)
class YearReport:
    """A municipality-year as stored: every promise, and the counters over all tasks."""

    municipality: str
    police_area: str
    slug: str
    year: int
    timezone: str
    as_of: datetime
    promises: tuple[PromiseReport, ...]
    counters: dict[str, int]
    partner_roles: dict[str, str]
    notes_cleared_at: datetime | None = None  # free text cleared by the set's retention rule


def _names(session: Session, ids: Iterable[int]) -> dict[int, str]:
    wanted = set(ids)
    if not wanted:
        return {}
    rows = session.execute(select(m.Member.id, m.Member.display_name)
                           .where(m.Member.id.in_(wanted)))
    return {member_id: name for member_id, name in rows}


def _actor(actor: str, names: Mapping[int, str]) -> str:
    kind, _, ident = actor.partition(":")
    if kind == "member" and ident.isdigit():
        return names.get(int(ident), actor)
    return actor


def audited_time(value: object, tz: ZoneInfo) -> datetime | None:
    """A time an audit entry recorded (ISO text), in ``tz``; None if there is none."""
    if not isinstance(value, str):
        return None
    try:
        return datetime.fromisoformat(value).astimezone(tz)
    except ValueError:
        return None


def _task_reports(session: Session, rows: list[m.Task], tz: ZoneInfo) -> list[TaskReport]:
    ids = [r.id for r in rows]
    completions = {c.task_id: c for c in session.scalars(
        select(m.Completion).where(m.Completion.task_id.in_(ids)))} if ids else {}
    joined: dict[int, list[int]] = {}
    for task_id, member_id in session.execute(select(
            m.Participation.task_id, m.Participation.member_id).where(
            m.Participation.task_id.in_(ids), m.Participation.joins.is_(True))
            .order_by(m.Participation.at, m.Participation.id)) if ids else ():
        joined.setdefault(task_id, []).append(member_id)
    audits = list(session.scalars(select(m.AuditEntry).where(
        m.AuditEntry.entity == "task", m.AuditEntry.action == "moved",
        m.AuditEntry.entity_id.in_([str(i) for i in ids])).order_by(
        m.AuditEntry.at, m.AuditEntry.id))) if ids else []
    member_ids = [c.member_id for c in completions.values() if c.member_id is not None]
    member_ids += [i for ms in joined.values() for i in ms]
    member_ids += [int(a.actor.split(":")[1]) for a in audits
                   if a.actor.startswith("member:") and a.actor.split(":")[1].isdigit()]
    names = _names(session, member_ids)
    roles = _partner_roles(session, [i for ms in joined.values() for i in ms])
    moves: dict[int, list[Move]] = {}
    for a in audits:
        moves.setdefault(int(a.entity_id), []).append(Move(
            audited_time((a.before or {}).get("start"), tz),
            audited_time((a.after or {}).get("start"), tz),
            _actor(a.actor, names), a.at.astimezone(tz)))
    out = []
    for r in rows:
        c = completions.get(r.id)
        counters: dict[str, int] = {}
        add_counts(counters, c.counters if c else None)
        out.append(TaskReport(
            r.id, r.key, r.kind, r.label, r.start_at.astimezone(tz), r.end_at.astimezone(tz),
            r.status, r.team.name if r.team else "", r.joint, r.partner_role, r.vehicle,
            r.visibility, tuple(names.get(i, "?") for i in joined.get(r.id, ())),
            tuple(roles.get(i, "") for i in joined.get(r.id, ())),
            names.get(c.member_id, "?") if c and c.member_id is not None else "",
            c.done_at.astimezone(tz) if c else None, c.note if c else "", counters,
            dict(c.fields or {}) if c else {}, tuple(moves.get(r.id, ())),
            r.reason if r.status == TaskStatus.CANCELLED else "",
            r.reason if r.status in (TaskStatus.CANCELLED, TaskStatus.MISSED) else ""))
    return out


def _partner_roles(session: Session, ids: Iterable[int]) -> dict[int, str]:
    wanted = set(ids)
    if not wanted:
        return {}
    rows = session.execute(select(m.Member.id, m.Member.partner_role)
                           .where(m.Member.id.in_(wanted)))
    return {member_id: role or "" for member_id, role in rows}


def _promise_report(row: m.Promise, mine: list[TaskReport],
                    by_promise: Mapping[str, list[TaskReport]], ps: PromiseSet,
                    status: PromiseStatus | None, names: Mapping[int, str],
                    tz: ZoneInfo) -> PromiseReport:
    spec = row.spec or {}
    applies = tuple(spec.get("applies_to") or ())
    counted = [t for key in applies for t in by_promise.get(key, [])] if applies else mine
    counters = dict.fromkeys(spec.get("counters") or (), 0)
    for t in counted:
        add_counts(counters, t.counters)
    done = [t for t in mine if t.status == TaskStatus.DONE]
    spec_of = next((p for p in ps.promises if p.id == row.key), None)
    chat_comment = (row.comment or "").strip()
    return PromiseReport(
        row.key, row.title, row.kind, row.target, row.joint_target, len(done),
        sum(1 for t in done if t.joint and t.partners_joined), row.visibility == "police",
        applies, counters, tuple(mine), status,
        spec_of.note.strip() if spec_of else "",
        chat_comment or (spec_of.comment.strip() if spec_of else ""),
        names.get(row.comment_by, "") if chat_comment and row.comment_by else "",
        row.comment_at.astimezone(tz) if chat_comment and row.comment_at else None)


def year_report(session: Session, ps: PromiseSet, now: datetime) -> YearReport | None:
    """The stored year of ``ps`` as a report; None when nothing is stored for it."""
    muni = session.scalar(select(m.Municipality).where(m.Municipality.slug == ps.slug))
    if muni is None:
        return None
    promises = list(session.scalars(select(m.Promise).where(
        m.Promise.municipality_id == muni.id, m.Promise.year == ps.year)))
    rows = list(session.scalars(select(m.Task).join(m.Promise).where(
        m.Promise.municipality_id == muni.id, m.Promise.year == ps.year)
        .order_by(m.Task.start_at, m.Task.id)))
    if not promises or not rows:
        return None
    tz = ZoneInfo(muni.timezone)
    reports = _task_reports(session, rows, tz)
    by_promise: dict[str, list[TaskReport]] = {}
    for row, rep in zip(rows, reports, strict=True):
        by_promise.setdefault(row.promise.key, []).append(rep)
    order = {p.id: i for i, p in enumerate(ps.promises)}
    promises.sort(key=lambda p: (order.get(p.key, len(order)), p.id))
    totals: dict[str, int] = {}
    for rep in reports:
        add_counts(totals, rep.counters)
    statuses = {st.promise: st for st in set_status(session, ps, muni, ps.promises, now)}
    names = _names(session, [p.comment_by for p in promises if p.comment_by is not None])
    return YearReport(
        muni.name, muni.police_area, muni.slug, ps.year, muni.timezone, now.astimezone(tz),
        tuple(_promise_report(p, by_promise.get(p.key, []), by_promise, ps,
                              statuses.get(p.key), names, tz) for p in promises),
        totals, {r.id: r.title for r in ps.partner_roles},
        _local_at(notes_cleared_at(session, muni.slug, ps.year), tz))


def _local_at(moment: datetime | None, tz: ZoneInfo) -> datetime | None:
    return moment.astimezone(tz) if moment is not None else None


@dataclass(frozen=True)
class YearReports:
    """The year reports a member gets in chat: which year, which version, one per
    municipality of the area with anything stored."""

    year: int
    public: bool
    reports: tuple[YearReport, ...]
    # the internal version stays off chat (secret_details = "web"): it is read on this page
    sealed: bool = False
    page: str | None = None


def _default_year(years: Iterable[int], now: datetime, tz: ZoneInfo) -> int | None:
    """The year under way if it has promises, else the latest one before it."""
    known = sorted(set(years))
    this = now.astimezone(tz).year
    if this in known:
        return this
    past = [y for y in known if y < this]
    return past[-1] if past else (known[0] if known else None)


def area_year_reports(session: Session, sets: Mapping[tuple[str, int], PromiseSet],
                      who: Viewer, year: int | None, now: datetime,
                      disclosure: Disclosure = CHAT) -> YearReports:
    """The reports of ``year`` (default: the year under way, else the last) for the
    municipalities of the viewer's area, in the version policy.chat_report_version gives
    (the public one when a set says secret_details = "web")."""
    if year_report_version(who) is None:
        raise NotAllowed("year_report.not_allowed")
    munis = {mu.slug: mu for mu in session.scalars(select(m.Municipality))}
    mine = {key: ps for key, ps in sets.items()
            if key[0] in munis and in_area(who, munis[key[0]].id)}
    tz = next(iter(mine.values())).tz if mine else ZoneInfo("Europe/Stockholm")
    chosen = year if year is not None else _default_year((y for _, y in mine), now, tz)
    reports = [r for (_, y), ps in sorted(mine.items()) if y == chosen
               and (r := year_report(session, ps, now)) is not None]
    if chosen is None or not reports:
        raise NotFound("year_report.nothing", year=chosen if chosen is not None else "–")
    version = chat_report_version(who, (disclosure.mode(slug, y) for slug, y in mine
                                        if y == chosen))
    sealed = version != year_report_version(who)
    return YearReports(chosen, version != "internal", tuple(reports), sealed,
                       f"{disclosure.web_base}/webb/arsrapport" if disclosure.web_base
                       else None)
