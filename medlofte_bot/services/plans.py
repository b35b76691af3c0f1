"""Use case: apply a promise set's plan to the database, idempotently, and say what changed."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime

from sqlalchemy import select
from sqlalchemy.orm import Session

from medlofte_bot.configuration import LoadedSet
from medlofte_bot.domain.errors import UserError
from medlofte_bot.domain.plan import PlannedTask, Shortfall
from medlofte_bot.domain.promise_set import PromiseSet
from medlofte_bot.domain.states import TaskStatus
from medlofte_bot.planning.planner import plan_year, replan
from medlofte_bot.storage import models as m
from medlofte_bot.storage.repository import PlanRepository, as_planned, planned_all, task_fields


@dataclass
class ApplyResult:
    """What applying a promise set changed."""

    municipality: str
    year: int
    unchanged: bool = False
    added: list[PlannedTask] = field(default_factory=list)
    updated: list[tuple[PlannedTask, PlannedTask]] = field(default_factory=list)
    cancelled: list[PlannedTask] = field(default_factory=list)
    kept: int = 0
    shortfalls: list[Shortfall] = field(default_factory=list)


def apply_promise_set(session: Session, loaded: LoadedSet, now: datetime,
                      actor: str = "system") -> ApplyResult:
    """Store the plan for ``loaded``; same file twice changes nothing; done work is kept.

    An edited file re-plans pending future tasks (tasks moved in chat stay where
    people put them), cancels pending ones it no longer has, then tops up whatever
    the done and remaining tasks leave short. Runs in the caller's transaction.
    """
    ps, repo = loaded.promise_set, PlanRepository(session)
    year_end = datetime(ps.year + 1, 1, 1, tzinfo=ps.tz)
    if now >= year_end:
        raise UserError("year_over", year=ps.year, today=now.astimezone(ps.tz).date().isoformat())
    muni = repo.municipality(ps)
    row = repo.promise_set_row(muni.id, ps.year)
    stored = repo.tasks(muni.id, ps.year)
    result = ApplyResult(ps.municipality, ps.year)
    if row is not None and row.digest == loaded.digest:
        result.unchanged, result.kept = True, len(stored)
        return result
    busy = repo.area_tasks(ps, muni.id, [t.id for t in ps.teams])
    fresh = plan_year(ps, busy=busy)
    targets = {k: (t.target, t.joint_target) for k, t in fresh.targets.items()}
    teams = repo.teams(muni, ps)
    promises = repo.promises(muni, ps, targets)
    by_key = {(r.promise.key, r.key): r for r in stored}
    wanted = {(t.promise, t.key) for t in fresh.tasks}
    for task in fresh.tasks:
        existing = by_key.get((task.promise, task.key))
        if existing is None:
            if task.start > now:
                new = repo.add_task(task, promises[task.promise], teams.get(task.team), now)
                repo.audit(now, actor, "planned", "task", new.id, None, task_fields(task))
                result.added.append(task)
        elif _replannable(existing, now):
            before = as_planned(existing, ps.tz)
            if task_fields(before) != task_fields(task):
                repo.set_task(existing, task, teams.get(task.team), now)
                repo.audit(now, actor, "replanned", "task", existing.id,
                           task_fields(before), task_fields(task))
                result.updated.append((before, task))
            else:
                result.kept += 1
        else:
            result.kept += 1
    for key, existing in by_key.items():
        if key not in wanted and _replannable(existing, now):
            existing.status, existing.reason = TaskStatus.CANCELLED, "config"
            existing.updated_at = now
            repo.audit(now, actor, "cancelled", "task", existing.id, {"status": "pending"},
                       {"status": "cancelled", "reason": "config"})
            result.cancelled.append(as_planned(existing, ps.tz))
    session.flush()
    topped = top_up(session, ps, muni, promises, teams, now, actor, busy)
    result.added.extend(topped.added)
    result.shortfalls = topped.shortfalls
    _record_digest(session, row, muni, loaded, now)
    repo.audit(now, actor, "plan_applied", "promise_set", f"{ps.slug}-{ps.year}", None,
               {"digest": loaded.digest, "added": len(result.added),
                "updated": len(result.updated), "cancelled": len(result.cancelled)})
    return result


@dataclass
class TopUp:
    """Tasks a re-plan added and the targets that can no longer be met."""

    added: list[PlannedTask]
    shortfalls: list[Shortfall]


def top_up(session: Session, ps: PromiseSet, muni: m.Municipality,
           promises: dict[str, m.Promise], teams: dict[str, m.Team], now: datetime,
           actor: str, busy: list[PlannedTask] | None = None) -> TopUp:
    """Re-plan the rest of the year from the stored tasks and store what it adds, around
    the time other municipalities of the area booked the shared teams (``busy``: read
    here when not given)."""
    repo = PlanRepository(session)
    current = planned_all(repo.tasks(muni.id, ps.year), ps.tz)
    if busy is None:
        busy = repo.area_tasks(ps, muni.id, [t.id for t in ps.teams])
    plan = replan(ps, current, now, busy=busy)
    known = {(t.promise, t.key) for t in current}
    added = [t for t in plan.tasks if (t.promise, t.key) not in known]
    for task in added:
        new = repo.add_task(task, promises[task.promise], teams.get(task.team), now)
        repo.audit(now, actor, "planned", "task", new.id, None, task_fields(task))
    return TopUp(added, plan.shortfalls)


def _replannable(row: m.Task, now: datetime) -> bool:
    return row.status == TaskStatus.PENDING and not row.moved and row.start_at > now


def _record_digest(session: Session, row: m.PromiseSetRow | None,
                   muni: m.Municipality, loaded: LoadedSet, now: datetime) -> None:
    if row is None:
        row = m.PromiseSetRow(municipality_id=muni.id, year=loaded.promise_set.year)
        session.add(row)
    row.digest, row.source, row.applied_at = loaded.digest, str(loaded.path), now
    row.notes_kept_months = loaded.promise_set.notes_kept_months
    session.flush()


def stored_tasks(session: Session, ps: PromiseSet) -> list[tuple[PlannedTask, datetime]] | None:
    """The tasks of ``ps``'s year as stored, moves and cancellations included, each with
    the time it last changed; None when nothing is stored for it."""
    rows = list(session.scalars(select(m.Task).join(m.Promise).join(m.Municipality).where(
        m.Municipality.slug == ps.slug, m.Promise.year == ps.year)
        .order_by(m.Task.start_at, m.Task.id)))
    if not rows:
        return None
    return [(as_planned(row, ps.tz), row.updated_at) for row in rows]
