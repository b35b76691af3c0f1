"""The year plan as plain values: planned tasks, targets, shortfalls and task states."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import Literal

TaskStatus = Literal["pending", "done", "cancelled", "missed"]
TASK_STATUSES: tuple[TaskStatus, ...] = ("pending", "done", "cancelled", "missed")


@dataclass(frozen=True)
class PlannedTask:
    """One planned piece of work: what, when (aware local times), which team, who sees it."""

    key: str
    promise: str
    kind: str
    start: datetime
    end: datetime
    team: str
    joint: bool = False
    vehicle: str | None = None
    visibility: str = "police"
    label: str = ""
    partner_role: str | None = None
    invited: tuple[str, ...] = ()
    status: TaskStatus = "pending"


@dataclass(frozen=True)
class Target:
    """What a promise asks for in a year, and how that number was decided.

    ``per`` is "year", "term", "month", "week", "risk_night" or None (no tasks of its own);
    the target is ``count`` in each of ``buckets``.
    """

    promise: str
    target: int | None
    joint_target: int = 0
    per: str | None = None
    count: int = 0
    buckets: int = 0


@dataclass(frozen=True)
class Shortfall:
    """A promise whose target can no longer be met: how many tasks are still possible."""

    promise: str
    target: int
    reachable: int
    joint_target: int = 0
    joint_reachable: int = 0


@dataclass
class Plan:
    """A year's plan for one promise set."""

    municipality: str
    year: int
    tasks: list[PlannedTask]
    targets: dict[str, Target]
    shortfalls: list[Shortfall] = field(default_factory=list)

    def tasks_of(self, promise_id: str) -> list[PlannedTask]:
        """The tasks of one promise, in time order."""
        return sorted((t for t in self.tasks if t.promise == promise_id), key=lambda t: t.start)
