"""Use case: where each promise stands: done against target, pace, joint work, counters."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import select
from sqlalchemy.orm import Session

from medlofte_bot.domain.plan import PlannedTask
from medlofte_bot.domain.policy import PromiseFacts, can_see_promise, sees_municipality
from medlofte_bot.domain.promise_set import Promise, PromiseSet
from medlofte_bot.domain.standing import Standing, standing
from medlofte_bot.domain.states import TaskStatus
from medlofte_bot.planning.planner import replan
from medlofte_bot.services.members import viewer
from medlofte_bot.storage import models as m
from medlofte_bot.storage.repository import planned_all


@dataclass(frozen=True)
class PromiseStatus:
    """One promise's standing at ``now``."""

    promise: str
    title: str
    kind: str
    target: int | None
    done: int
    expected: int
    joint_target: int = 0
    joint_done: int = 0
    reachable: int | None = None
    counters: dict[str, int] = field(default_factory=dict)
    police_only: bool = False
    joint_expected: int = 0
    over: bool = False  # the promise's year has ended
    municipality: str = ""
    counted: frozenset[int] = frozenset()  # the tasks whose counters are summed here
    partners_came: int = 0  # partners who said they would come, on nights that were held
    year: int = 0  # the promise set's year

    @property
    def state(self) -> Standing:
        """The one rule (domain.standing) over this promise's numbers."""
        return standing(self.target, self.done, self.expected, joint_target=self.joint_target,
                        joint_done=self.joint_done, joint_expected=self.joint_expected,
                        reachable=self.reachable, over=self.over)

    @property
    def joint_state(self) -> Standing:
        """The joint sub-target's own state (with a partner who joined)."""
        return standing(self.joint_target, self.joint_done, self.joint_expected,
                        over=self.over)


def _expected(rows: list[m.Task], now: datetime, cap: int) -> int:
    """What should be done by now, by the plan as it stands: tasks that have ended and are
    still to count. A cancelled task does not count, nor a missed one: the re-plan gave it
    a replacement (or says the target is at risk), so each planned task counts once."""
    ended = sum(1 for r in rows if r.end_at <= now
                and r.status not in (TaskStatus.CANCELLED, TaskStatus.MISSED))
    return min(ended, cap)


def _joint_done(session: Session, rows: list[m.Task]) -> int:
    done_joint = [r.id for r in rows if r.joint and r.status == TaskStatus.DONE]
    if not done_joint:
        return 0
    joined = set(session.scalars(select(m.Participation.task_id).where(
        m.Participation.task_id.in_(done_joint), m.Participation.joins.is_(True))))
    return len(joined)


def _partners_came(session: Session, rows: list[m.Task]) -> int:
    """Partners who answered "Jag kommer" to a task they were invited to (not a joint one:
    that is the joint count) that was then held."""
    held = [r.id for r in rows if r.invited and not r.joint and r.status == TaskStatus.DONE]
    if not held:
        return 0
    return len(session.scalars(select(m.Participation.id).where(
        m.Participation.task_id.in_(held), m.Participation.joins.is_(True))).all())


def add_counts(totals: dict[str, int], counts: Mapping[str, Any] | None) -> None:
    """Add ``counts`` into ``totals`` in place (values read as integers)."""
    for k, v in (counts or {}).items():
        try:
            totals[k] = totals.get(k, 0) + int(v)
        except (TypeError, ValueError):
            continue


def _counters(session: Session, task_ids: list[int]) -> dict[str, int]:
    totals: dict[str, int] = {}
    for counts in session.scalars(select(m.Completion.counters).where(
            m.Completion.task_id.in_(task_ids))):
        add_counts(totals, counts)
    return totals


def year_over(year: int, tz: ZoneInfo, now: datetime) -> bool:
    """Whether a promise set's year has ended at ``now`` (midnight, New Year, local)."""
    return now >= datetime(year + 1, 1, 1, tzinfo=tz)


def counter_totals(session: Session, rows: list[PromiseStatus]) -> dict[str, int]:
    """The counters of several promises summed once per task: a promise that counts the
    same tasks as another (Kronoberg counts on the risk nights) adds nothing twice."""
    return _counters(session, sorted(set().union(*(r.counted for r in rows))))


_SWEDISH = str.maketrans({"å": "{", "ä": "|", "ö": "}", "Å": "[", "Ä": "\\", "Ö": "]"})


def name_order(name: str) -> str:
    """A sort key that puts names in Swedish order: Arjeplog, Arvidsjaur, Älvsbyn."""
    return name.translate(_SWEDISH)


def promise_status(session: Session, sets: dict[tuple[str, int], PromiseSet], member: m.Member,
                   now: datetime) -> list[PromiseStatus]:
    """Every promise the member may see (policy.can_see_promise) at ``now``: leaders their
    area's, officers and partners their municipality's, partners never police-only ones."""
    out: list[PromiseStatus] = []
    who = viewer(session, member)
    slugs = {muni.slug: muni for muni in session.scalars(select(m.Municipality))}
    for (slug, _year), ps in sorted(sets.items(), key=lambda item: (
            name_order(item[1].municipality), item[0][1])):
        muni = slugs.get(slug)
        if muni is None or not sees_municipality(who, muni.id):
            continue  # (a national deployment has 290: ask each promise only where it can be)
        shown = [p for p in ps.promises
                 if can_see_promise(who, PromiseFacts(p.visibility, muni.id))]
        if shown:
            out += set_status(session, ps, muni, shown, now)
    return out


def set_status(session: Session, ps: PromiseSet, muni: m.Municipality,
               shown: Sequence[Promise], now: datetime) -> list[PromiseStatus]:
    """The standing at ``now`` of the promises ``shown`` of one promise set, whoever asks
    (the year report reads every promise through this, as /status reads the visible ones)."""
    out: list[PromiseStatus] = []
    rows = list(session.scalars(select(m.Task).join(m.Promise).where(
        m.Promise.municipality_id == muni.id, m.Promise.year == ps.year)))
    planned: list[PlannedTask] = planned_all(rows, ps.tz)
    shortfalls = {s.promise: s for s in replan(ps, planned, now).shortfalls}
    for p in shown:
        mine = [r for r in rows if r.promise.key == p.id]
        counted = [r for r in rows if r.promise.key in p.applies_to] if p.applies_to else mine
        target = mine[0].promise.target if mine else (None if p.placement == "none" else 0)
        joint_target = p.joint.count if p.joint else 0
        short = shortfalls.get(p.id)
        out.append(PromiseStatus(
            p.id, p.title, p.kind, target, sum(1 for r in mine if r.status == TaskStatus.DONE),
            _expected(mine, now, target or 0), joint_target,
            _joint_done(session, mine), short.reachable if short else None,
            _counters(session, [r.id for r in counted]) if p.counters else {},
            p.visibility == "police", _expected([r for r in mine if r.joint], now,
                                                joint_target),
            year_over(ps.year, ps.tz, now), muni.name,
            frozenset(r.id for r in counted) if p.counters else frozenset(),
            _partners_came(session, mine) if p.invite else 0, ps.year))
    return out
