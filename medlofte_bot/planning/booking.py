"""Which team is busy when: the planner's guard against double booking."""

from __future__ import annotations

import bisect
from collections.abc import Iterable, Sequence
from datetime import UTC, datetime

from medlofte_bot.domain.plan import PlannedTask


class Booking:
    """Intervals per team, kept sorted; answers whether a team is free."""

    def __init__(self, tasks: Iterable[PlannedTask] = ()) -> None:
        self._busy: dict[str, list[tuple[datetime, datetime]]] = {}
        self._minutes: dict[str, float] = {}
        for task in tasks:
            self.add(task)

    def add(self, task: PlannedTask) -> None:
        """Book the task's team for the task's time."""
        # compare in UTC: aware times sharing one ZoneInfo compare by wall clock (DST nights)
        span = (task.start.astimezone(UTC), task.end.astimezone(UTC))
        bisect.insort(self._busy.setdefault(task.team, []), span)
        used = (task.end - task.start).total_seconds() / 60
        self._minutes[task.team] = self._minutes.get(task.team, 0.0) + used

    def is_free(self, team: str, start: datetime, end: datetime) -> bool:
        """Whether ``team`` has nothing booked overlapping [start, end)."""
        spans = self._busy.get(team, [])
        start, end = start.astimezone(UTC), end.astimezone(UTC)
        i = bisect.bisect_left(spans, (start, start))
        return all(not (s < end and start < e) for s, e in spans[max(i - 1, 0): i + 1])

    def free_team(self, teams: Sequence[str], start: datetime, end: datetime) -> str | None:
        """The least-loaded free team among ``teams`` (first in order on a tie), or None."""
        free = [t for t in teams if self.is_free(t, start, end)]
        if not free:
            return None
        return min(free, key=lambda t: (self._minutes.get(t, 0.0), teams.index(t)))
