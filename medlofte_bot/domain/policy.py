"""Need-to-know at one gate: who may see, do, receive and invite what. Pure rules.

Every handler and the outbox ask these functions; no role check lives anywhere else. The
facts they take are plain values (a ``Viewer`` for the person, ``TaskFacts``,
``PromiseFacts``, ``ChatFacts``), so the whole table of role x visibility x action is
tested without a database (tests/unit/test_policy.py).

The rules, in words:

- Police-only work (planned narcotics operations, unannounced inspections) is seen by
  police roles only: never by a partner, done or not, not even as a count or a pace.
- Chiefs and coordinators see their police area (a coordinator named in the settings, with
  no municipality, sees every area); officers see their team's tasks; partners see the
  risk nights and the joint tasks their role is invited to, in their municipality.
- Only police act on a task (confirm, move, cancel); partners answer invitations.
- Police content goes to a private chat, or to a group registered as a team's group and
  then only that team's tasks. Anything wider (the promises, the summary) is answered in
  private when asked in a group. Strangers get nothing in groups.
- A coordinator invites and manages members of their own police area only.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from enum import StrEnum
from typing import TypeVar

from medlofte_bot.domain.states import LEADERS, POLICE_ROLES, Role, TaskStatus, Visibility

ROLES: tuple[str, ...] = tuple(r.value for r in Role)
W = TypeVar("W")


@dataclass(frozen=True)
class Viewer:
    """The facts about a member that access rules need."""

    role: str
    team_id: int | None = None
    municipality_id: int | None = None
    partner_role: str | None = None
    area: frozenset[int] | None = None  # the municipalities of a leader's police area; None: all
    active: bool = True


@dataclass(frozen=True)
class TaskFacts:
    """The facts about a task that access rules need."""

    kind: str
    visibility: str
    team_id: int | None
    municipality_id: int
    invited: tuple[str, ...]
    status: str


@dataclass(frozen=True)
class PromiseFacts:
    """The facts about a promise that access rules need."""

    visibility: str
    municipality_id: int


@dataclass(frozen=True)
class ChatFacts:
    """Where a message would be shown: a private chat, or a group (a team's, if registered)."""

    private: bool
    team_id: int | None = None  # the team whose registered group this is


class Action(StrEnum):
    """What a member can do to a task."""

    CONFIRM = "confirm"
    MOVE = "move"
    CANCEL = "cancel"
    FOLLOW_UP = "follow_up"
    JOIN = "join"


class Shows(StrEnum):
    """What an answer shows, for deciding where it may be shown."""

    NOTHING_SECRET = "nothing_secret"  # help, language, a welcome
    TEAM_TASKS = "team_tasks"  # /mina, /plan: tasks, each of one team
    AREA = "area"  # /status, /rapport, invites: the promises of a municipality or area


class Place(StrEnum):
    """Where an answer goes."""

    HERE = "here"
    PRIVATE = "private"  # in the asker's private chat; the group is told so
    SILENT = "silent"


def is_police(viewer: Viewer) -> bool:
    """Officers, chiefs and coordinators."""
    return viewer.active and viewer.role in POLICE_ROLES


def is_leader(viewer: Viewer) -> bool:
    """Chiefs and coordinators: the area's view, the summary."""
    return viewer.active and viewer.role in LEADERS


def is_coordinator(viewer: Viewer) -> bool:
    """Coordinators: invites, groups, members."""
    return viewer.active and viewer.role == Role.COORDINATOR


def is_partner(viewer: Viewer) -> bool:
    """Municipal partners: what they are invited to, never police-only work."""
    return viewer.active and viewer.role == Role.PARTNER


def has_area(role: str) -> bool:
    """Chiefs and coordinators answer for a whole police area (officers for a team,
    partners for their municipality)."""
    return role in LEADERS


def team_only(viewer: Viewer) -> int | None:
    """The one team whose tasks are all this viewer may see, if so narrow (an officer)."""
    return viewer.team_id if viewer.role == Role.OFFICER else None


def in_area(viewer: Viewer, municipality_id: int | None) -> bool:
    """Whether a municipality lies in a leader's police area (no area: every one)."""
    return viewer.area is None or (municipality_id is not None
                                   and municipality_id in viewer.area)


def can_see(viewer: Viewer, task: TaskFacts) -> bool:
    """Need-to-know for one task (see the module's rules)."""
    if not viewer.active:
        return False
    if viewer.role in LEADERS:
        return in_area(viewer, task.municipality_id)
    if viewer.role == Role.OFFICER:
        return task.team_id is not None and task.team_id == viewer.team_id
    if viewer.role != Role.PARTNER or task.visibility == Visibility.POLICE:
        return False
    if viewer.municipality_id != task.municipality_id:
        return False
    return task.visibility == Visibility.PUBLIC or (
        viewer.partner_role is not None and viewer.partner_role in task.invited)


def can_act(viewer: Viewer, task: TaskFacts, action: Action = Action.CONFIRM) -> bool:
    """Police who may see a task confirm, move, cancel and follow it up; a partner answers
    an invitation to a pending task she may see."""
    if action == Action.JOIN:
        return (is_partner(viewer) and can_see(viewer, task)
                and task.status == TaskStatus.PENDING)
    return is_police(viewer) and can_see(viewer, task)


def can_see_promise(viewer: Viewer, promise: PromiseFacts) -> bool:
    """A promise's line (count, pace, counters): partners never see police-only promises.

    Leaders see their area's; officers and partners their own municipality's.
    """
    if not viewer.active:
        return False
    if viewer.role in LEADERS:
        return in_area(viewer, promise.municipality_id)
    if viewer.role == Role.PARTNER and promise.visibility == Visibility.POLICE:
        return False
    return viewer.municipality_id is not None and viewer.municipality_id == \
        promise.municipality_id


def can_read_summary(viewer: Viewer) -> bool:
    """The Monday summary on demand: chiefs and coordinators."""
    return is_leader(viewer)


def can_comment(viewer: Viewer, municipality_id: int) -> bool:
    """The coordinator's comment on a promise for the year report (/kommentar): chiefs and
    coordinators, for the municipalities of their own police area."""
    return is_leader(viewer) and in_area(viewer, municipality_id)


def year_report_version(viewer: Viewer) -> str | None:
    """Which year report a member gets in chat (/arsrapport): chiefs and coordinators the
    internal one, of their own area; everyone else none (the public version is published
    by the municipality, not handed out in chat)."""
    return "internal" if is_leader(viewer) else None


def gets_partner_summary(viewer: Viewer, partner_summary_on: bool) -> bool:
    """A partner gets the Monday summary when her municipality's promise set says so."""
    return is_partner(viewer) and partner_summary_on


def can_invite(viewer: Viewer, role: str, municipality_id: int | None) -> bool:
    """A coordinator invites any role into a municipality of their own police area."""
    return is_coordinator(viewer) and role in ROLES and in_area(viewer, municipality_id)


def can_manage(viewer: Viewer, member: Viewer) -> bool:
    """A coordinator lists, deactivates and changes members of their own police area.

    A member with no municipality (a coordinator from the settings) is managed only by
    another such coordinator.
    """
    if not is_coordinator(viewer):
        return False
    if member.municipality_id is None:
        return viewer.area is None
    return in_area(viewer, member.municipality_id)


def can_set_group(viewer: Viewer, team_municipality_id: int) -> bool:
    """A coordinator registers a group as a team's group, for a team of their area."""
    return is_coordinator(viewer) and in_area(viewer, team_municipality_id)


def gets_area_alert(viewer: Viewer, municipality_id: int | None) -> bool:
    """Alerts about a municipality's work (no partner yet, a member unreachable) go to the
    coordinators whose area it is."""
    return is_coordinator(viewer) and in_area(viewer, municipality_id)


def may_show_in_chat(chat: ChatFacts, task: TaskFacts) -> bool:
    """A task shown in a group: only in its own team's registered group."""
    return chat.private or (chat.team_id is not None and chat.team_id == task.team_id)


def answer_place(viewer: Viewer | None, chat: ChatFacts, shows: Shows) -> Place:
    """Where an answer to ``viewer`` goes when asked in ``chat``.

    Private chats get every answer (strangers their one sentence). In a group, strangers
    get nothing; what shows nothing secret is answered there; a team's tasks are answered
    in that team's registered group to the team's police; all else goes private.
    """
    if chat.private:
        return Place.HERE
    if viewer is None or not viewer.active:
        return Place.SILENT
    if shows == Shows.NOTHING_SECRET:
        return Place.HERE
    if (shows == Shows.TEAM_TASKS and chat.team_id is not None and is_police(viewer)
            and (viewer.role != Role.OFFICER or viewer.team_id == chat.team_id)):
        return Place.HERE
    return Place.PRIVATE


def task_answer_place(viewer: Viewer, chat: ChatFacts, task_team_id: int | None) -> Place:
    """Where the answer about one task goes (a confirmation, a move, a prompt): here in a
    private chat or in the task's own team group (to police), else in private."""
    if chat.private:
        return Place.HERE
    if not viewer.active:
        return Place.SILENT
    if is_police(viewer) and chat.team_id is not None and chat.team_id == task_team_id:
        return Place.HERE
    return Place.PRIVATE


def audience_role(audience: str) -> Role:
    """Whose private chats a reminder's audience means (team and assignees: officers)."""
    return {"team": Role.OFFICER, "assignees": Role.OFFICER, "partners": Role.PARTNER,
            "coordinators": Role.COORDINATOR}[audience]


def receives_reminder(viewer: Viewer, task: TaskFacts, audience: str) -> bool:
    """A reminder about ``task`` for ``audience`` goes to this member's private chat.

    Officers of the task's team; partners whose role is invited to it (and who may see
    it); coordinators whose area it lies in (the "no partner yet" alert).
    """
    if not viewer.active or viewer.role != audience_role(audience):
        return False
    if audience == "coordinators":
        return gets_area_alert(viewer, task.municipality_id)
    if audience == "partners":
        return (can_see(viewer, task) and viewer.partner_role is not None
                and viewer.partner_role in task.invited)
    return can_see(viewer, task)


def can_steer_joint(viewer: Viewer, task: TaskFacts) -> bool:
    """What to do about a joint task with no partner (ask the partners again, run it with
    police only): the chiefs and coordinators whose area it lies in."""
    return is_leader(viewer) and can_see(viewer, task)


def quiet_hours_for(viewer: Viewer, windows: Mapping[str, W], night: W | None = None
                    ) -> W | None:
    """The quiet hours a member's role has in the promise set (``windows``: role -> hours);
    for a notice that can wait, ``night`` when the role has none of its own."""
    return windows.get(viewer.role, night)


# --- the web view (issue 10): the same rules as in chat, for pages and the calendar feed ---


def can_use_web(viewer: Viewer) -> bool:
    """Any active member may log in to the web view; what they see there is decided below
    and by ``can_see`` / ``can_see_promise``, as in chat."""
    return viewer.active and viewer.role in ROLES


def sees_municipality(viewer: Viewer, municipality_id: int) -> bool:
    """Whose municipality's pages (the year report) a member reads: leaders their police
    area's, officers and partners their own municipality's. ``can_see_promise`` never says
    yes where this says no, so a reader of many municipalities may ask this first."""
    if not viewer.active:
        return False
    if viewer.role in LEADERS:
        return in_area(viewer, municipality_id)
    return viewer.municipality_id == municipality_id


def web_report_version(viewer: Viewer) -> str:
    """The year report on the web: chiefs and coordinators the internal version, everyone
    else the public one."""
    return "internal" if is_leader(viewer) else "public"


def report_shows_police_counts(viewer: Viewer, year_over: bool) -> bool:
    """The public report counts police-only work per quarter; before the year is over only
    police read those counts (a count that flips would date an operation)."""
    return is_police(viewer) or year_over


def sees_task_details(viewer: Viewer) -> bool:
    """A task's history in full (who confirmed, notes, reminders to others, who moved it):
    police. A partner reads the times, the state and the partners' answers, as in chat."""
    return is_police(viewer)


def may_reread_summary(viewer: Viewer, police_summary: bool) -> bool:
    """A Monday summary sent to this member, read again on the web: a police summary only
    while they are still police (a role changes; what they may read follows it)."""
    return viewer.active and (is_police(viewer) or not police_summary)


# --- secret details (issue 10, point 5): what may leave the web view ---


def carries_details(task: TaskFacts, secret_details: str) -> bool:
    """Whether a chat message (Telegram is a third-party cloud) may carry a task's details:
    its kind, time, place, team, car and notes. Always, unless the task is police-only and
    its promise set says ``secret_details = "web"``: then a message says only its number,
    that something is due or done, and links to its web page. Any other mode than "chat"
    keeps police-only details off chat (fails closed)."""
    return secret_details == "chat" or task.visibility != Visibility.POLICE


def chat_report_version(viewer: Viewer, secret_details: Iterable[str]) -> str | None:
    """The year report sent as a document in chat (/arsrapport): ``year_report_version``,
    but the public one when a promise set in it keeps police-only details off chat (the
    internal one dates every operation); the internal one is then read in the web view."""
    version = year_report_version(viewer)
    if version == "internal" and any(mode != "chat" for mode in secret_details):
        return "public"
    return version
