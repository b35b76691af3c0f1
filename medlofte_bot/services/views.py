"""Plain values that use cases hand out: never an ORM row, never a session."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Generic, TypeVar

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
class MemberView:
    """A member as the chat layer needs them: who, which role, which language."""

    id: int
    telegram_id: int
    name: str
    role: Role
    language: str
    team: str | None = None

    @property
    def is_partner(self) -> bool:
        """Partners get join buttons, not the police's done/move/cancel."""
        return self.role == Role.PARTNER


@dataclass(frozen=True)
class Answer(Generic[T]):
    """A use case's result with the member it was for (their language renders it)."""

    member: MemberView
    value: T


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
    return MemberView(row.id, row.telegram_id, row.display_name, Role(row.role), row.language,
                      team)
