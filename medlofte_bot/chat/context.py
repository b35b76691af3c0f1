"""What the chat handlers are given: sessions, promise sets, the clock, the coordinators."""

from __future__ import annotations

from dataclasses import dataclass, field
from zoneinfo import ZoneInfo

from sqlalchemy.orm import Session, sessionmaker
from telegram.ext import ContextTypes

from medlofte_bot.domain.promise_set import PromiseSet
from medlofte_bot.scheduling.clock import Clock
from medlofte_bot.services.tasks import NOTE_MAX


@dataclass
class Deps:
    """Everything a handler needs, wired once in bootstrap."""

    sessions: sessionmaker[Session]
    sets: dict[tuple[str, int], PromiseSet]
    clock: Clock
    admin_ids: frozenset[int] = frozenset()
    worker: str = "bot"
    text_max: int = NOTE_MAX
    stats: dict[str, int] = field(default_factory=dict)

    @property
    def tz(self) -> ZoneInfo:
        """The area's time zone, for what belongs to no one task (summaries, their dates)."""
        return next(iter(self.sets.values())).tz if self.sets else ZoneInfo("Europe/Stockholm")


def deps(context: ContextTypes.DEFAULT_TYPE) -> Deps:
    """The wired dependencies of the running application."""
    value = context.application.bot_data["deps"]
    assert isinstance(value, Deps)
    return value
