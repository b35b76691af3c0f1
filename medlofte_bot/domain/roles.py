"""Roles and need-to-know: who may see and do what. Pure rules, one place."""

from __future__ import annotations

from dataclasses import dataclass

from medlofte_bot.domain.states import LEADERS, POLICE_ROLES, Role

ROLES: tuple[str, ...] = tuple(r.value for r in Role)
__all__ = ["POLICE_ROLES", "ROLES", "Role", "TaskFacts", "Viewer", "can_act", "can_join",
           "can_see"]


@dataclass(frozen=True)
class Viewer:
    """The facts about a member that access rules need."""

    role: str
    team_id: int | None = None
    municipality_id: int | None = None
    partner_role: str | None = None
    area: frozenset[int] | None = None  # the municipalities of a chief's police area; None: all


@dataclass(frozen=True)
class TaskFacts:
    """The facts about a task that access rules need."""

    kind: str
    visibility: str
    team_id: int | None
    municipality_id: int
    invited: tuple[str, ...]
    status: str


def can_see(viewer: Viewer, task: TaskFacts) -> bool:
    """Need-to-know: police-only tasks never reach partners, done or not.

    Chiefs and coordinators see all of their police area (coordinators named in the
    settings, with no municipality, see every area); officers their team's tasks;
    partners the risk nights and the tasks their role is invited to, in their
    municipality. Partners learn of police-only work only as counts in summaries.
    """
    if viewer.role in LEADERS:
        return viewer.area is None or task.municipality_id in viewer.area
    if viewer.role == Role.OFFICER:
        return task.team_id is not None and task.team_id == viewer.team_id
    if viewer.role != Role.PARTNER or task.visibility == "police":
        return False
    if viewer.municipality_id != task.municipality_id:
        return False
    return task.visibility == "public" or (
        viewer.partner_role is not None and viewer.partner_role in task.invited
    )


def can_act(viewer: Viewer, task: TaskFacts) -> bool:
    """Who may confirm, move or cancel a task: police who may see it."""
    return viewer.role in POLICE_ROLES and can_see(viewer, task)


def can_join(viewer: Viewer, task: TaskFacts) -> bool:
    """Partners answer invitations to tasks their role is invited to."""
    return viewer.role == Role.PARTNER and can_see(viewer, task) and task.status == "pending"
