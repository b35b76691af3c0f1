"""Plain values that use cases hand out: never an ORM row, never a session."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Generic, TypeVar

from medlofte_bot.domain.policy import Place, Viewer, is_police
from medlofte_bot.domain.states import MessageKind, Role
from medlofte_bot.storage import models as m

T = TypeVar("T")


@dataclass(frozen=True)
class Actor:
    """Who sent an update, as Telegram says: the only thing chat knows of a person."""

    telegram_id: int
    name: str
    language: str = "sv"


@dataclass(frozen=True)
class ChatRef:
    """The chat an update came from: a private chat or a group (a team's, if registered)."""

    chat_id: int
    private: bool


@dataclass(frozen=True)
class MemberView:
    """A member as the chat layer needs them: who, which role, which language."""

    id: int
    telegram_id: int
    name: str
    role: Role
    language: str
    team: str | None = None
    police: bool = True  # police get done/move/cancel buttons, partners join/decline
    partner: str | None = None  # a partner's role as the promise set words it, and where


@dataclass(frozen=True)
class Answer(Generic[T]):
    """A use case's result with the member it was for (their language renders it) and where
    the policy lets it be shown: here, in the member's private chat, or nowhere."""

    member: MemberView
    value: T
    place: Place = Place.HERE


@dataclass(frozen=True)
class SentRecord:
    """A message the bot sent about a task, to be found again when someone replies to it."""

    chat_id: int
    message_id: int
    kind: MessageKind
    task_id: int | None
    member_id: int | None


def member_view(row: m.Member, with_team: bool = False) -> MemberView:
    """A member row as a plain value (with the team's name only when asked: one query)."""
    team = row.team.name if with_team and row.team is not None else None
    return member_value(row.id, row.telegram_id, row.display_name, row.role, row.language,
                        row.active, team)


def member_value(member_id: int, telegram_id: int, name: str, role: str, language: str,
                 active: bool, team: str | None = None) -> MemberView:
    """A member's columns as a plain value (``member_view`` for a row)."""
    return MemberView(member_id, telegram_id, name, Role(role), language, team,
                      is_police(Viewer(role, active=active)))
