"""Reads and writes of plans, kept apart from the rules that decide them."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import Connection, insert, select, update
from sqlalchemy.orm import Session

from medlofte_bot.domain.plan import PlannedTask
from medlofte_bot.domain.promise_set import PromiseSet
from medlofte_bot.domain.states import TaskStatus, Visibility
from medlofte_bot.storage import models as m
from medlofte_bot.storage.driver import DriverStatement


def spend_once(session: Session, model: type[m.Invite] | type[m.WebLogin], row_id: int,
               now: datetime) -> bool:
    """Mark a single-use row (an invite, a login link) used, in one conditional UPDATE: of
    several spending it at the same moment exactly one gets True (PostgreSQL re-checks the
    condition after the row lock)."""
    spent = session.connection().execute(update(m.table_of(model)).where(
        model.id == row_id, model.used_at.is_(None)).values(used_at=now))
    return spent.rowcount == 1


def task_fields(task: PlannedTask) -> dict[str, Any]:
    """The stored, comparable fields of a planned task (times in UTC ISO form)."""
    return {
        "start": task.start.astimezone(ZoneInfo("UTC")).isoformat(),
        "end": task.end.astimezone(ZoneInfo("UTC")).isoformat(),
        "team": task.team, "joint": task.joint, "vehicle": task.vehicle,
        "visibility": task.visibility, "label": task.label,
    }


class PlanRepository:
    """The plan tables of one database session."""

    def __init__(self, session: Session) -> None:
        self.session = session

    def municipality(self, ps: PromiseSet) -> m.Municipality:
        """The municipality row for the set, created or brought up to date."""
        row = self.session.scalar(select(m.Municipality).where(m.Municipality.slug == ps.slug))
        if row is None:
            row = m.Municipality(slug=ps.slug)
            self.session.add(row)
        row.name, row.police_area = ps.municipality, ps.police_area
        row.timezone, row.language = ps.timezone, ps.language
        self.session.flush()
        return row

    def promise_set_row(self, municipality_id: int, year: int) -> m.PromiseSetRow | None:
        """The applied-set row, if this municipality-year was applied before."""
        return self.session.scalar(select(m.PromiseSetRow).where(
            m.PromiseSetRow.municipality_id == municipality_id, m.PromiseSetRow.year == year))

    def teams(self, municipality: m.Municipality, ps: PromiseSet) -> dict[str, m.Team]:
        """The set's team rows by key (and the municipality's earlier ones), made or renamed
        to match the set. Teams belong to the police area: a key another municipality of
        the area named first is that same team."""
        keys = [t.id for t in ps.teams]
        rows = {t.key: t for t in self.session.scalars(select(m.Team).where(
            m.Team.police_area == ps.police_area,
            (m.Team.municipality_id == municipality.id) | m.Team.key.in_(keys)))}
        for team in ps.teams:
            row = rows.get(team.id)
            if row is None:
                row = rows[team.id] = m.Team(municipality_id=municipality.id,
                                             police_area=ps.police_area, key=team.id)
                self.session.add(row)
            row.name = team.name
        self.session.flush()
        return rows

    def area_tasks(self, ps: PromiseSet, municipality_id: int,
                   team_keys: Sequence[str]) -> list[PlannedTask]:
        """The other municipalities' tasks of ``ps``'s year and police area that take one of
        ``team_keys``, as planner values: the time those shared teams are already booked."""
        rows = self.session.scalars(
            select(m.Task).join(m.Promise).join(m.Team, m.Task.team_id == m.Team.id).where(
                m.Team.police_area == ps.police_area, m.Team.key.in_(team_keys),
                m.Promise.municipality_id != municipality_id, m.Promise.year == ps.year,
                m.Task.status != TaskStatus.CANCELLED))
        return [as_planned(row, ps.tz) for row in rows]

    def promises(
        self, municipality: m.Municipality, ps: PromiseSet,
        targets: dict[str, tuple[int | None, int]],
    ) -> dict[str, m.Promise]:
        """Promise rows by key, created or updated to match the set and its targets."""
        rows = {p.key: p for p in self.session.scalars(select(m.Promise).where(
            m.Promise.municipality_id == municipality.id, m.Promise.year == ps.year))}
        for promise in ps.promises:
            row = rows.get(promise.id)
            if row is None:
                row = rows[promise.id] = m.Promise(
                    municipality_id=municipality.id, year=ps.year, key=promise.id)
                self.session.add(row)
            row.title, row.kind = promise.title, promise.kind
            row.visibility = Visibility(promise.visibility)
            row.target, row.joint_target = targets.get(promise.id, (None, 0))
            row.spec = promise.model_dump(mode="json")
        self.session.flush()
        return rows

    def tasks(self, municipality_id: int, year: int) -> list[m.Task]:
        """All task rows of a municipality-year, in time order."""
        return list(self.session.scalars(
            select(m.Task).join(m.Promise).where(
                m.Promise.municipality_id == municipality_id, m.Promise.year == year)
            .order_by(m.Task.start_at, m.Task.id)))

    def add_task(self, task: PlannedTask, promise: m.Promise, team: m.Team | None,
                 now: datetime) -> m.Task:
        """Store a planned task as pending."""
        row = m.Task(promise_id=promise.id, key=task.key, kind=task.kind, updated_at=now)
        self.set_task(row, task, team, now)
        row.status = TaskStatus(task.status)
        self.session.add(row)
        self.session.flush()
        return row

    @staticmethod
    def set_task(row: m.Task, task: PlannedTask, team: m.Team | None, now: datetime) -> None:
        """Copy a planned task's time, team and flags onto a row."""
        row.start_at, row.end_at = task.start, task.end
        row.team_id = team.id if team else None
        row.team = team
        row.joint, row.vehicle = task.joint, task.vehicle
        row.visibility = Visibility(task.visibility)
        row.label, row.partner_role, row.invited = task.label, task.partner_role, list(task.invited)
        row.updated_at = now

    def audit(self, at: datetime, actor: str, action: str, entity: str, entity_id: object,
              before: dict[str, Any] | None = None, after: dict[str, Any] | None = None) -> None:
        """Write one audit row."""
        write_audit(self.session.connection(), at, actor, action, entity, entity_id,
                    before, after)


def write_audit(connection: Connection, at: datetime, actor: str, action: str, entity: str,
                entity_id: object, before: dict[str, Any] | None = None,
                after: dict[str, Any] | None = None) -> None:
    """Write one audit row (every change writes one; each confirmation too)."""
    _INSERT_AUDIT.run(connection, {
        "at": at, "actor": actor, "action": action, "entity": entity,
        "entity_id": str(entity_id), "before": before, "after": after})


_INSERT_AUDIT = DriverStatement(insert(m.table_of(m.AuditEntry)), keys=(
    "at", "actor", "action", "entity", "entity_id", "before", "after"))


def as_planned(row: m.Task, tz: ZoneInfo) -> PlannedTask:
    """A task row as the planner's value, in local time."""
    return PlannedTask(
        key=row.key, promise=row.promise.key, kind=row.kind,
        start=row.start_at.astimezone(tz), end=row.end_at.astimezone(tz),
        team=row.team.key if row.team else "", joint=row.joint, vehicle=row.vehicle,
        visibility=row.visibility, label=row.label, partner_role=row.partner_role,
        invited=tuple(row.invited or ()), status=row.status,  # type: ignore[arg-type]
    )


def planned_all(rows: Sequence[m.Task], tz: ZoneInfo) -> list[PlannedTask]:
    """Rows as planner values."""
    return [as_planned(r, tz) for r in rows]
